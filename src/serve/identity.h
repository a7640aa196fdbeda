// Which server a call may use: the build key, the start-up environment, the
// per-user socket directory, and the Unix-socket plumbing around them.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace iso::serve {

// This process's own binary, the core (the `isolate` front, src/front/, has
// no Python): what a spawned server and a cold `isolate run` exec.
const std::string& core_executable();

// Identifies the core executable and the CPython it embeds; a server and a
// client must agree on it exactly.
std::string build_key();

// Whether an environment variable is read while Python initialises (or by
// modules a server may have preloaded): PYTHON*, LC_*, LANG, TZ, HOME,
// ISO_PYMALLOC. A server serves warm only requests whose values of these
// equal its own.
bool is_startup_variable(const char* entry);  // "NAME=VALUE"
// The start-up variables of `environment` (NAME=VALUE entries), sorted.
std::vector<std::string> startup_environment(std::vector<std::string> environment);
std::vector<std::string> startup_environment(char** environment);

// Puts /dev/null on whichever of fds 0-2 is closed, so that the process's own
// sockets and files never take those numbers.
void fill_closed_stdio();

// The socket directory: created 0700 if missing; throws ServeError if it is
// not a directory that only the user can enter.
std::string socket_directory();

// Connects to a Unix stream socket (CLOEXEC); -1 with errno on failure.
int connect_socket(const std::string& path);
// The uid at the other end of a connected Unix socket; -1 if unknown.
uid_t peer_uid(int socket);

}  // namespace iso::serve
