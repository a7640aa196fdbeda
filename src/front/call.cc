// `isolate call`, the client half: hands python3's command line, with the
// caller's process state and stdio fds, to a warm server's spare child;
// forwards signals to that child; becomes its exit status or death by signal.
//
// This is the common case only, with the server already listening. Whatever
// else a call needs (starting a server, reading serve.json, explaining a bad
// setting) the core does: the front execs it with the same command line, and
// the core execs the front again once a server listens (src/serve/client.cc).
#include "call.h"

#include "contract/call_request.h"
#include "contract/fd_passing.h"
#include "contract/invocation.h"
#include "contract/protocol.h"
#include "contract/unix_socket.h"
#include "socket_path.h"

namespace iso::front {

namespace {

namespace sys = contract::sys;
using contract::find_variable;
using contract::Text;
using contract::Type;

// Signals a terminal or a supervisor sends to the caller, meant for the script.
constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH, SIGUSR1, SIGUSR2, SIGCONT, SIGTSTP};
constexpr int kLimits = 16;  // RLIMIT_NLIMITS

struct Call {
  int argc = 0;
  char** argv = nullptr;
  char** envp = nullptr;
  const char* core = nullptr;
  contract::CallOptions options;  // no_spawn: set by the core too, then this front reports, not delegates
};

std::uint64_t bit(int signum) {
  return std::uint64_t{1} << (signum - 1);
}

void say(const char* a, const char* b = "", const char* c = "", const char* d = "") {
  Text<8192> line;
  line.add(a).add(b).add(c).add(d).add('\n');
  (void)sys::write(2, line.c_str(), line.size());
}

// The core does what this front does not: with the same command line, so
// nothing it sees differs from a call it got first.
[[noreturn]] void delegate(const Call& call) {
  sys::execve(call.core, call.argv, call.envp);
  say("isolate: cannot run the isolate core ", call.core);
  sys::exit(127);
}

// The front's own fds stay above 0-2: a closed stdio fd of the caller must
// stay closed in the child (python3 has sys.stdin None then).
long above_stdio(long fd) {
  if (fd < 0 || fd > 2) return fd;
  const long moved = sys::fcntl(static_cast<int>(fd), F_DUPFD_CLOEXEC, 3);
  sys::close(static_cast<int>(fd));
  return moved;
}

// The caller's signal state; the forwarded signals then go to a signalfd
// until the call ends. The request carries the state from before.
struct Signals {
  std::uint64_t original = 0, blocked = 0, ignored = 0;
  int fd = -1;

  void divert() {
    sys::sigprocmask(SIG_SETMASK, nullptr, &original);
    blocked = original;
    for (int signum = 1; signum <= 64; ++signum) {
      if (signum == 32 || signum == 33) continue;  // glibc's own, which its sigaction refuses
      sys::KernelSigaction action{};
      if (sys::sigaction(signum, nullptr, &action) == 0 && action.handler == SIG_IGN) ignored |= bit(signum);
    }
    std::uint64_t forwarded = 0;
    for (const int signum : kForwarded) {
      if ((ignored & bit(signum)) == 0) forwarded |= bit(signum);
    }
    sys::sigprocmask(SIG_BLOCK, &forwarded, nullptr);
    fd = static_cast<int>(above_stdio(sys::signalfd(forwarded)));
  }
  void restore() const { sys::sigprocmask(SIG_SETMASK, &original, nullptr); }
};

using Payload = Text<8u << 20>;

// The CallRequest that the core decodes (src/serve/protocol.cc), from this
// process as it is.
void describe(const Call& call, const Path& key, const PreloadList& preload, const Signals& signals,
              std::uint8_t stdio_mask, Payload* out) {
  contract::CallDescription request;
  request.build_key = {key.c_str(), key.size()};
  request.check_preload = call.options.socket == nullptr;
  request.preload = preload.list();
  request.args = {call.argv + call.options.first_arg,
                  static_cast<std::size_t>(call.argc - call.options.first_arg)};
  std::size_t variables = 0;
  while (call.envp[variables] != nullptr) ++variables;
  request.environment = {call.envp, variables};
  const long mask = sys::umask(0);
  sys::umask(static_cast<int>(mask));
  request.umask = static_cast<std::uint32_t>(mask);
  request.blocked_signals = signals.blocked;
  request.ignored_signals = signals.ignored;
  contract::Limit limits[kLimits];
  std::size_t count = 0;
  for (int resource = 0; resource < kLimits; ++resource) {
    rlimit limit{};
    if (sys::prlimit(resource, nullptr, &limit) == 0)
      limits[count++] = {static_cast<std::uint32_t>(resource), limit.rlim_cur, limit.rlim_max};
  }
  request.limits = {limits, count};
  request.stdio_mask = stdio_mask;
  contract::encode_call(request, out);
}

// A reply: a u32 (a pid, a wait status) or a message, NUL-terminated.
struct Frame {
  static constexpr std::size_t kCapacity = 16384;
  Type type = Type::error;
  unsigned char payload[kCapacity + 1] = {};
  std::size_t size = 0;
  int fd = -1;  // the pidfd that comes with "started"
  std::uint32_t u32() const {
    return static_cast<std::uint32_t>(size >= 4 ? contract::get_le(payload, 4) : 0);
  }
  const char* text() const { return reinterpret_cast<const char*>(payload); }
};

// Exactly `size` bytes; the first fd that comes with them, if any, in *fd.
bool read_exact(int socket, void* data, std::size_t size, int* fd) {
  const auto keep_first = [fd](int received) {
    if (*fd < 0) {
      *fd = received;
    } else {
      sys::close(received);
    }
  };
  return contract::receive_exact(socket, data, size, keep_first, -1) == static_cast<long>(size);
}

// false at EOF or on a frame this client cannot take.
bool read_frame(int socket, Frame* frame) {
  unsigned char raw[contract::kHeaderSize];
  frame->fd = -1;
  if (!read_exact(socket, raw, sizeof(raw), &frame->fd)) return false;
  const contract::Header header = contract::decode_header(raw);
  if (!header.valid(contract::kReplyMagic, Frame::kCapacity)) return false;
  frame->type = header.type;
  frame->size = header.length;
  if (frame->size > 0 && !read_exact(socket, frame->payload, frame->size, &frame->fd)) return false;
  frame->payload[frame->size] = '\0';
  return true;
}

// Dies of the child's signal, or takes its exit code.
[[noreturn]] void become(int wait_status) {
  const int signum = wait_status & 0x7f;
  if (signum == 0) sys::exit((wait_status >> 8) & 0xff);
  if (signum == 0x7f) sys::exit(1);  // stopped: not a status the server reports
  {
    const rlimit no_core{0, 0};
    sys::prlimit(RLIMIT_CORE, &no_core, nullptr);  // the child's core, if any, is the one that matters
    const sys::KernelSigaction default_action{};
    sys::sigaction(signum, &default_action, nullptr);
    const std::uint64_t only = bit(signum);
    sys::sigprocmask(SIG_UNBLOCK, &only, nullptr);
    sys::kill(static_cast<int>(sys::getpid()), signum);
  }
  sys::exit(128 + signum);
}

// A setting Python fixes at start-up: a fresh `isolate run` of the same line.
[[noreturn]] void run_cold(const Call& call, const Signals& signals) {
  char** argv = call.argv + call.options.first_arg - 2;  // "isolate", "call" and the options give way
  argv[0] = const_cast<char*>("isolate");
  argv[1] = const_cast<char*>("run");
  signals.restore();
  sys::execve(call.core, argv, call.envp);
  say("isolate: cannot run 'isolate run' with the isolate core ", call.core);
  sys::exit(1);
}

class Child {
 public:
  void started(const Frame& frame) {
    pid_ = static_cast<int>(frame.u32());
    pidfd_ = frame.fd;
    for (int i = 0; i < pending_count_; ++i) send(pending_[i]);
    pending_count_ = 0;
  }
  void forward(int signum) {
    if (pid_ == 0) {
      if (pending_count_ < kPending) pending_[pending_count_++] = signum;
      return;
    }
    send(signum);
    // Ctrl-Z: the child stops, then the caller, so that the shell sees a stopped job.
    if (signum == SIGTSTP) sys::kill(static_cast<int>(sys::getpid()), SIGSTOP);
  }

 private:
  void send(int signum) const {
    if (pidfd_ >= 0) {
      const long sent = sys::pidfd_send_signal(pidfd_, signum);
      if (sent == 0 || sent == -ESRCH) return;  // gone: the exit status is on its way
    }
    sys::kill(pid_, signum);
  }
  static constexpr int kPending = 32;
  int pid_ = 0;
  int pidfd_ = -1;
  int pending_[kPending] = {};
  int pending_count_ = 0;
};

// The errors a connect or an open here can meet; the core, with libc, says
// the rest.
const char* error_text(long error) {
  switch (-error) {
    case ENOENT:
      return "No such file or directory";
    case ECONNREFUSED:
      return "Connection refused";
    case EACCES:
      return "Permission denied";
    case ENOTDIR:
      return "Not a directory";
    case ENOTSOCK:
      return "Socket operation on non-socket";
    case ENAMETOOLONG:
      return "File name too long";
    default:
      return "an error";
  }
}

bool is_set(const Call& call, const char* variable) {
  const char* value = find_variable(call.envp, variable);
  return value != nullptr && value[0] == '1';
}

[[noreturn]] void fail(const char* a, const char* b = "", const char* c = "", const char* d = "") {
  say(a, b, c, d);
  sys::exit(1);
}

// What only a fresh interpreter can run, with the reason the user may ask for.
[[noreturn]] void go_cold(const Call& call, const Signals& signals, const char* reason) {
  if (is_set(call, "ISO_CALL_VERBOSE")) say("isolate: running cold: ", reason);
  if (is_set(call, "ISO_CALL_REQUIRE_WARM")) fail("isolate: no warm start: ", reason);
  run_cold(call, signals);
}

[[noreturn]] void wait_for_child(const Call& call, int connection, const Signals& signals) {
  Child child;
  static Frame frame;
  while (true) {
    pollfd ready[2] = {{connection, POLLIN, 0}, {signals.fd, POLLIN, 0}};
    const long polled = sys::poll(ready, 2, -1);
    if (polled == -EINTR) continue;
    if (polled < 0) fail("isolate: poll failed");
    if ((ready[1].revents & POLLIN) != 0) {
      signalfd_siginfo info{};
      while (sys::read(signals.fd, &info, sizeof(info)) == static_cast<long>(sizeof(info))) {
        child.forward(static_cast<int>(info.ssi_signo));
      }
    }
    if (ready[0].revents == 0) continue;
    if (!read_frame(connection, &frame)) {
      fail("isolate: the server closed the connection before the script ended (stopped or killed?)");
    }
    switch (frame.type) {
      case Type::started:
        child.started(frame);
        break;
      case Type::cold:
        go_cold(call, signals, frame.text());
      case Type::error:
        fail(frame.text());
      case Type::exit:
        become(static_cast<int>(frame.u32()));
      default:
        fail("isolate: an unexpected message from the server");
    }
  }
}

// What the core may mend (by starting a server) or explain goes to it; sent
// by the core (--no-spawn), this front says what is wrong itself.
[[noreturn]] void give_up(const Call& call, const Signals& signals, const char* a, const char* b,
                          const char* c, const char* d) {
  signals.restore();
  if (!call.options.no_spawn) delegate(call);
  fail(a, b, c, d);
}

// A connection to a server of this user.
int connect_to_server(const Call& call, const Path& path, const Signals& signals) {
  const long socket = above_stdio(contract::connect_unix(path.c_str()));
  if (socket == -ENAMETOOLONG) {
    give_up(call, signals, "isolate: the socket path ", path.c_str(), " is too long for a Unix socket", "");
  }
  if (socket < 0) {
    Text<64> reason;
    reason.add(" (").add(error_text(socket)).add(")");
    give_up(call, signals, "isolate: no server is running at ", path.c_str(), reason.c_str(),
            "; start one with 'isolate serve'");
  }
  const long owner = contract::peer_uid(static_cast<int>(socket));
  if (owner < 0) fail("isolate: cannot tell who runs the server at ", path.c_str());
  if (owner != sys::geteuid()) {
    Text<32> uid;
    uid.add_decimal(static_cast<std::uint64_t>(owner));
    fail("isolate: the server at ", path.c_str(), " belongs to uid ", uid.add(", not to you").c_str());
  }
  return static_cast<int>(socket);
}

}  // namespace

void call(int argc, char** argv, char** envp, const char* core) {
  Call call;
  call.argc = argc;
  call.argv = argv;
  call.envp = envp;
  call.core = core;
  call.options = contract::parse_call_options(argc, argv);
  if (call.options.socket_without_path) delegate(call);  // the core explains
  std::uint8_t stdio_mask = 0;                           // before this process opens anything
  for (int fd = 0; fd < 3; ++fd) {
    if (sys::fcntl(fd, F_GETFD) >= 0) stdio_mask |= static_cast<std::uint8_t>(1u << fd);
  }
  static Path key;
  contract::build_key(core, &key);
  static PreloadList preload;
  static Path path;
  // A bad setting, or serve.json's list still unread, is the core's.
  if (!find_socket(envp, key, call.options.socket, &preload, &path)) delegate(call);

  Signals signals;
  signals.divert();
  // Described before connecting: a spare reads the header as soon as it accepts.
  static Payload payload;
  describe(call, key, preload, signals, stdio_mask, &payload);
  if (payload.overflow())
    go_cold(call, signals, "the command line and environment are too large to hand over");
  const long cwd = above_stdio(sys::open(".", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (cwd < 0) go_cold(call, signals, "the working directory cannot be opened to hand over");
  const int socket = connect_to_server(call, path, signals);
  int fds[4] = {static_cast<int>(cwd)};
  unsigned count = 1;
  for (int fd = 0; fd < 3; ++fd) {
    if ((stdio_mask >> fd & 1) != 0) fds[count++] = fd;
  }
  unsigned char header[contract::kHeaderSize];
  contract::encode_header({contract::kRequestMagic, Type::call, contract::kProtocolVersion,
                           static_cast<std::uint32_t>(payload.size())},
                          header);
  if (contract::send_with_fds(socket, header, sizeof(header), nullptr, 0) != 0 ||
      contract::send_with_fds(socket, payload.c_str(), payload.size(), fds, count) != 0) {
    fail("isolate: cannot send the request to ", path.c_str());
  }
  sys::close(static_cast<int>(cwd));
  wait_for_child(call, socket, signals);
}

}  // namespace iso::front
