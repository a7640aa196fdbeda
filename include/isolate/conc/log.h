// isolate/conc/log.h — the process's single log sink (DESIGN.md §3): one
// spdlog asynchronous logger, so a worker that logs hands the line to a queue
// and goes on; one background thread formats and writes it to stderr as
//
//   isolate[<pid>]: <level>: <message>        (level: trace debug info warning error)
//
//   #include "isolate/conc/log.h"
//   #include <spdlog/logger.h>        // to call it: kept out of this header, which
//                                     // every file that only sets up logging includes
//   iso::conc::logger().debug("worker {} started", id);
//   ...
//   iso::conc::shutdown_logging();    // before exit: writes out what is queued
//
// The level comes from ISO_LOG=trace|debug|info|warn|error|off, read when the
// logger is created (default warn; any other value gives one warning and the
// default). A full queue (8192 lines) makes the caller wait rather than drop.
//
// fork(): the logger's thread does not exist in the child. A pthread_atfork
// handler abandons the parent's logger there (its queue may be mid-update) and
// the child's first logger() call builds a new one with the same level. A
// child that leaves by _exit() must call flush_logging() or shutdown_logging()
// first, or lose what is still queued; exit() does it.
//
// Threads: logger() and flush_logging() from any thread. shutdown_logging()
// only while no other thread logs: it frees the logger that logger() handed
// out. A logger() call after it starts a new logger (and reads ISO_LOG
// again). Normal exit() runs shutdown_logging() too.
#pragma once

#include <optional>
#include <string_view>

namespace spdlog {
class logger;
}

namespace iso::conc {

enum class LogLevel { trace, debug, info, warn, error, off };

// "trace", "debug", "info", "warn", "error" or "off"; anything else: nullopt.
std::optional<LogLevel> parse_log_level(std::string_view text) noexcept;

// The process's logger, created on first use.
spdlog::logger& logger();

// Returns once every line logged before the call is written; at once if
// there is no logger. The logger and its thread stay.
void flush_logging();

// Writes out every queued line, then stops the logging thread and frees
// the logger.
void shutdown_logging() noexcept;

}  // namespace iso::conc
