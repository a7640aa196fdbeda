// The pool's log (log.h).
#include "log.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace iso::pool {

namespace {

constexpr const char* kLevelNames[] = {"trace", "debug", "info", "warning", "error", "off"};

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

Log::Log(const char* setting, int fd) : fd_(fd) {
  if (setting == nullptr || *setting == '\0') return;
  if (const std::optional<LogLevel> level = parse_log_level(setting)) {
    level_ = *level;
    return;
  }
  write(LogLevel::warn, std::string("ignoring ISO_LOG=") + setting +
                            " (expected trace, debug, info, warn, error or off)");  // at the default level
}

void Log::write(LogLevel level, std::string_view message) const noexcept {
  if (!enabled(level)) return;
  char line[4096 + 64];
  const int shown = static_cast<int>(std::min<std::size_t>(message.size(), 4096));
  int size = std::snprintf(line, sizeof(line) - 1, "isolate[%d]: %s: %.*s", static_cast<int>(getpid()),
                           kLevelNames[static_cast<int>(level)], shown, message.data());
  if (size < 0) return;
  size = std::min(size, static_cast<int>(sizeof(line) - 2));
  line[size++] = '\n';
  for (const char* at = line; size > 0;) {
    const ssize_t written = ::write(fd_, at, static_cast<std::size_t>(size));
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return;
    at += written;
    size -= static_cast<int>(written);
  }
}

const Log& log() {
  static const Log process_log(std::getenv("ISO_LOG"), STDERR_FILENO);
  return process_log;
}

}  // namespace iso::pool
