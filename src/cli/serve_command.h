// `isolate serve`: the warm server, its --status and --stop.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace iso::cli {

struct ServeCommandOptions {
  std::string socket;
  std::string preload;  // comma-separated; unset: ISO_PRELOAD or serve.json
  bool preload_given = false;
  double idle_timeout_s = 0;
  bool status = false;
  bool stop = false;
  bool json = false;
  int ready_fd = -1;
};

CLI::App* add_serve_command(CLI::App& app, ServeCommandOptions& options);
int run_serve(const ServeCommandOptions& options);

}  // namespace iso::cli
