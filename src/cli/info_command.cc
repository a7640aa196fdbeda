#include "info_command.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>

#include "cluster/transport.h"
#include "device_probe.h"
#include "isolate/python.h"
#include "isolate/version.h"

namespace iso::cli {

std::string info_text() {
  const auto& info = python::build_info();
  return fmt::format(
      "isolate {}\n"
      "python_version:    {}\n"
      "python_executable: {}\n"
      "libpython_static:  {}\n"
      "gil_disabled:      {}\n"
      "backends:          {}\n"
      "mpi:               {}\n"
      "gpu:               {}\n",
      kVersion, info.version, info.executable, info.libpython_static ? "yes" : "no",
      info.gil_disabled ? "yes" : "no", fmt::join(info.backends, " "), cluster::mpi_description(),
      gpu::describe_device());
}

std::string info_json() {
  const auto& info = python::build_info();
  nlohmann::json backends = nlohmann::json::array();
  for (auto backend : info.backends) backends.push_back(backend);
  const nlohmann::json doc = {
      {"isolate_version", kVersion},          {"python_version", info.version},
      {"python_executable", info.executable}, {"libpython_static", info.libpython_static},
      {"gil_disabled", info.gil_disabled},    {"backends", backends},
      {"mpi", cluster::mpi_description()},    {"gpu", gpu::describe_device()},
  };
  return doc.dump() + "\n";
}

}  // namespace iso::cli
