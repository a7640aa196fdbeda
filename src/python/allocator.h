// The runner's choice of CPython allocator (ISO_PYMALLOC / -X iso_pymalloc).
#pragma once

#include <Python.h>

#include <optional>

#include "isolate/python.h"

namespace iso::python {

struct AllocatorChoice {
  Allocator allocator = Allocator::pymalloc;
  bool debug_hooks = false;               // -X dev: CPython's debug hooks on top
  std::optional<int> exit_code;           // a bad choice, already reported on stderr
  std::optional<PyStatus> failed_status;  // python3 refused the command line
};

// Reads the choice from python3's command line (argv[0] included) and the
// environment. Call after Py_PreInitialize, before anything else allocates.
AllocatorChoice choose_allocator(Py_ssize_t argc, char** argv);

}  // namespace iso::python
