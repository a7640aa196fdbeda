// `isolate map`'s two ends: LineReader (lines, a last line without a newline,
// CRLF, "ready" without blocking, read errors) and OrderedWriter (results in
// any order out in input order, both formats, the errors file, a closed pipe).
#include "cli/map_io.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace {

using iso::cli::LineReader;
using iso::cli::OrderedWriter;
using iso::cli::OutputFormat;
using iso::pool::Result;

struct Pipe {
  int read = -1, write = -1;
  Pipe() {
    int fds[2];
    EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0);
    read = fds[0];
    write = fds[1];
  }
  ~Pipe() {
    close_write();
    if (read >= 0) close(read);
  }
  void close_write() {
    if (write >= 0) close(write);
    write = -1;
  }
  void put(const std::string& text) const {
    ASSERT_EQ(::write(write, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  }
  std::string drain() const {
    std::string out;
    char buffer[4096];
    ssize_t n = 0;
    while ((n = ::read(read, buffer, sizeof buffer)) > 0) out.append(buffer, static_cast<std::size_t>(n));
    return out;
  }
};

std::vector<std::string> all_lines(LineReader& reader) {
  std::vector<std::string> lines;
  while (std::optional<std::string> line = reader.next()) lines.push_back(*line);
  return lines;
}

TEST(LineReader, SplitsLinesAndKeepsALastOneWithoutNewline) {
  Pipe in;
  in.put("1\n{\"a\": 2}\r\n\nlast");
  in.close_write();
  LineReader reader(in.read);
  EXPECT_EQ(all_lines(reader), (std::vector<std::string>{"1", "{\"a\": 2}", "", "last"}));
  EXPECT_EQ(reader.next(), std::nullopt);
  EXPECT_EQ(reader.bytes_read(), 17u);
}

TEST(LineReader, EmptyInputHasNoLines) {
  Pipe in;
  in.close_write();
  LineReader reader(in.read);
  EXPECT_EQ(reader.next(), std::nullopt);
}

TEST(LineReader, LinesLongerThanOneReadArriveWhole) {
  Pipe in;
  const std::string long_line(200000, 'x');
  std::thread writer([&] {
    in.put(long_line + "\nshort\n");
    in.close_write();
  });
  LineReader reader(in.read);
  EXPECT_EQ(all_lines(reader), (std::vector<std::string>{long_line, "short"}));
  writer.join();
}

TEST(LineReader, ReadyTellsWhetherNextWouldWait) {
  Pipe in;
  LineReader reader(in.read);
  EXPECT_FALSE(reader.ready());  // nothing written yet: next() would block
  in.put("a\nb");
  EXPECT_TRUE(reader.ready());
  EXPECT_EQ(reader.next(), "a");
  EXPECT_FALSE(reader.ready());  // "b" has no newline yet, and nothing more is coming now
  in.close_write();
  EXPECT_TRUE(reader.ready());  // end of input
  EXPECT_EQ(reader.next(), "b");
  EXPECT_EQ(reader.next(), std::nullopt);
}

TEST(LineReader, AReadErrorIsAnException) {
  const int fd = open("/", O_RDONLY | O_DIRECTORY);  // read() on a directory: EISDIR
  ASSERT_GE(fd, 0);
  LineReader reader(fd);
  EXPECT_THROW(reader.next(), std::runtime_error);
  close(fd);
}

Result ok(std::uint64_t index) {
  return {index, true, std::to_string(index * index)};
}
Result failed(std::uint64_t index) {
  return {index, false, R"({"type": "ValueError", "message": "bad", "traceback": ""})"};
}

TEST(OrderedWriter, ResultsInAnyOrderLeaveInInputOrder) {
  Pipe out;
  std::vector<std::uint64_t> order(200);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937(7));
  {
    OrderedWriter writer(out.write, OutputFormat::values, -1);
    std::size_t lines = 0;
    for (std::uint64_t index : order) lines += writer.add(ok(index));
    EXPECT_EQ(lines, 200u);
    EXPECT_EQ(writer.written(), 200u);
    EXPECT_EQ(writer.pending(), 0u);
    EXPECT_EQ(writer.failed(), 0u);
    writer.flush();
  }
  out.close_write();
  std::string expected;
  for (std::uint64_t i = 0; i < 200; ++i) expected += std::to_string(i * i) + "\n";
  EXPECT_EQ(out.drain(), expected);
}

TEST(OrderedWriter, HoldsResultsUntilTheGapBeforeThemIsFilled) {
  Pipe out;
  OrderedWriter writer(out.write, OutputFormat::values, -1);
  EXPECT_EQ(writer.add(ok(2)), 0u);
  EXPECT_EQ(writer.add(ok(1)), 0u);
  EXPECT_EQ(writer.pending(), 2u);
  EXPECT_EQ(writer.written(), 0u);
  EXPECT_EQ(writer.add(ok(0)), 3u);
  EXPECT_EQ(writer.pending(), 0u);
  EXPECT_EQ(writer.written(), 3u);
}

// Ctrl-C: what is complete is written, and nothing after it, not even the
// items of a worker the interruption killed (they would fail as `null`).
TEST(OrderedWriter, AfterStopNothingMoreIsWritten) {
  Pipe out;
  {
    OrderedWriter writer(out.write, OutputFormat::values, -1);
    writer.add(ok(0));
    writer.add(ok(2));
    writer.stop();
    EXPECT_EQ(writer.add(failed(1)), 0u);
    EXPECT_EQ(writer.add(ok(3)), 0u);
    EXPECT_EQ(writer.written(), 1u);
    EXPECT_EQ(writer.failed(), 0u);
    writer.flush();
  }
  out.close_write();
  EXPECT_EQ(out.drain(), "0\n");
}

TEST(OrderedWriter, ValuesFormatWritesNullForAFailureAndRecordsTheError) {
  Pipe out, errors;
  {
    OrderedWriter writer(out.write, OutputFormat::values, errors.write);
    writer.add(ok(0));
    writer.add(failed(1));
    writer.add(ok(2));
    EXPECT_EQ(writer.failed(), 1u);
    writer.flush();
  }
  out.close_write();
  errors.close_write();
  EXPECT_EQ(out.drain(), "0\nnull\n4\n");
  EXPECT_EQ(errors.drain(), R"({"i": 1, "error": {"type": "ValueError", "message": "bad", "traceback": ""}})"
                            "\n");
}

TEST(OrderedWriter, RecordsFormatNamesEveryIndex) {
  Pipe out;
  {
    OrderedWriter writer(out.write, OutputFormat::records, -1);
    writer.add(failed(1));
    writer.add(ok(0));
    writer.flush();
  }
  out.close_write();
  EXPECT_EQ(out.drain(),
            "{\"i\": 0, \"ok\": 0}\n"
            R"({"i": 1, "error": {"type": "ValueError", "message": "bad", "traceback": ""}})"
            "\n");
}

TEST(OrderedWriter, AClosedOutputIsASystemError) {
  signal(SIGPIPE, SIG_IGN);
  Pipe out;
  close(out.read);
  out.read = -1;
  OrderedWriter writer(out.write, OutputFormat::values, -1);
  writer.add(ok(0));
  try {
    writer.flush();
    FAIL() << "flush() to a pipe without a reader succeeded";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), EPIPE);
  }
}

TEST(OrderedWriter, ConcurrentAddsLoseNothing) {
  Pipe out;
  std::string got;
  std::thread reader([&] { got = out.drain(); });
  {
    OrderedWriter writer(out.write, OutputFormat::values, -1);
    constexpr int kThreads = 4;
    constexpr int kEach = 5000;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&writer, t] {
        for (int i = 0; i < kEach; ++i) writer.add(ok(static_cast<std::uint64_t>(i * kThreads + t)));
      });
    }
    for (std::thread& thread : threads) thread.join();
    writer.flush();
    EXPECT_EQ(writer.written(), static_cast<std::uint64_t>(kThreads * kEach));
  }
  out.close_write();
  reader.join();
  std::string expected;
  for (std::uint64_t i = 0; i < 20000; ++i) expected += std::to_string(i * i) + "\n";
  EXPECT_EQ(got, expected);
}

}  // namespace
