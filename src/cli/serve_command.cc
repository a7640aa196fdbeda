// `isolate serve`: the warm server, its --status and --stop
// (src/serve/serve.h). `isolate call` is dispatched in main.cc before
// any parsing, because its arguments are python3's.
#include "serve_command.h"

#include <cstdio>

#include "serve/serve.h"

namespace iso::cli {

CLI::App* add_serve_command(CLI::App& app, ServeCommandOptions& o) {
  CLI::App* serve = app.add_subcommand(
      "serve",
      "Keep a warm Python for 'isolate call ARGS': python3's command line without Python's start-up");
  serve->add_option("--socket", o.socket, "listen here (default: per user, build and preload list)");
  serve->add_option("--preload", o.preload, "modules to import once, comma-separated (default: ISO_PRELOAD)")
      ->each([&o](const std::string&) { o.preload_given = true; });
  serve
      ->add_option("--idle-timeout", o.idle_timeout_s,
                   "exit after this many seconds without requests (0: never)")
      ->check(CLI::NonNegativeNumber);
  serve->add_flag("--status", o.status, "report the server for this socket, or exit 3 if none runs");
  serve->add_flag("--stop", o.stop, "stop that server once its running requests end");
  serve->add_flag("--json", o.json, "with --status: one JSON object");
  // `isolate call` starting a server: the pipe on which it says it listens.
  serve->add_option("--ready-fd", o.ready_fd)->group("");
  return serve;
}

int run_serve(const ServeCommandOptions& o) {
  try {
    if (o.status && o.stop) {
      std::fprintf(stderr, "isolate: serve: --status and --stop exclude each other\n");
      return 2;
    }
    serve::ServerOptions options;
    options.preload =
        o.preload_given ? serve::parse_preload(o.preload, "--preload") : serve::configured_preload();
    options.socket_path = o.socket.empty() ? serve::default_socket_path(options.preload) : o.socket;
    if (o.status) return serve::print_status(options.socket_path, o.json);
    if (o.stop) return serve::stop_server(options.socket_path);
    options.idle_timeout_s = o.idle_timeout_s;
    options.ready_fd = o.ready_fd;
    return serve::run_server(options);
  } catch (const serve::ServeError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    serve::report_ready(o.ready_fd, e.what());
    return 1;
  }
}

}  // namespace iso::cli
