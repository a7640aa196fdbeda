// `isolate call`: hands python3's command line, with the caller's process
// state and stdio fds, to the warm server; forwards signals to the child it
// forks; becomes the child's exit status or death by signal. Runs before any
// of the CLI's option parsing and never starts Python: this process's own
// start-up is part of every call's latency.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "identity.h"
#include "isolate/serve.h"
#include "protocol.h"
#include "spawn.h"

extern char** environ;

namespace iso::serve {

namespace {

// Signals a terminal or a supervisor sends to the caller, meant for the script.
constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH, SIGUSR1, SIGUSR2, SIGCONT, SIGTSTP};

struct CallOptions {
  std::string socket;
  bool no_spawn = false;
  int first_arg = 0;  // python3's command line starts here
};

CallOptions parse_call_options(int argc, char** argv) {
  CallOptions options;
  int i = 0;
  for (; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--no-spawn") {
      options.no_spawn = true;
    } else if (arg == "--socket" && i + 1 < argc) {
      options.socket = argv[++i];
    } else if (arg.starts_with("--socket=")) {
      options.socket = std::string(arg.substr(9));
    } else if (arg == "--socket") {
      throw ServeError("isolate: call: --socket needs a path");
    } else {
      break;
    }
  }
  options.first_arg = i;
  return options;
}

// The caller's signal state, and the forwarded signals diverted to a signalfd
// until the call ends. The request carries the state from before the diversion.
class SignalState {
 public:
  SignalState() {
    sigprocmask(SIG_SETMASK, nullptr, &original_mask_);
    for (int signum = 1; signum <= 64; ++signum) {
      if (sigismember(&original_mask_, signum) == 1) blocked_ |= bit(signum);
      struct sigaction action {};
      if (sigaction(signum, nullptr, &action) == 0 && action.sa_handler == SIG_IGN) ignored_ |= bit(signum);
    }
    sigset_t forwarded;
    sigemptyset(&forwarded);
    for (const int signum : kForwarded) {
      if ((ignored_ & bit(signum)) == 0) sigaddset(&forwarded, signum);
    }
    sigprocmask(SIG_BLOCK, &forwarded, nullptr);
    fd_ = signalfd(-1, &forwarded, SFD_CLOEXEC | SFD_NONBLOCK);
  }
  void restore() const { sigprocmask(SIG_SETMASK, &original_mask_, nullptr); }
  int fd() const { return fd_; }
  std::uint64_t blocked() const { return blocked_; }
  std::uint64_t ignored() const { return ignored_; }

 private:
  static std::uint64_t bit(int signum) { return std::uint64_t{1} << (signum - 1); }
  sigset_t original_mask_{};
  std::uint64_t blocked_ = 0, ignored_ = 0;
  int fd_ = -1;
};

CallRequest describe_caller(const CallOptions& options, const std::vector<std::string>& preload, int argc,
                            char** argv, const SignalState& signals, std::uint8_t stdio_mask,
                            std::vector<int>* fds) {
  CallRequest request;
  request.build_key = build_key();
  request.check_preload = options.socket.empty();
  request.preload = preload;
  for (int i = options.first_arg; i < argc; ++i) request.args.emplace_back(argv[i]);
  for (char** entry = environ; *entry != nullptr; ++entry) request.environment.emplace_back(*entry);
  const mode_t mask = umask(0);
  umask(mask);
  request.umask = mask;
  request.blocked_signals = signals.blocked();
  request.ignored_signals = signals.ignored();
  for (int resource = 0; resource < RLIM_NLIMITS; ++resource) {
    rlimit limit{};
    if (getrlimit(static_cast<__rlimit_resource>(resource), &limit) != 0) continue;
    request.limits.push_back({static_cast<std::uint32_t>(resource), limit.rlim_cur, limit.rlim_max});
  }
  const int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (cwd < 0)
    throw ServeError(std::string("isolate: cannot open the working directory: ") + std::strerror(errno));
  fds->push_back(cwd);
  request.stdio_mask = stdio_mask;
  for (int fd = 0; fd < 3; ++fd) {
    if ((stdio_mask >> fd & 1) != 0) fds->push_back(fd);
  }
  return request;
}

// Dies of the child's signal, or takes its exit code.
int become(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (!WIFSIGNALED(wait_status)) return 1;
  const int signum = WTERMSIG(wait_status);
  const rlimit no_core{0, 0};
  setrlimit(RLIMIT_CORE, &no_core);  // the child's core, if any, is the one that matters
  signal(signum, SIG_DFL);
  sigset_t only;
  sigemptyset(&only);
  sigaddset(&only, signum);
  sigprocmask(SIG_UNBLOCK, &only, nullptr);
  raise(signum);
  return 128 + signum;
}

[[noreturn]] void run_cold(int argc, char** argv, const CallOptions& options, const SignalState& signals) {
  std::vector<char*> run_argv{const_cast<char*>("isolate"), const_cast<char*>("run")};
  for (int i = options.first_arg; i < argc; ++i) run_argv.push_back(argv[i]);
  run_argv.push_back(nullptr);
  signals.restore();
  execv(core_executable().c_str(), run_argv.data());
  std::fprintf(stderr, "isolate: cannot run 'isolate run': %s\n", std::strerror(errno));
  _exit(1);
}

class Child {
 public:
  void started(const Frame& frame) {
    Reader in(frame.payload);
    pid_ = static_cast<pid_t>(in.u32());
    if (!frame.fds.empty()) pidfd_ = frame.fds[0];
    for (const int signum : pending_) send(signum);
    pending_.clear();
  }
  void forward(int signum) {
    if (pid_ == 0) {
      pending_.push_back(signum);
      return;
    }
    send(signum);
    // Ctrl-Z: the child stops, then the caller, so that the shell sees a stopped job.
    if (signum == SIGTSTP) kill(getpid(), SIGSTOP);
  }

 private:
  void send(int signum) const {
#ifdef SYS_pidfd_send_signal
    if (pidfd_ >= 0 && syscall(SYS_pidfd_send_signal, pidfd_, signum, nullptr, 0) == 0) return;
    if (pidfd_ >= 0 && errno == ESRCH) return;  // already gone: the exit status is on its way
#endif
    kill(pid_, signum);
  }
  pid_t pid_ = 0;
  int pidfd_ = -1;
  std::vector<int> pending_;
};

int wait_for_child(int connection, const SignalState& signals, int argc, char** argv,
                   const CallOptions& options) {
  Child child;
  pollfd fds[2] = {{connection, POLLIN, 0}, {signals.fd(), POLLIN, 0}};
  while (true) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      throw ServeError(std::string("isolate: poll: ") + std::strerror(errno));
    }
    if ((fds[1].revents & POLLIN) != 0) {
      signalfd_siginfo info{};
      while (read(signals.fd(), &info, sizeof(info)) == static_cast<ssize_t>(sizeof(info))) {
        child.forward(static_cast<int>(info.ssi_signo));
      }
    }
    if (fds[0].revents == 0) continue;
    Frame frame;
    if (!read_frame(connection, kReplyMagic, &frame)) {
      throw ServeError(
          "isolate: the server closed the connection before the script ended (stopped or killed?)");
    }
    switch (frame.type) {
      case Type::started:
        child.started(frame);
        break;
      case Type::cold:
        if (const char* verbose = std::getenv("ISO_CALL_VERBOSE"); verbose != nullptr && *verbose == '1') {
          std::fprintf(stderr, "isolate: running cold: %s\n", frame.payload.c_str());
        }
        if (const char* strict = std::getenv("ISO_CALL_REQUIRE_WARM"); strict != nullptr && *strict == '1') {
          throw ServeError("isolate: no warm start: " + frame.payload);
        }
        run_cold(argc, argv, options, signals);
      case Type::error:
        throw ServeError(frame.payload);
      case Type::exit:
        return become(static_cast<int>(Reader(frame.payload).u32()));
      default:
        throw ServeError("isolate: an unexpected message from the server");
    }
  }
}

// A server of another user could read what a call hands it.
void check_owner(int fd, const std::string& path) {
  if (const uid_t owner = peer_uid(fd); owner != geteuid()) {
    close(fd);
    throw ServeError("isolate: the server at " + path + " belongs to uid " +
                     std::to_string(static_cast<long>(owner)) + ", not to you");
  }
}

int connect_checked(const std::string& path, bool no_spawn, const std::vector<std::string>& preload) {
  const int fd = no_spawn ? connect_socket(path) : connect_or_spawn(path, preload, spawned_idle_timeout());
  if (fd < 0) {
    throw ServeError("isolate: no server is running at " + path + " (" + std::strerror(errno) +
                     "); start one with 'isolate serve'");
  }
  check_owner(fd, path);
  return fd;
}

// Gone, or a zombie its parent has yet to reap.
bool process_gone(pid_t pid) {
  if (kill(pid, 0) != 0) return errno == ESRCH;
  const std::string path = "/proc/" + std::to_string(pid) + "/stat";
  FILE* stat = std::fopen(path.c_str(), "r");
  if (stat == nullptr) return true;
  char state = '?';
  const int fields = std::fscanf(stat, "%*d (%*[^)]) %c", &state);
  std::fclose(stat);
  return fields == 1 && (state == 'Z' || state == 'X');
}

// --status and --stop: the server's answer, or nullopt when none runs at `path`.
std::optional<Frame> control_request(const std::string& path, Type type) {
  const int fd = connect_socket(path);
  if (fd < 0) {
    std::fprintf(stderr, "isolate: no server is running at %s\n", path.c_str());
    return std::nullopt;
  }
  check_owner(fd, path);
  Frame reply;
  const bool answered = send_header(fd, type, 0) && read_frame(fd, kReplyMagic, &reply);
  close(fd);
  if (!answered) throw ServeError("isolate: the server closed the connection without an answer");
  if (reply.type == Type::error) throw ServeError(reply.payload);
  return reply;
}

}  // namespace

int call_main(int argc, char** argv) {
  // Before anything opens an fd: a closed 0-2 of the caller must stay closed
  // in the child (python3 has sys.stdin None), not pass as this process's file.
  const std::uint8_t stdio_mask = fill_closed_stdio();
  try {
    const CallOptions options = parse_call_options(argc, argv);
    const std::vector<std::string> preload =
        options.socket.empty() ? configured_preload() : std::vector<std::string>{};
    const std::string path = options.socket.empty() ? default_socket_path(preload) : options.socket;
    const SignalState signals;
    // Described before connecting: the server reads the header as soon as it accepts.
    std::vector<int> fds;
    const std::string payload =
        encode(describe_caller(options, preload, argc, argv, signals, stdio_mask, &fds));
    const int connection = connect_checked(path, options.no_spawn, preload);
    if (!send_header(connection, Type::call, static_cast<std::uint32_t>(payload.size())) ||
        !send_payload(connection, payload, fds)) {
      throw ServeError("isolate: cannot send the request to " + path + ": " + std::strerror(errno));
    }
    close(fds[0]);
    return wait_for_child(connection, signals, argc, argv, options);
  } catch (const ServeError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}

int print_status(const std::string& path, bool json) {
  try {
    const std::optional<Frame> reply = control_request(path, Type::status);
    if (!reply) return 3;
    if (json) {
      std::printf("%s\n", reply->payload.c_str());
      return 0;
    }
    const nlohmann::json status = nlohmann::json::parse(reply->payload);
    std::string preload;
    for (const auto& name : status["preload"])
      preload += (preload.empty() ? "" : ", ") + name.get<std::string>();
    std::printf("isolate serve: running (pid %d)\n", status["pid"].get<int>());
    std::printf("  socket        %s\n", status["socket"].get<std::string>().c_str());
    std::printf("  python        %s (%s)\n", status["python"].get<std::string>().c_str(),
                status["executable"].get<std::string>().c_str());
    std::printf("  preload       %s\n", preload.empty() ? "none" : preload.c_str());
    std::printf("  uptime        %.0f s\n", status["uptime_s"].get<double>());
    std::printf("  requests      %llu served, %llu running\n", status["requests"].get<unsigned long long>(),
                status["running"].get<unsigned long long>());
    const double idle = status["idle_timeout_s"].get<double>();
    if (idle > 0) {
      std::printf("  idle timeout  %.0f s\n", idle);
    } else {
      std::printf("  idle timeout  none\n");
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}

int stop_server(const std::string& path) {
  try {
    const std::optional<Frame> reply = control_request(path, Type::stop);
    if (!reply) return 0;
    const auto pid = static_cast<pid_t>(Reader(reply->payload).u32());
    // The server exits once its running requests have finished.
    for (int waited_ms = 0; waited_ms < 10'000; waited_ms += 10) {
      if (process_gone(pid)) {
        std::fprintf(stderr, "isolate: stopped the server at %s (pid %d)\n", path.c_str(),
                     static_cast<int>(pid));
        return 0;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::fprintf(stderr,
                 "isolate: the server (pid %d) stopped listening and exits when its running requests end\n",
                 static_cast<int>(pid));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}

}  // namespace iso::serve
