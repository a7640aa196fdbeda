#include "map_io.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <vector>

namespace iso::cli {

namespace {
constexpr std::size_t kReadSize = 1 << 16;
constexpr std::size_t kFlushAt = 1 << 16;  // output is written in blocks of about this size
}  // namespace

bool LineReader::fill() {
  if (eof_) return false;
  if (start_ > 0) {
    buffer_.erase(0, start_);
    start_ = 0;
  }
  const std::size_t old = buffer_.size();
  buffer_.resize(old + kReadSize);
  ssize_t n;
  do {
    n = read(fd_, buffer_.data() + old, kReadSize);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    buffer_.resize(old);
    throw std::runtime_error(std::string("cannot read the input: ") + std::strerror(errno));
  }
  buffer_.resize(old + static_cast<std::size_t>(n));
  bytes_read_ += static_cast<std::uint64_t>(n);
  if (n == 0) eof_ = true;
  return n > 0;
}

std::optional<std::string> LineReader::next() {
  for (;;) {
    const std::size_t nl = buffer_.find('\n', start_);
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(start_, nl - start_);
      start_ = nl + 1;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return line;
    }
    if (!fill()) {
      if (start_ >= buffer_.size()) return std::nullopt;
      std::string last = buffer_.substr(start_);  // a last line without a newline
      start_ = buffer_.size();
      return last;
    }
  }
}

bool LineReader::ready() {
  if (eof_ || buffer_.find('\n', start_) != std::string::npos) return true;
  pollfd p{fd_, POLLIN, 0};
  return poll(&p, 1, 0) > 0;
}

std::size_t OrderedWriter::add(pool::Result result) {
  const std::lock_guard guard(lock_);
  if (stopped_) return 0;
  if (!result.ok) ++failed_;
  std::size_t lines = 0;
  if (result.index != next_index_) {
    held_.emplace(result.index, std::move(result));
    return 0;
  }
  append_line(result);
  ++lines;
  for (auto it = held_.begin(); it != held_.end() && it->first == next_index_; it = held_.erase(it)) {
    append_line(it->second);
    ++lines;
  }
  if (out_buffer_.size() >= kFlushAt) write_out(out_fd_, out_buffer_);
  if (errors_buffer_.size() >= kFlushAt) write_out(errors_fd_, errors_buffer_);
  return lines;
}

void OrderedWriter::append_line(const pool::Result& r) {
  const std::string index = std::to_string(r.index);
  if (format_ == OutputFormat::values) {
    out_buffer_ += r.ok ? r.payload : "null";
  } else {
    out_buffer_ += "{\"i\": " + index + (r.ok ? ", \"ok\": " : ", \"error\": ") + r.payload + "}";
  }
  out_buffer_ += '\n';
  if (!r.ok && errors_fd_ >= 0) errors_buffer_ += "{\"i\": " + index + ", \"error\": " + r.payload + "}\n";
  ++next_index_;
}

void OrderedWriter::write_out(int fd, std::string& buffer) {
  std::size_t done = 0;
  while (done < buffer.size()) {
    const ssize_t n = write(fd, buffer.data() + done, buffer.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::system_error(errno, std::generic_category());
    done += static_cast<std::size_t>(n);
  }
  buffer.clear();
}

void OrderedWriter::flush() {
  const std::lock_guard guard(lock_);
  write_buffers();
}

void OrderedWriter::stop() {
  const std::lock_guard guard(lock_);
  stopped_ = true;
  write_buffers();
}

void OrderedWriter::write_buffers() {
  write_out(out_fd_, out_buffer_);
  if (errors_fd_ >= 0) write_out(errors_fd_, errors_buffer_);
}

std::uint64_t OrderedWriter::written() const {
  const std::lock_guard guard(lock_);
  return next_index_;
}

std::uint64_t OrderedWriter::failed() const {
  const std::lock_guard guard(lock_);
  return failed_;
}

void OrderedWriter::start_at(std::uint64_t index, std::uint64_t failed) {
  const std::lock_guard guard(lock_);
  next_index_ = index;
  failed_ = failed;
}

std::uint64_t OrderedWriter::pending() const {
  const std::lock_guard guard(lock_);
  return held_.size();
}

namespace {

// Calls `line(text)` for each complete line of fd from its start until it
// returns false; returns the offset just past the last line it accepted.
std::uint64_t complete_lines(int fd, const std::function<bool(std::string_view)>& line) {
  std::string carry;
  std::uint64_t kept = 0;
  std::vector<char> block(kReadSize);
  for (std::uint64_t at = 0;;) {
    const ssize_t n = pread(fd, block.data(), block.size(), static_cast<off_t>(at));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      throw std::runtime_error(std::string("cannot read the output to resume: ") + std::strerror(errno));
    if (n == 0) return kept;
    at += static_cast<std::uint64_t>(n);
    carry.append(block.data(), static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (std::size_t nl; (nl = carry.find('\n', start)) != std::string::npos; start = nl + 1) {
      if (!line(std::string_view(carry).substr(start, nl - start))) return kept;
      kept += nl + 1 - start;
    }
    carry.erase(0, start);
  }
}

// The index of a record line `{"i": N, ...`, and whether it is an error record.
std::optional<std::pair<std::uint64_t, bool>> record_index(std::string_view line) {
  constexpr std::string_view kHead = "{\"i\": ";
  if (!line.starts_with(kHead)) return std::nullopt;
  line.remove_prefix(kHead.size());
  std::uint64_t index = 0;
  const auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), index);
  if (ec != std::errc()) return std::nullopt;
  return std::pair{index,
                   std::string_view(end, line.data() + line.size() - end).starts_with(", \"error\": ")};
}

void keep_only(int fd, std::uint64_t size) {
  if (ftruncate(fd, static_cast<off_t>(size)) != 0 || lseek(fd, 0, SEEK_END) < 0)
    throw std::runtime_error(std::string("cannot resume the output: ") + std::strerror(errno));
}

}  // namespace

Resumed resume_output(int out_fd, OutputFormat format, int errors_fd) {
  Resumed resumed;
  keep_only(out_fd, complete_lines(out_fd, [&](std::string_view line) {
              if (format == OutputFormat::records) {
                const auto record = record_index(line);
                if (!record || record->first != resumed.done)
                  throw std::runtime_error("line " + std::to_string(resumed.done + 1) +
                                           " of the output is not this command's record " +
                                           std::to_string(resumed.done) + ": not resuming");
                resumed.failed += record->second ? 1 : 0;
              }
              ++resumed.done;
              return true;
            }));
  if (errors_fd < 0) return resumed;
  std::uint64_t errors = 0;
  keep_only(errors_fd, complete_lines(errors_fd, [&](std::string_view line) {
              const auto record = record_index(line);
              if (!record || record->first >= resumed.done) return false;  // written ahead of the output
              ++errors;
              return true;
            }));
  if (format == OutputFormat::values) resumed.failed = errors;
  return resumed;
}

}  // namespace iso::cli
