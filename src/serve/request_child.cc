// One request, in a child forked from the warm server: it takes on the
// caller's working directory, umask, limits, environment, stdio and signal
// mask, then lets the warm interpreter become the caller's python3.
//
// Until the child reports "started" nothing of the request has run, so any
// reason to refuse a warm start (a setting fixed at initialisation, a
// different start-up environment) can still send the caller to a cold
// `isolate run` without a visible difference.
#include "request_child.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "identity.h"
#include "protocol.h"
#include "warm/warm.h"

extern char** environ;

namespace iso::serve {

namespace {

// How long a spare waits for a connected caller's header before leaving the
// connection to the server, which waits without holding a spare.
constexpr int kHeaderWaitMs = 100;

[[noreturn]] void refuse(int connection, Type type, const std::string& message, int status) {
  send_frame(connection, type, message);
  std::fflush(nullptr);
  _exit(status);
}

CallRequest read_request(int connection, std::uint32_t length, std::vector<int>* fds) {
  // A caller that sent a header and then nothing must not keep a child
  // forever: read_exact gives up after 10 s.
  std::string payload(length, '\0');
  if (length > 0 && !read_exact(connection, payload.data(), length, fds)) {
    throw ServeError(std::string("isolate: the request did not arrive whole: ") + std::strerror(errno));
  }
  return decode_call(payload);
}

std::string first_difference(const std::vector<std::string>& request,
                             const std::vector<std::string>& server) {
  const auto name = [](const std::string& entry) { return entry.substr(0, entry.find('=')); };
  for (const std::string& entry : request) {
    if (std::find(server.begin(), server.end(), entry) == server.end()) return name(entry);
  }
  for (const std::string& entry : server) {
    if (std::find(request.begin(), request.end(), entry) == request.end()) return name(entry);
  }
  return {};
}

// Only the limits the caller's differ in: most calls have the server's.
void apply_limits(const std::vector<Limit>& limits, const std::vector<Limit>& current) {
  for (const Limit& limit : limits) {
    const bool same = std::any_of(current.begin(), current.end(), [&](const Limit& have) {
      return have.resource == limit.resource && have.soft == limit.soft && have.hard == limit.hard;
    });
    if (same) continue;
    const auto resource = static_cast<__rlimit_resource>(limit.resource);
    rlimit wanted{static_cast<rlim_t>(limit.soft), static_cast<rlim_t>(limit.hard)};
    if (setrlimit(resource, &wanted) == 0) continue;
    // The server's hard limit is lower than the caller's: keep it, and the
    // caller's soft limit where it fits.
    rlimit have{};
    if (getrlimit(resource, &have) != 0) continue;
    wanted.rlim_max = have.rlim_max;
    if (wanted.rlim_cur > wanted.rlim_max) wanted.rlim_cur = wanted.rlim_max;
    setrlimit(resource, &wanted);
  }
}

// fds[0] is the caller's working directory, then its open stdio fds in order.
bool take_process_state(CallRequest& request, const std::vector<int>& fds, const ServerFacts& server) {
  const std::size_t expected = 1 + static_cast<std::size_t>(__builtin_popcount(request.stdio_mask & 7));
  if (fds.size() != expected) return false;
  if (fchdir(fds[0]) != 0) return false;
  close(fds[0]);
  umask(static_cast<mode_t>(request.umask & 0777));
  apply_limits(request.limits, server.limits);
  // The caller's environ as it was, repeated names and all, as python3 gets
  // it (os.environ keeps the first). The request outlives the process.
  static std::vector<char*> entries;
  for (std::string& entry : request.environment) entries.push_back(entry.data());
  entries.push_back(nullptr);
  environ = entries.data();
  std::size_t next = 1;
  for (int fd = 0; fd < 3; ++fd) {
    if ((request.stdio_mask >> fd & 1) == 0) {
      close(fd);  // closed in the caller: sys.stdX is None there too
      continue;
    }
    if (dup2(fds[next], fd) < 0) return false;
    close(fds[next++]);
  }
  return true;
}

// The child tells its caller its exit status itself, just before _exit():
// the caller is done then, without waiting for the kernel to tear this
// process down and the server to reap it. The connection stays open in the
// child for that, at a number the script could reuse, so it is checked to
// still be this socket first.
int g_report_fd = -1;
ino_t g_report_inode = 0;

void report_exit(int exit_status) {
  struct stat now {};
  if (g_report_fd < 0 || fstat(g_report_fd, &now) != 0 || !S_ISSOCK(now.st_mode) ||
      now.st_ino != g_report_inode) {
    return;  // the script closed it: the server reports instead
  }
  // A wait status: exited with it.
  send_frame(g_report_fd, Type::exit, u32_payload(static_cast<std::uint32_t>((exit_status & 0xff) << 8)));
}

// A call's header, already sent (the caller sends it right after connecting):
// read it, leaving the payload. Anything else stays unread, for the server.
bool call_header_arrived(int connection, std::uint32_t* length) {
  pollfd readable{connection, POLLIN, 0};
  if (poll(&readable, 1, kHeaderWaitMs) <= 0) return false;
  unsigned char raw[kHeaderSize];
  if (recv(connection, raw, kHeaderSize, MSG_PEEK) != static_cast<ssize_t>(kHeaderSize)) return false;
  const Header header = decode_header(raw);
  if (!header.valid(kRequestMagic) || header.type != Type::call) return false;
  if (recv(connection, raw, kHeaderSize, 0) != static_cast<ssize_t>(kHeaderSize)) return false;
  *length = header.length;
  return true;
}

int open_own_pidfd() {
#ifdef SYS_pidfd_open
  return static_cast<int>(syscall(SYS_pidfd_open, getpid(), 0));
#else
  return -1;
#endif
}

}  // namespace

void run_request(int connection, std::uint32_t length, const ServerFacts& server) {
  // The request dies with the server (a killed server cannot report its status).
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != server.server_pid) _exit(1);

  std::vector<int> fds;
  CallRequest request;
  try {
    request = read_request(connection, length, &fds);
  } catch (const ServeError& e) {
    refuse(connection, Type::error, e.what(), 2);
  }
  if (request.build_key != server.build_key) {
    refuse(connection, Type::error,
           "isolate: this server runs another isolate build (" + server.build_key +
               "); stop it with 'isolate serve --stop'",
           2);
  }
  if (request.check_preload && request.preload != server.preload) {
    refuse(connection, Type::error, "isolate: this server preloads another list of modules", 2);
  }
  if (const std::string name =
          first_difference(startup_environment(request.environment), server.startup_environment);
      !name.empty()) {
    refuse(connection, Type::cold, "the caller's " + name + " differs from the server's", 0);
  }
  if (!take_process_state(request, fds, server)) {
    refuse(connection, Type::error,
           std::string("isolate: cannot take on the caller's process: ") + std::strerror(errno), 1);
  }
  // python3 refuses a directory as stdin with a fatal error at start-up.
  struct stat input {};
  if (fstat(STDIN_FILENO, &input) == 0 && S_ISDIR(input.st_mode)) {
    refuse(connection, Type::cold, "stdin is a directory", 0);
  }

  const warm::Start start = warm::prepare(request.args, request.ignored_signals);
  if (start.outcome == warm::Start::Outcome::cold) refuse(connection, Type::cold, start.cold_reason, 0);
  if (start.outcome == warm::Start::Outcome::exited) {
    std::fflush(nullptr);
    _exit(start.exit_code);
  }

  const int pidfd = open_own_pidfd();
  send_frame(connection, Type::started, u32_payload(static_cast<std::uint32_t>(getpid())),
             pidfd >= 0 ? std::vector<int>{pidfd} : std::vector<int>{});
  if (pidfd >= 0) close(pidfd);
  struct stat socket_info {};
  if (fstat(connection, &socket_info) == 0) {
    g_report_fd = connection;
    g_report_inode = socket_info.st_ino;
  } else {
    close(connection);
  }

  sigset_t mask;
  sigemptyset(&mask);
  for (int signum = 1; signum <= 64; ++signum) {
    if ((request.blocked_signals >> (signum - 1) & 1) != 0) sigaddset(&mask, signum);
  }
  sigprocmask(SIG_SETMASK, &mask, nullptr);
  warm::run_and_exit(report_exit);
}

void run_spare(int listener, int control, const ServerFacts& server) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != server.server_pid) _exit(1);
  warm::pretouch();
  while (true) {
    pollfd ready[2] = {{listener, POLLIN, 0}, {control, POLLIN, 0}};
    if (poll(ready, 2, -1) < 0) {
      if (errno == EINTR) continue;
      _exit(1);
    }
    if (ready[1].revents != 0) _exit(0);  // the server is stopping
    // Non-blocking (the listener is the server's): another spare may have it.
    const int connection = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (connection < 0) continue;
    std::uint32_t length = 0;
    if (peer_uid(connection) != geteuid() || !call_header_arrived(connection, &length)) {
      // The server refuses, answers status and stop, and waits for slow headers.
      send_frame(control, Type::forwarded, {}, {connection});
      close(connection);
      continue;
    }
    if (!send_frame(control, Type::taken, {}, {connection})) {
      refuse(connection, Type::error, "isolate: the server is stopping", 1);
    }
    close(control);
    close(listener);
    run_request(connection, length, server);
  }
}

}  // namespace iso::serve
