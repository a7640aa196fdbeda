// `isolate serve`: the warm interpreter's process. One thread, one epoll
// loop. It keeps spare children forked, which accept calls on its listener
// themselves and tell it which connection they took; it answers status and
// stop, refuses other uids, and while it has no spare, accepts calls and forks
// their children itself. It reports a child's wait status when the child
// could not. It never reads a request's payload or runs user code; the
// children do.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <vector>

#include "identity.h"
#include "isolate/python.h"
#include "protocol.h"
#include "request_child.h"
#include "serve.h"
#include "warm/warm.h"

extern char** environ;

namespace iso::serve {

namespace {

using Clock = std::chrono::steady_clock;

// A child forked before its request (request_child.h: run_spare).
struct Spare {
  pid_t pid = 0;
  int control = -1;  // the server's end: the spare says here what it accepted
  std::uint32_t serial = 0;
};

struct Connection {
  std::uint32_t serial = 0;  // tells a reused fd number's events from its predecessor's
  unsigned char header[kHeaderSize] = {};
  std::size_t received = 0;
  pid_t child = 0;  // 0 while the header is being read
};

class Server {
 public:
  Server(const ServerOptions& options, std::string path) : options_(options), path_(std::move(path)) {}
  ~Server();
  void start();  // throws ServeError
  int loop();

 private:
  void accept_connections();
  void adopt_connection(int fd);
  void on_connection(int fd, std::uint32_t events);
  void on_spare_message(pid_t pid);
  void became_child(int fd, pid_t pid);
  void watch_listener();
  void dispatch(int fd, const Header& header);
  void start_request(int fd, const Header& header);
  template <typename Body>
  pid_t fork_child(int keep_fd, bool keep_listener, Body body);
  void make_spares();
  bool is_spare(pid_t pid) const;
  void drop_spare(pid_t pid);
  void on_signal();
  void reap_children();
  void close_connection(int fd);
  void begin_stop();
  std::string status_json() const;

  ServerOptions options_;
  std::string path_;
  ServerFacts facts_;
  int listener_ = -1, epoll_ = -1, signals_ = -1;
  ino_t bound_inode_ = 0;
  bool stopping_ = false;
  bool listening_ = false;  // the listener is in the epoll set: no spare accepts
  std::unordered_map<int, Connection> connections_;
  std::unordered_map<pid_t, int> children_;  // pid -> connection fd, -1 once the caller left
  // Two spares: one takes a call while the other is still ready, and a new
  // one has a whole request's time to get ready.
  static constexpr std::size_t kSpares = 2;
  std::vector<Spare> spares_;
  int spare_deaths_ = 0;  // spares that died before a request: past a few, none are made
  std::uint64_t requests_ = 0;
  std::uint32_t serials_ = 0;
  std::time_t started_at_ = std::time(nullptr);
  Clock::time_point last_activity_ = Clock::now();
};

Server::~Server() {
  if (listener_ >= 0) begin_stop();
}

// An event carries the fd and its connection's serial: an event still queued
// for a closed connection must not reach the next one with the same fd.
void watch(int epoll, int fd, std::uint32_t events, int op = EPOLL_CTL_ADD, std::uint32_t serial = 0) {
  epoll_event event{};
  event.events = events;
  event.data.u64 = static_cast<std::uint64_t>(serial) << 32 | static_cast<std::uint32_t>(fd);
  epoll_ctl(epoll, op, fd, &event);
}

int listen_on(const std::string& path, ino_t* inode) {
  sockaddr_un address{};
  if (path.size() >= sizeof(address.sun_path)) {
    throw ServeError("isolate: the socket path " + path + " is too long for a Unix socket");
  }
  // start() found nobody answering here: a socket left by a server that died.
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    throw ServeError("isolate: cannot remove the stale socket " + path + ": " + std::strerror(errno));
  }
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0 || bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0 ||
      listen(fd, 512) != 0) {
    const std::string reason = std::strerror(errno);
    if (fd >= 0) close(fd);
    throw ServeError("isolate: cannot listen on " + path + ": " + reason);
  }
  struct stat info {};
  if (stat(path.c_str(), &info) == 0) *inode = info.st_ino;
  return fd;
}

void Server::start() {
  fill_closed_stdio();  // requests get fds 3 and up for what they receive
  // The signals the loop handles arrive through a signalfd; the children
  // restore the caller's mask before running anything.
  sigset_t mask;
  sigemptyset(&mask);
  for (const int signum : {SIGTERM, SIGINT, SIGHUP, SIGCHLD}) sigaddset(&mask, signum);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  signals_ = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  epoll_ = epoll_create1(EPOLL_CLOEXEC);
  if (signals_ < 0 || epoll_ < 0)
    throw ServeError(std::string("isolate: cannot start the server: ") + std::strerror(errno));

  // `isolate call` spawns servers under this lock; a spawned server is
  // covered by its spawner's.
  int lock = -1;
  if (options_.ready_fd < 0) {
    lock = open((path_ + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock >= 0) flock(lock, LOCK_EX);
  }
  try {
    if (const int live = connect_socket(path_); live >= 0) {
      close(live);
      throw ServeError("isolate: a server is already running at " + path_);
    }
    warm::initialize(options_.preload);
    listener_ = listen_on(path_, &bound_inode_);
  } catch (const std::exception&) {
    if (lock >= 0) close(lock);
    throw;
  }
  if (lock >= 0) close(lock);
  if (chdir("/") != 0) {
    // A server keeps no directory busy; failing that is harmless.
  }
  facts_.build_key = build_key();
  facts_.preload = options_.preload;
  facts_.startup_environment = startup_environment(environ);
  facts_.server_pid = getpid();
  for (int resource = 0; resource < RLIM_NLIMITS; ++resource) {
    rlimit limit{};
    if (getrlimit(static_cast<__rlimit_resource>(resource), &limit) == 0)
      facts_.limits.push_back({static_cast<std::uint32_t>(resource), limit.rlim_cur, limit.rlim_max});
  }
  watch(epoll_, signals_, EPOLLIN);
}

int Server::loop() {
  make_spares();  // after the ready report: a spare must not hold the spawner's pipe open
  watch_listener();
  epoll_event events[64];
  while (!stopping_ || !children_.empty()) {
    int timeout_ms = -1;
    if (options_.idle_timeout_s > 0 && !stopping_ && children_.empty() && connections_.empty()) {
      const auto idle = std::chrono::duration<double>(Clock::now() - last_activity_).count();
      if (idle >= options_.idle_timeout_s) {
        begin_stop();
        continue;
      }
      timeout_ms = static_cast<int>((options_.idle_timeout_s - idle) * 1000) + 1;
    }
    const int count = epoll_wait(epoll_, events, 64, timeout_ms);
    if (count < 0 && errno != EINTR) throw ServeError(std::string("isolate: epoll: ") + std::strerror(errno));
    for (int i = 0; i < count; ++i) {
      const int fd = static_cast<int>(events[i].data.u64 & 0xffffffffu);
      const auto serial = static_cast<std::uint32_t>(events[i].data.u64 >> 32);
      const auto spare = std::find_if(spares_.begin(), spares_.end(),
                                      [&](const Spare& s) { return s.control == fd && s.serial == serial; });
      if (fd == listener_) {
        accept_connections();
      } else if (fd == signals_) {
        on_signal();
      } else if (spare != spares_.end()) {
        on_spare_message(spare->pid);
      } else {
        if (const auto found = connections_.find(fd);
            found != connections_.end() && found->second.serial == serial) {
          on_connection(fd, events[i].events);
        }
      }
    }
  }
  return 0;
}

// Only while no spare accepts: the spares take calls without waking the server.
void Server::watch_listener() {
  const bool wanted = listener_ >= 0 && spares_.empty();
  if (wanted == listening_) return;
  if (wanted) {
    watch(epoll_, listener_, EPOLLIN);
  } else {
    epoll_ctl(epoll_, EPOLL_CTL_DEL, listener_, nullptr);
  }
  listening_ = wanted;
}

void Server::accept_connections() {
  while (listener_ >= 0) {
    const int fd = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return;  // EAGAIN, or a connection that went away
    adopt_connection(fd);
  }
}

// A connection this loop accepted, or one a spare forwarded unread.
void Server::adopt_connection(int fd) {
  last_activity_ = Clock::now();
  const uid_t uid = peer_uid(fd);
  if (uid != geteuid()) {
    send_frame(fd, Type::error,
               "isolate: refused: the server at " + path_ + " serves only uid " + std::to_string(geteuid()) +
                   ", not uid " + std::to_string(static_cast<long>(uid)));
    discard_unread(fd);
    close(fd);
    return;
  }
  connections_[fd].serial = ++serials_;
  watch(epoll_, fd, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_ADD, serials_);
  on_connection(fd, EPOLLIN);  // the header is usually there already
}

void Server::on_spare_message(pid_t pid) {
  const auto spare =
      std::find_if(spares_.begin(), spares_.end(), [&](const Spare& s) { return s.pid == pid; });
  if (spare == spares_.end()) return;
  Frame frame;
  bool got = false;
  try {
    got = read_frame(spare->control, kReplyMagic, &frame);
  } catch (const ServeError&) {
  }
  if (!got || frame.fds.size() != 1) {
    // Died before it took a call (a broken preload, a kill from outside), or
    // broke the protocol.
    for (const int fd : frame.fds) close(fd);
    kill(pid, SIGKILL);
    drop_spare(pid);
    ++spare_deaths_;
    return;
  }
  const int fd = frame.fds[0];
  if (frame.type == Type::forwarded) {
    adopt_connection(fd);
    return;
  }
  drop_spare(pid);
  last_activity_ = Clock::now();
  connections_[fd].serial = ++serials_;
  watch(epoll_, fd, EPOLLRDHUP, EPOLL_CTL_ADD, serials_);
  became_child(fd, pid);
}

void Server::on_connection(int fd, std::uint32_t events) {
  auto found = connections_.find(fd);
  if (found == connections_.end()) return;
  Connection& connection = found->second;
  if (connection.child != 0) {
    // The caller went away: its request goes with it.
    if ((events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
      kill(connection.child, SIGKILL);
      children_[connection.child] = -1;
      close_connection(fd);
    }
    return;
  }
  while (connection.received < kHeaderSize) {
    const ssize_t got =
        recv(fd, connection.header + connection.received, kHeaderSize - connection.received, 0);
    if (got > 0) {
      connection.received += static_cast<std::size_t>(got);
      continue;
    }
    if (got < 0 && (errno == EAGAIN || errno == EINTR)) return;
    close_connection(fd);  // EOF or an error before a whole header
    return;
  }
  const Header header = decode_header(connection.header);
  if (!header.valid(kRequestMagic)) {
    send_frame(fd, Type::error, "isolate: the server speaks another version of the serve protocol");
    close_connection(fd);
    return;
  }
  dispatch(fd, header);
}

void Server::dispatch(int fd, const Header& header) {
  switch (header.type) {
    case Type::call:
      if (stopping_) {
        send_frame(fd, Type::error, "isolate: the server is stopping");
        close_connection(fd);
        return;
      }
      start_request(fd, header);
      return;
    case Type::status:
      send_frame(fd, Type::status_reply, status_json());
      close_connection(fd);
      return;
    case Type::stop: {
      send_frame(fd, Type::stopping, u32_payload(static_cast<std::uint32_t>(getpid())));
      close_connection(fd);
      begin_stop();
      return;
    }
    default:
      send_frame(fd, Type::error, "isolate: the server does not know this request");
      close_connection(fd);
  }
}

// Forks a child of the warm interpreter that keeps, of the server's fds,
// only `keep_fd` (and the listener, for a spare), and runs `body` in it.
template <typename Body>
pid_t Server::fork_child(int keep_fd, bool keep_listener, Body body) {
  warm::before_fork();
  const pid_t pid = fork();
  if (pid == 0) {
    warm::after_fork_child();
    for (const auto& [other, unused] : connections_) {
      if (other != keep_fd) close(other);
    }
    for (const Spare& spare : spares_) {
      if (spare.control != keep_fd) close(spare.control);
    }
    if (listener_ >= 0 && !keep_listener) close(listener_);
    close(epoll_);
    close(signals_);
    body();
  }
  warm::after_fork_parent();
  return pid;
}

void Server::make_spares() {
  while (spares_.size() < kSpares && !stopping_ && spare_deaths_ <= 3) {
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) return;
    const pid_t pid = fork_child(pair[1], true, [&] {
      close(pair[0]);
      run_spare(listener_, pair[1], facts_);
    });
    close(pair[1]);
    if (pid < 0) {
      close(pair[0]);
      break;
    }
    spares_.push_back({pid, pair[0], ++serials_});
    watch(epoll_, pair[0], EPOLLIN, EPOLL_CTL_ADD, serials_);
  }
  watch_listener();
}

bool Server::is_spare(pid_t pid) const {
  return std::any_of(spares_.begin(), spares_.end(), [&](const Spare& s) { return s.pid == pid; });
}

void Server::drop_spare(pid_t pid) {
  const auto spare =
      std::find_if(spares_.begin(), spares_.end(), [&](const Spare& s) { return s.pid == pid; });
  if (spare == spares_.end()) return;
  epoll_ctl(epoll_, EPOLL_CTL_DEL, spare->control, nullptr);
  close(spare->control);
  spares_.erase(spare);
}

// With no spare to accept it, the server accepted the call: a fresh child.
void Server::start_request(int fd, const Header& header) {
  const pid_t pid = fork_child(fd, false, [&] { run_request(fd, header.length, facts_); });
  if (pid < 0) {
    send_frame(fd, Type::error, std::string("isolate: the server cannot fork: ") + std::strerror(errno));
    close_connection(fd);
    return;
  }
  // From now on only the caller's hang-up matters; the payload is the child's.
  watch(epoll_, fd, EPOLLRDHUP, EPOLL_CTL_MOD, connections_[fd].serial);
  became_child(fd, pid);
}

// `fd`'s call runs in child `pid`.
void Server::became_child(int fd, pid_t pid) {
  ++requests_;
  connections_[fd].child = pid;
  children_[pid] = fd;
  // The last spare went: the next call must not wait for a fork. Else the
  // refill waits for this call's end, so that the fork does not compete with
  // the child that just took the call.
  if (spares_.empty()) make_spares();
}

void Server::on_signal() {
  signalfd_siginfo info{};
  while (read(signals_, &info, sizeof(info)) == static_cast<ssize_t>(sizeof(info))) {
    if (info.ssi_signo == SIGCHLD) {
      reap_children();
    } else if (!stopping_) {
      begin_stop();
    } else {
      for (const auto& [pid, unused] : children_) kill(pid, SIGKILL);  // a second signal: do not wait
    }
  }
}

void Server::reap_children() {
  int status = 0;
  pid_t pid = 0;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    // A spare's messages come first: it may have taken a call and finished
    // it before the loop read that. Its end of the socket is closed now, so
    // reading stops at EOF, where the spare counts as one that died.
    while (is_spare(pid)) on_spare_message(pid);
    const auto found = children_.find(pid);
    if (found == children_.end()) continue;
    if (const int fd = found->second; fd >= 0) {
      send_frame(fd, Type::exit, u32_payload(static_cast<std::uint32_t>(status)));
      close_connection(fd);
    }
    children_.erase(found);
    last_activity_ = Clock::now();
  }
  make_spares();
}

void Server::close_connection(int fd) {
  // A child has read its own request already.
  if (const auto found = connections_.find(fd); found != connections_.end() && found->second.child == 0) {
    discard_unread(fd);
  }
  epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
  close(fd);
  connections_.erase(fd);
  last_activity_ = Clock::now();
}

void Server::begin_stop() {
  stopping_ = true;
  if (listener_ < 0) return;
  if (listening_) epoll_ctl(epoll_, EPOLL_CTL_DEL, listener_, nullptr);
  listening_ = false;
  close(listener_);  // the spares' copies go with them
  listener_ = -1;
  for (const Spare& spare : spares_) {
    epoll_ctl(epoll_, EPOLL_CTL_DEL, spare.control, nullptr);
    close(spare.control);  // a spare leaves on EOF
  }
  spares_.clear();
  // Only our own socket: a newer server may have replaced a stale one.
  struct stat info {};
  if (stat(path_.c_str(), &info) == 0 && info.st_ino == bound_inode_) unlink(path_.c_str());
  // Callers still connecting get EOF instead of waiting on a dead loop.
  for (auto it = connections_.begin(); it != connections_.end();) {
    if (it->second.child == 0) {
      epoll_ctl(epoll_, EPOLL_CTL_DEL, it->first, nullptr);
      close(it->first);
      it = connections_.erase(it);
    } else {
      ++it;
    }
  }
}

std::string Server::status_json() const {
  const python::BuildInfo& info = python::build_info();
  nlohmann::json status = {
      {"pid", getpid()},
      {"socket", path_},
      {"python", info.version},
      {"executable", info.executable},
      {"preload", options_.preload},
      {"started", started_at_},
      {"uptime_s", std::difftime(std::time(nullptr), started_at_)},
      {"requests", requests_},
      {"running", children_.size()},
      {"spares", spares_.size()},
      {"idle_timeout_s", options_.idle_timeout_s},
  };
  return status.dump();
}

}  // namespace

void report_ready(int fd, const std::string& message) {
  if (fd < 0) return;
  const std::string line = message + "\n";
  if (write(fd, line.data(), line.size()) < 0) {
    // The spawner gave up waiting; the server serves anyway.
  }
  close(fd);
}

int run_server(const ServerOptions& options) {
  std::string path;
  try {
    path = options.socket_path.empty() ? default_socket_path(options.preload) : options.socket_path;
    Server server(options, path);
    server.start();
    if (options.ready_fd >= 0) {
      report_ready(options.ready_fd, "ok");
    } else {
      std::string preload;
      for (const std::string& name : options.preload) preload += (preload.empty() ? "" : ",") + name;
      std::fprintf(stderr, "isolate: serving Python %s on %s (pid %d, preload: %s)\n",
                   python::build_info().version.data(), path.c_str(), static_cast<int>(getpid()),
                   preload.empty() ? "none" : preload.c_str());
    }
    return server.loop();
  } catch (const std::exception& e) {
    report_ready(options.ready_fd, e.what());
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}

}  // namespace iso::serve
