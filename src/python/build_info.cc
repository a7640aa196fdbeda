#include "build_config.h"
#include "isolate/python.h"

#include <patchlevel.h>  // PY_VERSION_HEX only; Python.h is not needed here

namespace iso::python {

namespace {

BuildInfo make_build_info() {
  BuildInfo info{
      .version = ISO_PYTHON_VERSION,
      .executable = ISO_PYTHON_EXECUTABLE,
      // The build links libpython3.x.a only (cmake/EmbeddedPython.cmake refuses
      // a shared-only Python), so this is a fact of the build, not a probe.
      .libpython_static = true,
      .gil_disabled = ISO_PYTHON_GIL_DISABLED != 0,
      .backends = {},
  };
  // A sub-interpreter with its own GIL needs PyInterpreterConfig_OWN_GIL (3.12).
  if (PY_VERSION_HEX >= 0x030C0000) info.backends.emplace_back("subinterp");
  if (info.gil_disabled) info.backends.emplace_back("threads");
  info.backends.emplace_back("process");
  return info;
}

}  // namespace

const BuildInfo& build_info() {
  static const BuildInfo info = make_build_info();
  return info;
}

}  // namespace iso::python
