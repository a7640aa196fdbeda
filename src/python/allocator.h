// The runner's choice of CPython allocator (ISO_PYMALLOC / -X iso_pymalloc),
// also made by the warm server (src/serve/warm/) for its interpreter.
#pragma once

#include <Python.h>

#include <optional>
#include <string_view>

namespace iso::python {

// CPython's memory allocators: pymalloc (CPython's own small-object
// allocator, the default), isoalloc, or the C library's malloc.
enum class Allocator { pymalloc, isoalloc, malloc };

// "pymalloc", "isoalloc" or "malloc"; nullopt for anything else.
std::optional<Allocator> parse_allocator(std::string_view name);

// Serves the RAW, MEM and OBJ domains from `allocator` (pymalloc: leaves the
// pre-initialised choice). CPython allows this only after Py_PreInitialize
// and before Py_InitializeFromConfig. debug_hooks re-installs CPython's
// debug hooks on top, as -X dev does.
void install_allocator(Allocator allocator, bool debug_hooks);

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
