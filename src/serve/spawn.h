// Starting a server for `isolate call` when none answers.
#pragma once

#include <string>
#include <vector>

namespace iso::serve {

// Connects to the server at `path`, starting one first (detached, in its own
// session, with `preload` and `idle_timeout_s`) if none answers. Concurrent
// callers start one server between them: the socket's lock file serialises
// them. Returns the connected socket; throws ServeError.
int connect_or_spawn(const std::string& path, const std::vector<std::string>& preload, double idle_timeout_s);

// The default idle timeout of a spawned server: ISO_SERVE_IDLE_TIMEOUT
// seconds, or 900.
double spawned_idle_timeout();

}  // namespace iso::serve
