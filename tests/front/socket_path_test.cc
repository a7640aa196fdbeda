// The front and the core must name the same server for the same caller: for
// a table of environments (start-up variables, repeats, ISO_PRELOAD,
// serve.json through the cache the core leaves), the front's find_socket()
// and the core's default_socket_path() agree. Both run here on libc.
#include "front/socket_path.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "contract/socket_name.h"
#include "serve/identity.h"
#include "serve/serve.h"
#include "support/scoped.h"

extern char** environ;

namespace {

using iso::contract::Path;
using iso::contract::PreloadList;
using iso::testing::TempDirectory;

// Makes `entries` the process's environ (repeats and all) for a scope.
class ScopedEnviron {
 public:
  explicit ScopedEnviron(std::vector<std::string> entries) : entries_(std::move(entries)), saved_(environ) {
    for (std::string& entry : entries_) pointers_.push_back(entry.data());
    pointers_.push_back(nullptr);
    environ = pointers_.data();
  }
  ~ScopedEnviron() { environ = saved_; }
  ScopedEnviron(const ScopedEnviron&) = delete;
  ScopedEnviron& operator=(const ScopedEnviron&) = delete;

 private:
  std::vector<std::string> entries_;
  std::vector<char*> pointers_;
  char** saved_;
};

Path key() {
  Path text;
  const std::string core_key = iso::serve::build_key();
  text.add(core_key.c_str(), core_key.size());
  return text;
}

// The front's socket for the current environ, or "" when it leaves the call to the core.
std::string front_socket() {
  PreloadList preload;
  Path path;
  if (!iso::front::find_socket(environ, key(), nullptr, &preload, &path)) return "";
  return path.c_str();
}

std::string core_socket() {
  return iso::serve::default_socket_path(iso::serve::configured_preload());
}

TEST(SocketName, TheBuildKeyIsTheContractsForTheCore) {
  Path text;
  iso::contract::build_key(iso::serve::core_executable().c_str(), &text);
  EXPECT_EQ(std::string(text.c_str()), iso::serve::build_key());
  EXPECT_NE(iso::serve::build_key().find("; binary "), std::string::npos);
}

TEST(SocketName, FrontAndCoreAgreeOnATableOfEnvironments) {
  TempDirectory runtime;
  const std::string xdg = "XDG_RUNTIME_DIR=" + runtime.path();
  const std::vector<std::vector<std::string>> table = {
      {xdg},
      {xdg, "HOME=/root", "PATH=/usr/bin"},
      {xdg, "PYTHONHASHSEED=0", "LC_ALL=C", "TZ=UTC", "LANG=C.UTF-8", "PYTHONUNBUFFERED=1"},
      {"TZ=Europe/Paris", xdg, "TZ=UTC", "LC_CTYPE=\xc3\xa9", "LC_CTYPE=z"},  // repeats, bytes >= 0x80
      {xdg, "ISO_PRELOAD=json, decimal ,json,,"},
      {xdg, "ISO_PRELOAD=", "LANG=C"},
      {xdg, "ISO_PRELOAD=csv", "ISO_PYMALLOC=malloc", "HOME=/h", "PYTHONPATH=/a:/b"},
      {xdg, "PYTHONPATH=" + std::string(3000, 'p')},
  };
  std::vector<std::string> names;
  for (const std::vector<std::string>& entries : table) {
    const ScopedEnviron scoped(entries);
    const std::string core = core_socket();
    EXPECT_EQ(front_socket(), core) << entries.back();
    names.push_back(core);
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(std::unique(names.begin(), names.end()), names.end()) << "two environments named one server";
  // Variables that do not matter to Python's start-up, and an empty list, name the same server.
  const ScopedEnviron plain({xdg});
  const std::string base = core_socket();
  const ScopedEnviron same({"USER=me", xdg, "ISO_PRELOAD=", "PATH=/x"});
  EXPECT_EQ(front_socket(), base);
  EXPECT_EQ(core_socket(), base);
}

TEST(SocketName, ServeJsonGoesThroughTheCoreOnceThenTheFrontReadsItsCopy) {
  TempDirectory runtime, config;
  mkdir((config.path() + "/isolate").c_str(), 0700);
  const std::string file = config.path() + "/isolate/serve.json";
  std::ofstream(file) << R"({"preload": ["json", "decimal"], "other": {"nested": [1]}})";
  const ScopedEnviron scoped(
      {"XDG_RUNTIME_DIR=" + runtime.path(), "XDG_CONFIG_HOME=" + config.path(), "TZ=UTC"});
  EXPECT_EQ(front_socket(), "") << "serve.json unread: the core's to read";
  const std::string core = core_socket();
  EXPECT_EQ(front_socket(), core);
  std::ofstream(file, std::ios::trunc) << R"({"preload": ["csv"]})";
  EXPECT_EQ(front_socket(), "") << "serve.json changed: the core's again";
  const std::string changed = core_socket();
  EXPECT_NE(changed, core);
  EXPECT_EQ(front_socket(), changed);
}

TEST(SocketName, BadSettingsAreLeftToTheCore) {
  TempDirectory runtime;
  {
    const ScopedEnviron scoped({"XDG_RUNTIME_DIR=" + runtime.path(), "ISO_PRELOAD=json,1bad"});
    EXPECT_EQ(front_socket(), "");
    EXPECT_THROW(core_socket(), iso::serve::ServeError);
  }
  mkdir((runtime.path() + "/isolate").c_str(), 0755);  // not private
  chmod((runtime.path() + "/isolate").c_str(), 0755);
  const ScopedEnviron scoped({"XDG_RUNTIME_DIR=" + runtime.path()});
  EXPECT_EQ(front_socket(), "");
  EXPECT_THROW(core_socket(), iso::serve::ServeError);
}

TEST(SocketName, AnExplicitSocketIsTakenAsGiven) {
  PreloadList preload;
  Path path;
  ASSERT_TRUE(iso::front::find_socket(environ, key(), "/some/where.sock", &preload, &path));
  EXPECT_STREQ(path.c_str(), "/some/where.sock");
  EXPECT_EQ(preload.list().count, 0u);
}

}  // namespace
