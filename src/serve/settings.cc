// The preload list (ISO_PRELOAD, --preload or serve.json) and the default
// socket path: the contract's rules (src/contract/socket_name.h), with the
// core's error messages and its JSON parser.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string_view>

#include "contract/socket_name.h"
#include "identity.h"
#include "serve.h"

extern char** environ;

namespace iso::serve {

namespace {

// contract::parse_preload's list, in a vector.
struct ModuleList {
  std::vector<std::string> modules;
  bool contains(const char* item, std::size_t size) const {
    return std::find(modules.begin(), modules.end(), std::string_view(item, size)) != modules.end();
  }
  bool add(const char* item, std::size_t size) {
    modules.emplace_back(item, size);
    return true;
  }
};

// The front (src/front/) reads no JSON: the core leaves it serve.json's list,
// checked, in the socket directory (contract::preload_cache_path).
void leave_for_the_front(const contract::Path& config, const struct stat& info,
                         const std::vector<std::string>& modules) {
  try {
    const std::string directory_text = socket_directory();
    contract::Path directory, cache;
    directory.add(directory_text.c_str());
    contract::preload_cache_path(directory, config, &cache);
    if (cache.overflow()) return;
    const std::string path = cache.c_str();
    const std::string temporary = path + ".tmp" + std::to_string(getpid());
    contract::Text<128> header;
    contract::add_preload_cache_header(&header, info);
    std::string joined;
    for (const std::string& module : modules) joined += (joined.empty() ? "" : ",") + module;
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << header.c_str() << joined;
    out.close();
    if (!out || std::rename(temporary.c_str(), path.c_str()) != 0) std::remove(temporary.c_str());
  } catch (const ServeError&) {
    // The directory is not private: the socket path says so to the user.
  }
}

}  // namespace

std::vector<std::string> parse_preload(const std::string& comma_separated, const std::string& source) {
  ModuleList list;
  const contract::PreloadParse parsed = contract::parse_preload(comma_separated.c_str(), list);
  if (parsed.status != contract::PreloadParse::Status::ok) {
    throw ServeError("isolate: " + source + ": '" + std::string(parsed.item, parsed.size) +
                     "' is not a module name");
  }
  return list.modules;
}

std::vector<std::string> configured_preload() {
  if (const char* value = std::getenv("ISO_PRELOAD"); value != nullptr)
    return parse_preload(value, "ISO_PRELOAD");
  contract::Path config;
  if (!contract::config_path(environ, &config) || config.overflow()) return {};
  const std::string path = config.c_str();
  struct stat before {};
  if (stat(path.c_str(), &before) != 0) return {};
  std::ifstream file(path);
  nlohmann::json settings;
  try {
    settings = nlohmann::json::parse(file);
  } catch (const nlohmann::json::exception& e) {
    throw ServeError("isolate: " + path + ": not valid JSON (" + e.what() + ")");
  }
  if (!settings.is_object()) throw ServeError("isolate: " + path + ": expected a JSON object");
  if (!settings.contains("preload")) return {};
  const nlohmann::json& preload = settings["preload"];
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
    leave_for_the_front(config, after, modules);
  }
  return modules;
}

std::string default_socket_path(const std::vector<std::string>& preload) {
  contract::Path key, path;
  const std::string key_text = build_key();
  key.add(key_text.c_str(), key_text.size());
  const std::string directory = socket_directory();
  path.add(directory.c_str(), directory.size());
  std::vector<const char*> names;
  for (const std::string& name : preload) names.push_back(name.c_str());
  contract::add_socket_name(key, {names.data(), names.size()}, environ, &path);
  if (path.overflow())
    throw ServeError("isolate: the socket path is too long: " + directory + "/serve-….sock");
  return path.c_str();
}

}  // namespace iso::serve
