// `isolate map TARGET`: a Python function over JSON Lines, on every core.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace iso::cli {

struct MapOptions {
  std::string target;
  std::string input = "-";
  std::string output = "-";
  std::string errors;
  unsigned workers = 0;  // 0: ISO_THREADS or the number of cores
  std::string backend = "auto";
  std::string chunk = "auto";
  std::size_t memo = 0;
  bool star = false;
  std::string format = "values";
  bool progress = false;
  bool quiet = false;
  bool resume = false;  // keep what an earlier run wrote to --output and run the rest
  bool mpi = false;     // run as one rank of an MPI job even where no launcher is detected
};

CLI::App* add_map_command(CLI::App& app, MapOptions& options);
int run_map(const MapOptions& options);

}  // namespace iso::cli
