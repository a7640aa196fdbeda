// The forked child that runs one request.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "protocol.h"

namespace iso::serve {

// What the child needs of the server it was forked from.
struct ServerFacts {
  std::string build_key;
  std::vector<std::string> preload;
  std::vector<std::string> startup_environment;  // the server's own, sorted
  pid_t server_pid = 0;
  std::vector<Limit> limits;  // the server's resource limits, which a child starts with
};

// Reads the request's payload (`length` bytes, with its fds) from
// `connection`, becomes the caller's process and runs python3's command line
// in the warm interpreter. Never returns.
[[noreturn]] void run_request(int connection, std::uint32_t length, const ServerFacts& server);

// A spare child, forked before its request: pre-touches the warm
// interpreter, then accepts on the server's `listener` itself, so that no
// hand-over from the server sits between a caller's connect and its child.
// A call from the server's own uid whose header has arrived is this spare's:
// it tells the server on `control` (Type::taken, with the connection) and runs
// it as run_request does. Any other connection goes to the server
// (Type::forwarded), and the spare waits for the next. Leaves when the server
// closes `control`.
[[noreturn]] void run_spare(int listener, int control, const ServerFacts& server);

}  // namespace iso::serve
