// Which server a call may use (identity.h) and the per-user socket directory.
#include "identity.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <utility>

#include "isolate/python.h"
#include "isolate/serve.h"
#include "isolate/version.h"
#include "protocol.h"

namespace iso::serve {

namespace {

std::string own_executable() {
  char path[4096];
  const ssize_t size = readlink("/proc/self/exe", path, sizeof(path) - 1);
  if (size <= 0) return "/proc/self/exe";
  return std::string(path, static_cast<std::size_t>(size));
}

// A rebuilt binary gets a new key: its file's identity, size and
// modification time stand in for its contents, which would take milliseconds
// to hash. The front (src/front/socket_path.cc) writes the same key.
std::string binary_identity() {
  const std::string& path = core_executable();
  struct stat info {};
  if (stat(path.c_str(), &info) != 0) return path;
  return std::to_string(info.st_dev) + ":" + std::to_string(info.st_ino) + " " +
         std::to_string(info.st_size) + " " + std::to_string(info.st_mtim.tv_sec) + "." +
         std::to_string(info.st_mtim.tv_nsec);
}

std::string check_private_directory(const std::string& path) {
  struct stat info {};
  if (lstat(path.c_str(), &info) != 0) return std::strerror(errno);
  if (!S_ISDIR(info.st_mode)) return "not a directory";
  if (info.st_uid != geteuid()) return "owned by uid " + std::to_string(info.st_uid);
  if ((info.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(info.st_mode & 07777));
    return std::string("mode ") + mode + ", not 0700";
  }
  return {};
}

}  // namespace

const std::string& core_executable() {
  static const std::string own = own_executable();
  return own;
}

std::string build_key() {
  static const std::string key = [] {
    const python::BuildInfo& info = python::build_info();
    return std::string("isolate ") + kVersion + " protocol " + std::to_string(kProtocolVersion) +
           "; python " + std::string(info.version) + " " + std::string(info.executable) + "; binary " +
           binary_identity();
  }();
  return key;
}

bool is_startup_variable(const char* entry) {
  const std::string_view text(entry);
  const std::string_view name = text.substr(0, text.find('='));
  return name.starts_with("PYTHON") || name.starts_with("LC_") || name == "LANG" || name == "TZ" ||
         name == "HOME" || name == "ISO_PYMALLOC";
}

std::vector<std::string> startup_environment(std::vector<std::string> environment) {
  std::erase_if(environment, [](const std::string& entry) { return !is_startup_variable(entry.c_str()); });
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
  std::string directory;
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  if (runtime != nullptr && runtime[0] == '/') {
    directory = std::string(runtime) + "/isolate";
  } else {
    directory = "/tmp/isolate-" + std::to_string(geteuid());
  }
  if (mkdir(directory.c_str(), 0700) != 0 && errno != EEXIST) {
    throw ServeError("isolate: cannot create the socket directory " + directory + ": " +
                     std::strerror(errno));
  }
  // Another user could have made it first, to see or answer our calls.
  if (const std::string problem = check_private_directory(directory); !problem.empty()) {
    throw ServeError("isolate: the socket directory " + directory + " is not private (" + problem +
                     "); remove it or make it yours with mode 0700");
  }
  return directory;
}

int connect_socket(const std::string& path) {
  sockaddr_un address{};
  if (path.size() >= sizeof(address.sun_path)) {
    errno = ENAMETOOLONG;
    return -1;
  }
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  while (connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    if (errno == EINTR) continue;
    const int error = errno;
    close(fd);
    errno = error;
    return -1;
  }
  return fd;
}

uid_t peer_uid(int socket) {
  ucred credentials{};
  socklen_t size = sizeof(credentials);
  if (getsockopt(socket, SOL_SOCKET, SO_PEERCRED, &credentials, &size) != 0) return static_cast<uid_t>(-1);
  return credentials.uid;
}

}  // namespace iso::serve
