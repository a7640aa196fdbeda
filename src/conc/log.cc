// The single asynchronous log sink: see include/isolate/conc/log.h.
#include "isolate/conc/log.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include <spdlog/async_logger.h>
#include <spdlog/details/null_mutex.h>
#include <spdlog/details/thread_pool.h>
#include <spdlog/sinks/base_sink.h>

namespace iso::conc {
namespace {

constexpr std::size_t kQueueLines = 8192;
constexpr spdlog::level::level_enum kDefaultLevel = spdlog::level::warn;

// write(2) to fd 2 rather than fwrite(stderr): a fork() can leave stderr's
// FILE lock held by the logging thread, and the child's new logger would then
// block on it. No mutex: only the logger's one thread calls a sink.
class StderrSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 public:
  // Flush requests the logging thread has reached, in order (one thread, FIFO queue).
  std::atomic<std::uint64_t> flushed{0};

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    const char* p = line.data();
    std::size_t left = line.size();
    while (left > 0) {
      const ssize_t n = ::write(STDERR_FILENO, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // stderr closed or full: nothing better to do with a log line
      p += n;
      left -= static_cast<std::size_t>(n);
    }
  }
  void flush_() override {
    flushed.fetch_add(1, std::memory_order_release);
    flushed.notify_all();
  }
};

// A logger and the thread that drains its queue. On the heap, so that a fork
// child can abandon the parent's without running its destructor (which would
// join a thread that does not exist there).
struct Live {
  std::shared_ptr<spdlog::details::thread_pool> pool;
  std::shared_ptr<StderrSink> sink;
  std::shared_ptr<spdlog::async_logger> logger;  // declared last: dropped before the pool's join
  std::uint64_t flush_requests = 0;              // under State::mutex
};

// The fast path of logger(): one load.
constinit std::atomic<spdlog::logger*> g_current{nullptr};

struct State {
  std::mutex mutex;  // held to create or drop `live`, and across fork()
  Live* live = nullptr;
  Live* abandoned = nullptr;  // in a fork child, the parent's: never freed, kept reachable
  bool fork_child = false;    // a fork child keeps its parent's level instead of re-reading ISO_LOG
  spdlog::level::level_enum child_level = kDefaultLevel;
  bool hooks_installed = false;
};

// Never destroyed: a destructor of another static may still log during exit.
State& state() {
  static State* const s = new State;
  return *s;
}

void before_fork() {
  state().mutex.lock();
}
void after_fork_in_parent() {
  state().mutex.unlock();
}
void after_fork_in_child() {
  State& s = state();
  if (s.live != nullptr) {
    s.fork_child = true;
    s.child_level = s.live->logger->level();  // an atomic read: safe on the abandoned logger
    // Not freed: its thread is gone and its queue may be mid-update.
    s.abandoned = std::exchange(s.live, nullptr);
    g_current.store(nullptr, std::memory_order_relaxed);
  }
  s.mutex.unlock();
}

spdlog::level::level_enum to_spdlog(LogLevel level) {
  switch (level) {
    case LogLevel::trace:
      return spdlog::level::trace;
    case LogLevel::debug:
      return spdlog::level::debug;
    case LogLevel::info:
      return spdlog::level::info;
    case LogLevel::warn:
      return spdlog::level::warn;
    case LogLevel::error:
      return spdlog::level::err;
    case LogLevel::off:
      return spdlog::level::off;
  }
  return kDefaultLevel;
}

// The logging thread starts with every signal blocked, so that signals (Ctrl-C
// above all) reach the threads that handle them and interrupt their system calls.
std::shared_ptr<spdlog::details::thread_pool> start_thread() {
  sigset_t all;
  sigset_t old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  struct Restore {
    const sigset_t* mask;
    ~Restore() { pthread_sigmask(SIG_SETMASK, mask, nullptr); }
  } restore{&old};
  return std::make_shared<spdlog::details::thread_pool>(kQueueLines, 1);
}

// Called with s.mutex held and no logger.
void create(State& s) {
  if (!s.hooks_installed) {
    pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child);
    std::atexit(shutdown_logging);
    s.hooks_installed = true;
  }
  spdlog::level::level_enum level = kDefaultLevel;
  std::string rejected;
  if (s.fork_child) {
    level = s.child_level;
  } else if (const char* env = std::getenv("ISO_LOG"); env != nullptr && *env != '\0') {
    if (const std::optional<LogLevel> parsed = parse_log_level(env)) {
      level = to_spdlog(*parsed);
    } else {
      rejected = env;
    }
  }
  auto live = std::make_unique<Live>();
  live->pool = start_thread();
  live->sink = std::make_shared<StderrSink>();
  live->logger = std::make_shared<spdlog::async_logger>("isolate", live->sink, live->pool,
                                                        spdlog::async_overflow_policy::block);
  live->logger->set_pattern("isolate[%P]: %l: %v");  // no time fields: no localtime() in the thread
  live->logger->set_level(level);
  if (!rejected.empty()) {
    live->logger->warn("ignoring ISO_LOG={} (expected trace, debug, info, warn, error or off)", rejected);
  }
  s.live = live.release();
  g_current.store(s.live->logger.get(), std::memory_order_release);
}

}  // namespace

std::optional<LogLevel> parse_log_level(std::string_view text) noexcept {
  if (text == "trace") return LogLevel::trace;
  if (text == "debug") return LogLevel::debug;
  if (text == "info") return LogLevel::info;
  if (text == "warn") return LogLevel::warn;
  if (text == "error") return LogLevel::error;
  if (text == "off") return LogLevel::off;
  return std::nullopt;
}

spdlog::logger& logger() {
  if (spdlog::logger* const current = g_current.load(std::memory_order_acquire)) return *current;
  State& s = state();
  const std::lock_guard lock(s.mutex);
  if (s.live == nullptr) create(s);
  return *s.live->logger;
}

void flush_logging() {
  std::shared_ptr<StderrSink> sink;
  std::uint64_t ticket = 0;
  {
    // Posted under the lock, so a shutdown_logging() cannot drop the pool
    // first; it would drain the request before stopping its thread anyway.
    State& s = state();
    const std::lock_guard lock(s.mutex);
    if (s.live == nullptr) return;
    sink = s.live->sink;
    ticket = ++s.live->flush_requests;
    s.live->logger->flush();
  }
  for (std::uint64_t seen = sink->flushed.load(std::memory_order_acquire); seen < ticket;
       seen = sink->flushed.load(std::memory_order_acquire)) {
    sink->flushed.wait(seen, std::memory_order_acquire);
  }
}

void shutdown_logging() noexcept {
  State& s = state();
  Live* live = nullptr;
  {
    const std::lock_guard lock(s.mutex);
    live = std::exchange(s.live, nullptr);
    g_current.store(nullptr, std::memory_order_release);
    s.fork_child = false;
  }
  // Outside the lock: the pool's destructor writes out the queue and joins its thread.
  delete live;
}

}  // namespace iso::conc
