// The pool's log: ISO_LOG's levels, the line format, one warning for a bad
// value, whole lines from many threads, and a forked child's lines.
#include "pool/log.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using iso::pool::Log;
using iso::pool::LogLevel;
using iso::pool::parse_log_level;

// A file the log writes to, read back whole.
class Sink {
 public:
  Sink() : file_(std::tmpfile()) {}
  ~Sink() { std::fclose(file_); }
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;
  int fd() const { return fileno(file_); }
  std::string contents() const {
    std::string out;
    char buffer[4096];
    ssize_t n = 0;
    while ((n = pread(fd(), buffer, sizeof buffer, static_cast<off_t>(out.size()))) > 0) {
      out.append(buffer, static_cast<std::size_t>(n));
    }
    return out;
  }

 private:
  std::FILE* file_;
};

std::string line(const char* level, const std::string& message, pid_t pid = getpid()) {
  return "isolate[" + std::to_string(pid) + "]: " + level + ": " + message + "\n";
}

TEST(PoolLog, ParsesTheIsoLogLevels) {
  EXPECT_EQ(parse_log_level("trace"), LogLevel::trace);
  EXPECT_EQ(parse_log_level("debug"), LogLevel::debug);
  EXPECT_EQ(parse_log_level("info"), LogLevel::info);
  EXPECT_EQ(parse_log_level("warn"), LogLevel::warn);
  EXPECT_EQ(parse_log_level("error"), LogLevel::error);
  EXPECT_EQ(parse_log_level("off"), LogLevel::off);
  for (const char* bad : {"", "WARN", "warning", "err", "verbose", "info ", "3"}) {
    EXPECT_EQ(parse_log_level(bad), std::nullopt) << bad;
  }
}

TEST(PoolLog, WritesFormattedLinesAtAndAboveItsLevel) {
  Sink sink;
  const Log log("info", sink.fd());
  log.info("hello {}", 42);
  log.debug("below the level");
  log.warn("careful");
  log.write(LogLevel::error, "broken: pipe");
  EXPECT_EQ(sink.contents(),
            line("info", "hello 42") + line("warning", "careful") + line("error", "broken: pipe"));
}

TEST(PoolLog, DefaultLevelIsWarn) {
  for (const char* unset : {static_cast<const char*>(nullptr), ""}) {
    Sink sink;
    const Log log(unset, sink.fd());
    log.info("hidden");
    log.warn("shown");
    EXPECT_EQ(sink.contents(), line("warning", "shown"));
  }
}

TEST(PoolLog, UnknownIsoLogGivesOneWarningAndTheDefault) {
  Sink sink;
  const Log log("loud", sink.fd());
  log.info("hidden");
  log.warn("shown");
  EXPECT_EQ(sink.contents(),
            line("warning", "ignoring ISO_LOG=loud (expected trace, debug, info, warn, error or off)") +
                line("warning", "shown"));
}

TEST(PoolLog, OffSilencesEverythingTraceShowsEverything) {
  Sink quiet, loud;
  const Log off("off", quiet.fd());
  off.write(LogLevel::error, "hidden");
  off.warn("hidden");
  EXPECT_EQ(quiet.contents(), "");
  const Log trace("trace", loud.fd());
  trace.write(LogLevel::trace, "t");
  trace.debug("d");
  EXPECT_EQ(loud.contents(), line("trace", "t") + line("debug", "d"));
}

TEST(PoolLog, ALongMessageIsCutNotSplit) {
  Sink sink;
  const Log log("info", sink.fd());
  log.info("{}", std::string(10000, 'x'));
  EXPECT_EQ(sink.contents(), line("info", std::string(4096, 'x')));
}

TEST(PoolLog, LinesFromManyThreadsStayWhole) {
  Sink sink;
  const Log log("info", sink.fd());
  constexpr int kThreads = 4;
  constexpr int kLines = 2000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&log, t] {
      for (int i = 0; i < kLines; ++i) log.info("thread {} line {}", t, i);
    });
  }
  for (std::thread& thread : threads) thread.join();
  std::istringstream in(sink.contents());
  std::vector<int> next(kThreads, 0);
  const std::string prefix = "isolate[" + std::to_string(getpid()) + "]: info: thread ";
  std::string text;
  int lines = 0;
  while (std::getline(in, text)) {
    ++lines;
    ASSERT_EQ(text.rfind(prefix, 0), 0u) << text;
    int t = -1;
    int i = -1;
    ASSERT_EQ(std::sscanf(text.c_str() + prefix.size(), "%d line %d", &t, &i), 2) << text;
    ASSERT_TRUE(t >= 0 && t < kThreads);
    EXPECT_EQ(i, next[t]++);  // each thread's lines in its order
  }
  EXPECT_EQ(lines, kThreads * kLines);
}

// Nothing is queued, so a child that leaves by _exit() has lost nothing, and
// its lines carry its own pid.
TEST(PoolLog, AForkedChildLogsAsItsParentDoes) {
  Sink sink;
  const Log log("info", sink.fd());
  log.info("parent before fork");
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    log.info("child {}", 1);
    log.debug("hidden");
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  log.info("parent after fork");
  EXPECT_EQ(sink.contents(), line("info", "parent before fork") + line("info", "child 1", child) +
                                 line("info", "parent after fork"));
}

}  // namespace
