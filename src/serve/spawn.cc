// Starting a server for `isolate call` when none answers (spawn.h).
#include "spawn.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "identity.h"
#include "serve.h"

namespace iso::serve {

namespace {

constexpr int kReadyTimeoutMs = 120'000;  // Python's start and the preload imports

// The grandchild: a new session, no terminal, default signal state, then
// `isolate serve` with a pipe to say when it listens.
[[noreturn]] void exec_server(const std::string& path, const std::vector<std::string>& preload,
                              double idle_timeout_s, int ready_fd) {
  setsid();
  if (fork() != 0) _exit(0);  // the server is nobody's child but init's
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int signum = 1; signum < 32; ++signum) {
    if (signum != SIGKILL && signum != SIGSTOP) signal(signum, SIG_DFL);
  }
  const int null = open("/dev/null", O_RDWR);
  for (int fd = 0; fd < 3; ++fd) dup2(null, fd);
  if (null > 2) close(null);
  std::string joined;
  for (const std::string& name : preload) joined += (joined.empty() ? "" : ",") + name;
  const std::string idle = std::to_string(idle_timeout_s);
  const std::string ready = std::to_string(ready_fd);
  const char* argv[] = {"isolate",    "serve",        "--socket",       path.c_str(),
                        "--preload",  joined.c_str(), "--idle-timeout", idle.c_str(),
                        "--ready-fd", ready.c_str(),  nullptr};
  execv(core_executable().c_str(), const_cast<char* const*>(argv));
  report_ready(ready_fd, std::string("isolate: cannot start the server: ") + std::strerror(errno));
  _exit(127);
}

std::string wait_until_ready(int ready) {
  std::string answer;
  char buffer[512];
  pollfd poller{ready, POLLIN, 0};
  while (poll(&poller, 1, kReadyTimeoutMs) > 0) {
    const ssize_t got = read(ready, buffer, sizeof(buffer));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    answer.append(buffer, static_cast<std::size_t>(got));
    if (answer.find('\n') != std::string::npos) break;  // one line: "ok" or the error
  }
  answer = answer.substr(0, answer.find('\n'));
  return answer;
}

class LockFile {
 public:
  explicit LockFile(const std::string& path) : fd_(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
    if (fd_ < 0) throw ServeError("isolate: cannot open the lock file " + path + ": " + std::strerror(errno));
    while (flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
    }
  }
  ~LockFile() { close(fd_); }
  LockFile(const LockFile&) = delete;
  LockFile& operator=(const LockFile&) = delete;

 private:
  int fd_;
};

}  // namespace

double spawned_idle_timeout() {
  const char* value = std::getenv("ISO_SERVE_IDLE_TIMEOUT");
  if (value == nullptr) return 900;
  char* end = nullptr;
  const double seconds = std::strtod(value, &end);
  if (end == value || *end != '\0' || seconds < 0) {
    throw ServeError(std::string("isolate: ISO_SERVE_IDLE_TIMEOUT must be a number of seconds, not '") +
                     value + "'");
  }
  return seconds;
}

int connect_or_spawn(const std::string& path, const std::vector<std::string>& preload,
                     double idle_timeout_s) {
  if (const int fd = connect_socket(path); fd >= 0) return fd;
  LockFile lock(path + ".lock");
  // Another caller may have started it while this one waited for the lock.
  if (const int fd = connect_socket(path); fd >= 0) return fd;

  int ready[2];
  if (pipe2(ready, O_CLOEXEC) != 0) throw ServeError(std::string("isolate: pipe: ") + std::strerror(errno));
  const pid_t child = fork();
  if (child < 0) throw ServeError(std::string("isolate: cannot start the server: ") + std::strerror(errno));
  if (child == 0) {
    close(ready[0]);
    const int keep = fcntl(ready[1], F_DUPFD, 3);  // without CLOEXEC: the server writes to it
    exec_server(path, preload, idle_timeout_s, keep);
  }
  close(ready[1]);
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  const std::string answer = wait_until_ready(ready[0]);
  close(ready[0]);
  if (answer != "ok") {
    throw ServeError(answer.empty() ? "isolate: the server did not start (no answer within 120 s)" : answer);
  }
  const int fd = connect_socket(path);
  if (fd < 0)
    throw ServeError("isolate: cannot connect to the new server at " + path + ": " + std::strerror(errno));
  return fd;
}

}  // namespace iso::serve
