// The core's settings: the preload list from ISO_PRELOAD and serve.json with
// its error messages, the start-up environment, and the socket directory's
// checks. The same rules in the front are compared in tests/front/.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "serve/identity.h"
#include "serve/serve.h"
#include "support/scoped.h"

namespace {

using iso::testing::ScopedVariable;
using iso::testing::TempDirectory;

using iso::serve::ServeError;

std::string error_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const ServeError& e) {
    return e.what();
  }
  return "no error";
}

TEST(Preload, ParsedAsTheContractSaysWithTheSourceInErrors) {
  EXPECT_EQ(iso::serve::parse_preload(" json ,decimal,,json", "ISO_PRELOAD"),
            (std::vector<std::string>{"json", "decimal"}));
  EXPECT_EQ(error_of([] { iso::serve::parse_preload("json, 1x", "--preload"); }),
            "isolate: --preload: '1x' is not a module name");
}

TEST(Preload, IsoPreloadWinsOverServeJson) {
  TempDirectory config;
  ScopedVariable home("XDG_CONFIG_HOME", config.path().c_str());
  mkdir((config.path() + "/isolate").c_str(), 0700);
  std::ofstream(config.path() + "/isolate/serve.json") << R"({"preload": ["json", "decimal"]})";
  {
    ScopedVariable preload("ISO_PRELOAD", "csv");
    EXPECT_EQ(iso::serve::configured_preload(), (std::vector<std::string>{"csv"}));
  }
  ScopedVariable unset("ISO_PRELOAD", nullptr);
  ScopedVariable runtime("XDG_RUNTIME_DIR", config.path().c_str());  // where the front's copy goes
  EXPECT_EQ(iso::serve::configured_preload(), (std::vector<std::string>{"json", "decimal"}));
}

TEST(Preload, BadServeJsonIsOneLineNamingTheFile) {
  TempDirectory config;
  ScopedVariable home("XDG_CONFIG_HOME", config.path().c_str());
  ScopedVariable unset("ISO_PRELOAD", nullptr);
  mkdir((config.path() + "/isolate").c_str(), 0700);
  const std::string file = config.path() + "/isolate/serve.json";
  const auto with = [&](const char* text) {
    std::ofstream(file, std::ios::trunc) << text;
    return error_of([] { iso::serve::configured_preload(); });
  };
  EXPECT_EQ(with("[1]"), "isolate: " + file + ": expected a JSON object");
  EXPECT_EQ(with(R"({"preload": "json"})"),
            "isolate: " + file + ": \"preload\" must be a list of module names");
  EXPECT_EQ(with(R"({"preload": ["a,b"]})"),
            "isolate: " + file + ": \"preload\" must be a list of module names");
  EXPECT_EQ(with(R"({"preload": ["no-dash"]})"), "isolate: " + file + ": 'no-dash' is not a module name");
  EXPECT_EQ(with("{").rfind("isolate: " + file + ": not valid JSON (", 0), 0u);
  EXPECT_EQ(with("{}"), "no error");
}

TEST(StartupEnvironment, OnlyTheStartupVariablesSorted) {
  EXPECT_EQ(iso::serve::startup_environment({"TZ=UTC", "PATH=/bin", "LC_ALL=C", "PYTHONPATH=/x", "HOME=/h",
                                             "USER=me", "LANG=C", "PYTHONPATH=/a"}),
            (std::vector<std::string>{"HOME=/h", "LANG=C", "LC_ALL=C", "PYTHONPATH=/a", "PYTHONPATH=/x",
                                      "TZ=UTC"}));
}

TEST(SocketDirectory, CreatedPrivateAndRefusedWhenOpen) {
  TempDirectory runtime;
  ScopedVariable variable("XDG_RUNTIME_DIR", runtime.path().c_str());
  const std::string directory = iso::serve::socket_directory();
  EXPECT_EQ(directory, runtime.path() + "/isolate");
  struct stat info {};
  ASSERT_EQ(stat(directory.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0700u);
  chmod(directory.c_str(), 0755);
  EXPECT_EQ(error_of([] { iso::serve::socket_directory(); }),
            "isolate: the socket directory " + directory +
                " is not private (mode 0755, not 0700); remove it or make it yours with mode 0700");
}

TEST(SocketPath, DependsOnPreloadAndStartupVariablesOnly) {
  TempDirectory runtime;
  ScopedVariable variable("XDG_RUNTIME_DIR", runtime.path().c_str());
  ScopedVariable tz("TZ", nullptr);
  const std::string plain = iso::serve::default_socket_path({});
  EXPECT_EQ(plain.rfind(runtime.path() + "/isolate/serve-", 0), 0u);
  EXPECT_EQ(plain.size(), runtime.path().size() + std::string("/isolate/serve-0123456789abcdef.sock").size());
  EXPECT_NE(iso::serve::default_socket_path({"json"}), plain);
  {
    ScopedVariable user("ISO_UNRELATED", "1");
    EXPECT_EQ(iso::serve::default_socket_path({}), plain);
  }
  ScopedVariable set_tz("TZ", "UTC");
  EXPECT_NE(iso::serve::default_socket_path({}), plain);
}

}  // namespace
