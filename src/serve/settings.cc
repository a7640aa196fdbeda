// The preload list (ISO_PRELOAD or serve.json) and the default socket path.
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "identity.h"
#include "isolate/serve.h"

extern char** environ;

namespace iso::serve {

namespace {

bool is_module_name(const std::string& name) {
  bool start = true;
  for (const char c : name) {
    if (c == '.') {
      if (start) return false;
      start = true;
      continue;
    }
    const auto u = static_cast<unsigned char>(c);
    if (!(std::isalpha(u) || c == '_' || (!start && std::isdigit(u)))) return false;
    start = false;
  }
  return !start;
}

std::string config_path() {
  const char* config_home = std::getenv("XDG_CONFIG_HOME");
  if (config_home != nullptr && config_home[0] == '/')
    return std::string(config_home) + "/isolate/serve.json";
  const char* home = std::getenv("HOME");
  if (home == nullptr || home[0] != '/') return {};
  return std::string(home) + "/.config/isolate/serve.json";
}

// FNV-1a: the socket name only has to tell configurations apart; the server
// checks the build key itself.
std::uint64_t fingerprint(const std::string& text) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

// The front (src/front/) reads no JSON: the core leaves it serve.json's list,
// checked, in the socket directory, one file per serve.json path, whose first
// line names the version of the file the list was read from.
void leave_for_the_front(const std::string& config, const struct stat& info,
                         const std::vector<std::string>& modules) {
  try {
    char name[40];
    std::snprintf(name, sizeof(name), "/preload-%016llx",
                  static_cast<unsigned long long>(fingerprint(config)));
    const std::string path = socket_directory() + name;
    const std::string temporary = path + ".tmp" + std::to_string(getpid());
    std::string joined;
    for (const std::string& module : modules) joined += (joined.empty() ? "" : ",") + module;
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << info.st_dev << ':' << info.st_ino << ' ' << info.st_size << ' ' << info.st_mtim.tv_sec << '.'
        << info.st_mtim.tv_nsec << '\n'
        << joined;
    out.close();
    if (!out || std::rename(temporary.c_str(), path.c_str()) != 0) std::remove(temporary.c_str());
  } catch (const ServeError&) {
    // The directory is not private: the socket path says so to the user.
  }
}

}  // namespace

std::vector<std::string> parse_preload(const std::string& comma_separated, const std::string& source) {
  std::vector<std::string> modules;
  std::stringstream items(comma_separated);
  std::string item;
  while (std::getline(items, item, ',')) {
    const auto first = item.find_first_not_of(" \t");
    if (first == std::string::npos) continue;
    item = item.substr(first, item.find_last_not_of(" \t") - first + 1);
    if (!is_module_name(item))
      throw ServeError("isolate: " + source + ": '" + item + "' is not a module name");
    if (std::find(modules.begin(), modules.end(), item) == modules.end()) modules.push_back(item);
  }
  return modules;
}

std::vector<std::string> configured_preload() {
  if (const char* value = std::getenv("ISO_PRELOAD"); value != nullptr)
    return parse_preload(value, "ISO_PRELOAD");
  const std::string path = config_path();
  struct stat before {};
  if (path.empty() || stat(path.c_str(), &before) != 0) return {};
  std::ifstream file(path);
  nlohmann::json config;
  try {
    config = nlohmann::json::parse(file);
  } catch (const nlohmann::json::exception& e) {
    throw ServeError("isolate: " + path + ": not valid JSON (" + e.what() + ")");
  }
  if (!config.is_object()) throw ServeError("isolate: " + path + ": expected a JSON object");
  if (!config.contains("preload")) return {};
  const nlohmann::json& preload = config["preload"];
  if (!preload.is_array())
    throw ServeError("isolate: " + path + ": \"preload\" must be a list of module names");
  std::string joined;
  for (const nlohmann::json& name : preload) {
    if (!name.is_string() || name.get<std::string>().find(',') != std::string::npos) {
      throw ServeError("isolate: " + path + ": \"preload\" must be a list of module names");
    }
    joined += name.get<std::string>() + ",";
  }
  std::vector<std::string> modules = parse_preload(joined, path);
  struct stat after {};
  if (stat(path.c_str(), &after) == 0 && after.st_ino == before.st_ino && after.st_size == before.st_size &&
      after.st_mtim.tv_sec == before.st_mtim.tv_sec && after.st_mtim.tv_nsec == before.st_mtim.tv_nsec) {
    leave_for_the_front(path, after, modules);
  }
  return modules;
}

std::string default_socket_path(const std::vector<std::string>& preload) {
  std::string identity = build_key();
  identity += '\n';
  for (const std::string& name : preload) identity += name + ",";
  identity += '\n';
  for (const std::string& variable : startup_environment(environ)) identity += variable + '\0';
  char name[40];
  std::snprintf(name, sizeof(name), "/serve-%016llx.sock",
                static_cast<unsigned long long>(fingerprint(identity)));
  return socket_directory() + name;
}

}  // namespace iso::serve
