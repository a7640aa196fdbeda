// `isolate map`'s two ends: a line reader over a file descriptor that can
// tell "no line ready yet" from "blocked", and the ordered writer that puts
// results back in input order.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "isolate/pool.h"

namespace iso::cli {

class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) {}
  // The next line without its newline; nullopt at end of input. Throws
  // std::runtime_error on a read error.
  std::optional<std::string> next();
  // True when next() would return without waiting for input.
  bool ready();
  std::uint64_t bytes_read() const { return bytes_read_; }

 private:
  bool fill();  // false at end of input
  int fd_;
  std::string buffer_;
  std::size_t start_ = 0;
  bool eof_ = false;
  std::uint64_t bytes_read_ = 0;
};

enum class OutputFormat { values, records };

// Thread-safe; results arrive in any order and leave in index order.
class OrderedWriter {
 public:
  OrderedWriter(int out_fd, OutputFormat format, int errors_fd)
      : out_fd_(out_fd), format_(format), errors_fd_(errors_fd) {}
  // Returns the number of lines written by this call. Throws
  // std::system_error when the output cannot be written (EPIPE included).
  std::size_t add(pool::Result result);
  // Writes what is buffered; throws std::system_error like add().
  void flush();
  // flush(), then ignores every later result: what comes in after Ctrl-C
  // (a killed worker's items failing among it) is not the run's to write.
  void stop();
  std::uint64_t written() const;
  std::uint64_t failed() const;
  std::uint64_t pending() const;  // results held back waiting for an earlier index
  // --resume: the first index to come is `index`, and `failed` items before it failed.
  void start_at(std::uint64_t index, std::uint64_t failed);

 private:
  void append_line(const pool::Result& r);
  void write_out(int fd, std::string& buffer);
  void write_buffers();  // with lock_ held
  mutable std::mutex lock_;
  int out_fd_;
  OutputFormat format_;
  int errors_fd_;
  std::map<std::uint64_t, pool::Result> held_;
  std::uint64_t next_index_ = 0;
  std::uint64_t failed_ = 0;
  bool stopped_ = false;
  std::string out_buffer_;
  std::string errors_buffer_;
};

// --resume: what an earlier run of the same command left. Keeps the
// complete lines of the output (a last line cut short by a kill is dropped)
// and, in the errors file, the records of those items; leaves both files
// positioned at their end. Throws std::runtime_error on a read error, or on
// an output whose records are not this command's.
struct Resumed {
  std::uint64_t done = 0;    // items whose line is complete: the input's first `done` lines
  std::uint64_t failed = 0;  // of those, the failures the files tell (records, or the errors file)
};
Resumed resume_output(int out_fd, OutputFormat format, int errors_fd);

}  // namespace iso::cli
