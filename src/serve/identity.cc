// Which server a call may use (identity.h) and the per-user socket directory.
#include "identity.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "contract/socket_name.h"
#include "contract/unix_socket.h"
#include "serve.h"

extern char** environ;

namespace iso::serve {

namespace {

std::string own_executable() {
  char path[4096];
  const ssize_t size = readlink("/proc/self/exe", path, sizeof(path) - 1);
  if (size <= 0) return "/proc/self/exe";
  return std::string(path, static_cast<std::size_t>(size));
}

}  // namespace

const std::string& core_executable() {
  static const std::string own = own_executable();
  return own;
}

std::string build_key() {
  static const std::string key = [] {
    contract::Path text;
    contract::build_key(core_executable().c_str(), &text);
    return std::string(text.c_str(), text.size());
  }();
  return key;
}

std::vector<std::string> startup_environment(std::vector<std::string> environment) {
  std::erase_if(environment,
                [](const std::string& entry) { return !contract::is_startup_variable(entry.c_str()); });
  std::sort(environment.begin(), environment.end());
  return environment;
}

std::vector<std::string> startup_environment(char** environment) {
  std::vector<std::string> entries;
  for (char** entry = environment; *entry != nullptr; ++entry) entries.emplace_back(*entry);
  return startup_environment(std::move(entries));
}

void fill_closed_stdio() {
  for (int fd = 0; fd < 3; ++fd) {
    if (fcntl(fd, F_GETFD) >= 0) continue;
    const int null = open("/dev/null", O_RDWR);  // the lowest free number: `fd` itself
    if (null >= 0 && null != fd) {
      dup2(null, fd);
      close(null);
    }
  }
}

std::string socket_directory() {
  contract::Path path;
  contract::socket_directory(environ, geteuid(), &path);
  const std::string directory(path.c_str(), path.size());
  if (path.overflow()) throw ServeError("isolate: the socket directory's path is too long: " + directory);
  if (mkdir(directory.c_str(), 0700) != 0 && errno != EEXIST) {
    throw ServeError("isolate: cannot create the socket directory " + directory + ": " +
                     std::strerror(errno));
  }
  struct stat info {};
  std::string problem;
  if (lstat(directory.c_str(), &info) != 0) {
    problem = std::strerror(errno);
  } else {
    switch (contract::directory_problem(info, geteuid())) {
      case contract::DirectoryProblem::ok:
        return directory;
      case contract::DirectoryProblem::not_a_directory:
        problem = "not a directory";
        break;
      case contract::DirectoryProblem::other_owner:
        problem = "owned by uid " + std::to_string(info.st_uid);
        break;
      case contract::DirectoryProblem::open_mode:
        char mode[8];
        std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(info.st_mode & 07777));
        problem = std::string("mode ") + mode + ", not 0700";
        break;
    }
  }
  throw ServeError("isolate: the socket directory " + directory + " is not private (" + problem +
                   "); remove it or make it yours with mode 0700");
}

int connect_socket(const std::string& path) {
  const long fd = contract::connect_unix(path.c_str());
  if (fd >= 0) return static_cast<int>(fd);
  errno = static_cast<int>(-fd);
  return -1;
}

uid_t peer_uid(int socket) {
  const long uid = contract::peer_uid(socket);
  return uid < 0 ? static_cast<uid_t>(-1) : static_cast<uid_t>(uid);
}

}  // namespace iso::serve
