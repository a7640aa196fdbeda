// The isolate command line: the core executable, which embeds CPython. The
// `isolate` command users run is the small front (src/front/), which execs
// this for everything but `isolate call`.
//
// `run` and `call` are dispatched before any option parsing: everything after
// them is python3's own command line and goes to the interpreter untouched
// (even `--help` and `--version`, which must print python3's answers).
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "api/module.h"
#include "cluster/python_job.h"
#include "contract/invocation.h"
#include "info_command.h"
#include "isolate/python.h"
#include "isolate/version.h"
#include "map_command.h"
#include "serve/serve.h"
#include "serve_command.h"

namespace {

int run_cli(int argc, char** argv) {
  CLI::App app{"isolate: runs Python work fast (a python3-compatible launcher, and more).", "isolate"};
  app.set_version_flag("--version", iso::kVersion);
  app.require_subcommand(1);

  // Listed for --help; the real dispatch happens in main() before parsing.
  app.add_subcommand("run", "Run python3's command line (script.py, -c, -m, -) in the embedded CPython")
      ->allow_extras();

  bool json = false;
  auto* info = app.add_subcommand(
      "info", "Print what this build embeds: CPython version and path, linking, pool backends");
  info->add_flag("--json", json, "Print one JSON object");

  iso::cli::MapOptions map_options;
  auto* map = iso::cli::add_map_command(app, map_options);

  app.add_subcommand("call",
                     "Run python3's command line in a child of the warm server (isolate serve), "
                     "started on first use; [--socket PATH] [--no-spawn] first")
      ->allow_extras();
  iso::cli::ServeCommandOptions serve_options;
  auto* serve = iso::cli::add_serve_command(app, serve_options);

  // CLI11 would report a mistyped command as a missing one.
  const auto named = [&](const CLI::App* sub) { return sub->get_name() == argv[1]; };
  if (argc >= 2 && argv[1][0] != '-' && app.get_subcommands(named).empty()) {
    std::fprintf(stderr, "isolate: unknown command '%s' (see 'isolate --help')\n", argv[1]);
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "isolate: %s (see 'isolate --help')\n", e.what());
    return 2;
  }

  if (map->parsed()) return iso::cli::run_map(map_options);
  if (serve->parsed()) return iso::cli::run_serve(serve_options);
  if (info->parsed()) {
    const std::string text = json ? iso::cli::info_json() : iso::cli::info_text();
    std::fwrite(text.data(), 1, text.size(), stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // `import isolate`, in every interpreter this process starts.
  iso::api::register_module();
  if (argc >= 1 && iso::contract::invoked_as_python(argv[0]))
    return iso::python::run_main(argc - 1, argv + 1);
  if (argc >= 2 && std::strcmp(argv[1], "run") == 0) {
    // Under mpirun: rank 0 runs the script, the other ranks serve its maps.
    if (iso::cluster::python_job_wanted()) return iso::cluster::run_python_job(argc - 2, argv + 2);
    return iso::python::run_main(argc - 2, argv + 2);
  }
  // The front (src/front/) makes calls itself; it execs this core for a call
  // only to start a server or to read or explain the settings.
  if (iso::contract::is_call(argc, argv)) {
    const int status = iso::serve::call_main(argc, argv);
    std::fflush(nullptr);
    _exit(status);
  }
  return run_cli(argc, argv);
}
