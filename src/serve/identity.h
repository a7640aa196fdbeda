// Which server a call may use: the build key, the start-up environment, the
// per-user socket directory, and the Unix-socket plumbing around them. The
// rules are the contract's (src/contract/socket_name.h); the core adds the
// error messages.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace iso::serve {

// This process's own binary, the core (the `isolate` front, src/front/, has
// no Python): what a spawned server and a cold `isolate run` exec.
const std::string& core_executable();

// Identifies the core executable and the CPython it embeds; a server and a
// client must agree on it exactly (contract::build_key).
std::string build_key();

// The start-up variables (contract::is_startup_variable) of `environment`
// (NAME=VALUE entries), sorted.
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
