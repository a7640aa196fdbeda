// The pool's log (src/pool/log.h, one write(2) per line) against the peer it
// replaced: spdlog's asynchronous logger (an 8192-line queue and one thread,
// writing lines with write(2) too), as the pool used it until issue 13.
//
// The pool logs a few lines per start (a worker ready, a worker process
// started or replaced), most of them below the default level. So the
// figures that matter are what the first call costs (the async logger
// creates its queue and thread there), what a call below the level costs,
// and what a line costs when it is shown. Output goes to /dev/null. Each
// measurement runs in a child forked for it, so that every first call meets
// a process that has not logged yet, as a pool's does.
//
//   build/bin/bench_pool_log [rounds]     medians of `rounds` runs, peer beside ours
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/async.h>
#include <spdlog/async_logger.h>
#include <spdlog/details/null_mutex.h>
#include <spdlog/sinks/base_sink.h>

#include "pool/log.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kCalls = 20000;

double us_since(Clock::time_point start) {
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

class WriteSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 public:
  explicit WriteSink(int fd) : fd_(fd) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    if (::write(fd_, line.data(), line.size()) < 0) return;
  }
  void flush_() override {}

 private:
  int fd_;
};

struct Figures {
  double first_us, disabled_ns, shown_us;
};

Figures spdlog_async(int fd) {
  const auto start = Clock::now();
  auto pool = std::make_shared<spdlog::details::thread_pool>(8192, 1);
  auto sink = std::make_shared<WriteSink>(fd);
  sink->set_pattern("isolate[%P]: %l: %v");
  auto logger =
      std::make_shared<spdlog::async_logger>("isolate", sink, pool, spdlog::async_overflow_policy::block);
  logger->set_level(spdlog::level::warn);
  logger->debug("worker {} ready", 0);
  Figures f{};
  f.first_us = us_since(start);
  const auto below = Clock::now();
  for (int i = 0; i < kCalls; ++i) logger->debug("worker {} ready", i);
  f.disabled_ns = us_since(below) * 1000 / kCalls;
  logger->set_level(spdlog::level::debug);
  const auto shown = Clock::now();
  for (int i = 0; i < kCalls; ++i) logger->debug("subinterp worker {} ready", i);
  logger->flush();
  logger.reset();
  pool.reset();  // joins the thread once the queue is written out
  f.shown_us = us_since(shown) / kCalls;
  return f;
}

Figures ours(int fd) {
  const auto start = Clock::now();
  const iso::pool::Log log("warn", fd);
  log.debug("worker {} ready", 0);
  Figures f{};
  f.first_us = us_since(start);
  const auto below = Clock::now();
  for (int i = 0; i < kCalls; ++i) log.debug("worker {} ready", i);
  f.disabled_ns = us_since(below) * 1000 / kCalls;
  const iso::pool::Log shown_log("debug", fd);
  const auto shown = Clock::now();
  for (int i = 0; i < kCalls; ++i) shown_log.debug("subinterp worker {} ready", i);
  f.shown_us = us_since(shown) / kCalls;
  return f;
}

// Runs `measure` in a forked child and brings its figures back.
template <class Measure>
Figures in_child(Measure measure, int fd) {
  int pipe_fds[2];
  Figures f{};
  if (pipe(pipe_fds) != 0) return f;
  const pid_t child = fork();
  if (child == 0) {
    const Figures measured = measure(fd);
    _exit(write(pipe_fds[1], &measured, sizeof measured) == static_cast<ssize_t>(sizeof measured) ? 0 : 1);
  }
  close(pipe_fds[1]);
  if (read(pipe_fds[0], &f, sizeof f) != static_cast<ssize_t>(sizeof f)) f = Figures{};
  close(pipe_fds[0]);
  waitpid(child, nullptr, 0);
  return f;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::max(1, std::atoi(argv[1])) : 7;
  const int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
  std::vector<double> peer[3], own[3];
  for (int round = 0; round < rounds; ++round) {  // interleaved
    const Figures p = in_child(spdlog_async, null);
    const Figures o = in_child(ours, null);
    peer[0].push_back(p.first_us), peer[1].push_back(p.disabled_ns), peer[2].push_back(p.shown_us);
    own[0].push_back(o.first_us), own[1].push_back(o.disabled_ns), own[2].push_back(o.shown_us);
  }
  std::printf("pool log, medians of %d interleaved rounds (%d calls each)\n", rounds, kCalls);
  std::printf("%-34s %14s %14s %8s\n", "", "spdlog async", "isolate", "ratio");
  const char* names[3] = {"first call (creation), us", "call below the level, ns", "line shown, us"};
  for (int k = 0; k < 3; ++k) {
    const double a = median(peer[k]), b = median(own[k]);
    std::printf("%-34s %14.3f %14.3f %7.1fx\n", names[k], a, b, b > 0 ? a / b : 0.0);
  }
  return 0;
}
