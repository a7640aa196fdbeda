// The front's side of the socket name (socket_path.h).
#include "socket_path.h"

#include "contract/sys.h"

namespace iso::front {

namespace {

namespace sys = contract::sys;

// The socket directory, created 0700 if missing; false when it is not
// private to the user.
bool private_directory(char** envp, Path* out) {
  const long uid = sys::geteuid();
  contract::socket_directory(envp, uid, out);
  if (out->overflow()) return false;
  const long made = sys::mkdir(out->c_str(), 0700);
  if (made < 0 && made != -EEXIST) return false;
  struct stat info {};
  return sys::lstat(out->c_str(), &info) == 0 &&
         contract::directory_problem(info, uid) == contract::DirectoryProblem::ok;
}

// serve.json's list, from the cache the core leaves while serve.json is
// unchanged; false when serve.json exists and its list is the core's to read.
bool config_preload(char** envp, const Path& directory, PreloadList* out) {
  Path config;
  if (!contract::config_path(envp, &config)) return true;  // no serve.json
  struct stat info {};
  const long found = config.overflow() ? -ENAMETOOLONG : sys::stat(config.c_str(), &info);
  if (found == -ENOENT || found == -ENOTDIR) return true;
  if (found != 0) return false;
  Path cache;
  contract::preload_cache_path(directory, config, &cache);
  const long fd = cache.overflow() ? -ENAMETOOLONG : sys::open(cache.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  static char list[8192];
  const long size = sys::read(static_cast<int>(fd), list, sizeof(list) - 1);
  sys::close(static_cast<int>(fd));
  if (size < 0 || size == static_cast<long>(sizeof(list) - 1)) return false;
  list[size] = '\0';
  contract::Text<128> header;
  contract::add_preload_cache_header(&header, info);
  if (!contract::starts_with(list, header.c_str())) return false;  // serve.json changed since
  return contract::parse_preload(list + header.size(), *out).status == contract::PreloadParse::Status::ok;
}

}  // namespace

bool find_socket(char** envp, const Path& key, const char* requested, PreloadList* preload, Path* path) {
  if (requested != nullptr) {
    path->add(requested);
    return !path->overflow();
  }
  if (!private_directory(envp, path)) return false;
  const char* listed = contract::find_variable(envp, "ISO_PRELOAD");
  const bool known = listed != nullptr ? contract::parse_preload(listed, *preload).status ==
                                             contract::PreloadParse::Status::ok
                                       : config_preload(envp, *path, preload);
  if (!known) return false;
  contract::add_socket_name(key, preload->list(), envp, path);
  return !path->overflow();
}

}  // namespace iso::front
