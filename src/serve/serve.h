// The warm server (`isolate serve`) and the core's half of `isolate call`:
// python3's command line run in a child forked from an interpreter that was
// initialised, with its preload modules, once. What the core's commands
// (src/cli/) call; the rest of this folder is private to it.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace iso::serve {

// A failure the user must see: one line, ready to print.
class ServeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ServerOptions {
  std::string socket_path;           // empty: default_socket_path(preload)
  std::vector<std::string> preload;  // modules imported once, before any request
  double idle_timeout_s = 0;         // exit after this long without requests; 0: never
  int ready_fd =
      -1;  // spawned by `isolate call`, which holds the socket's lock: "ok\n" or the error goes here
};

// A server spawned by `isolate call` says on its readiness pipe (`ready_fd`,
// -1: none) "ok" once it listens, or the one-line error it stopped on; then
// the pipe is closed.
void report_ready(int fd, const std::string& message);

// Serves until stopped (SIGTERM, SIGINT, SIGHUP, `--stop`, the idle timeout);
// returns the exit status. Requests in flight finish first; a second signal
// kills them.
int run_server(const ServerOptions& options);

// `isolate serve --status` and `--stop` for the server at `socket_path`.
// status: 0 running, 3 not running; stop: 0 stopped or none running.
int print_status(const std::string& socket_path, bool json);
int stop_server(const std::string& socket_path);

// `isolate call [--socket PATH] [--no-spawn] ARGS` (all of argv, "call"
// included) when the front (src/front/) could not make the call alone: ARGS
// is python3's command line. Reports a bad setting (exit status 1) or starts
// the server, then execs the front again with the server's socket.
int call_main(int argc, char** argv);

// The preload list from ISO_PRELOAD (comma-separated) or, without it, the
// "preload" list of $XDG_CONFIG_HOME/isolate/serve.json. Throws ServeError.
std::vector<std::string> configured_preload();
// "a,b" or a JSON list's items, checked to be module names. Throws ServeError.
std::vector<std::string> parse_preload(const std::string& comma_separated, const std::string& source);

// Where the server for this user, this isolate build, this start-up
// environment (PYTHON*, LC_*, LANG, TZ, HOME, ISO_PYMALLOC) and `preload`
// listens: $XDG_RUNTIME_DIR/isolate/ or /tmp/isolate-$UID/, created 0700.
// Throws ServeError when that directory is not private to the user.
std::string default_socket_path(const std::vector<std::string>& preload);

}  // namespace iso::serve
