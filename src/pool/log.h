// The pool's log: one line per event (a worker started, a worker process
// died and was replaced), written to stderr at once with one write(2) as
//
//   isolate[<pid>]: <level>: <message>        (level: trace debug info warning error)
//
// The level comes from ISO_LOG=trace|debug|info|warn|error|off, read at the
// first use (default warn; any other value gives one warning and the
// default). Synchronous: the pool logs a few lines per start, so a queue and
// a thread of their own would cost more than they save (docs/ARCHITECTURE.md,
// "The pool's log"); a whole line per write keeps lines from several threads
// and processes whole, and a forked child logs as its parent does.
#pragma once

#include <fmt/format.h>

#include <optional>
#include <string_view>
#include <utility>

namespace iso::pool {

enum class LogLevel { trace, debug, info, warn, error, off };

// "trace", "debug", "info", "warn", "error" or "off"; anything else: nullopt.
std::optional<LogLevel> parse_log_level(std::string_view text) noexcept;

class Log {
 public:
  // `setting`: ISO_LOG's value, nullptr when unset. An unknown value is
  // reported on `fd` once, and the level is warn.
  Log(const char* setting, int fd);

  bool enabled(LogLevel level) const noexcept { return level >= level_ && level != LogLevel::off; }
  // One line, in one write, if `level` is enabled; a message is cut to 4 KiB.
  void write(LogLevel level, std::string_view message) const noexcept;

  template <class... Args>
  void debug(fmt::format_string<Args...> format, Args&&... args) const {
    emit(LogLevel::debug, format, std::forward<Args>(args)...);
  }
  template <class... Args>
  void info(fmt::format_string<Args...> format, Args&&... args) const {
    emit(LogLevel::info, format, std::forward<Args>(args)...);
  }
  template <class... Args>
  void warn(fmt::format_string<Args...> format, Args&&... args) const {
    emit(LogLevel::warn, format, std::forward<Args>(args)...);
  }

 private:
  template <class... Args>
  void emit(LogLevel level, fmt::format_string<Args...> format, Args&&... args) const {
    if (enabled(level))
      write(level, fmt::format(format, std::forward<Args>(args)...));  // format only if shown
  }
  LogLevel level_ = LogLevel::warn;
  int fd_;
};

// The process's log: ISO_LOG, on stderr.
const Log& log();

}  // namespace iso::pool
