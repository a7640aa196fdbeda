// isolate/python.h — the embedded CPython (component isolate::python): what
// this build embeds, and a python3-compatible main. The pool that runs a
// Python function on every core is <isolate/pool.h>.
#pragma once

#include <string_view>
#include <vector>

namespace iso::python {

// Facts fixed when isolate was built; they describe the one CPython it embeds.
struct BuildInfo {
  std::string_view version;                // "3.13.0"
  std::string_view executable;             // the real python3.x binary of the same build
  bool libpython_static;                   // libpython3.x.a linked into this binary
  bool gil_disabled;                       // a free-threaded (Py_GIL_DISABLED) build
  std::vector<std::string_view> backends;  // pool backends: subinterp, threads, process
};

const BuildInfo& build_info();

// Runs python3's own command line `args` (everything after the program name)
// exactly as the embedded build's python3 would, and returns its exit status.
// The interpreter sees the real python3.x as argv[0], so sys.executable,
// sys.prefix and sys.path match it. Initialises and finalises CPython: call it
// at most once per process. Modules the caller added to CPython's table of
// built-in modules before are importable (the isolate executable adds
// `isolate`).
//
// The allocator behind CPython's RAW, MEM and OBJ memory domains is pymalloc
// unless ISO_PYMALLOC or `-X iso_pymalloc=` (which wins) says isoalloc or
// malloc; an unknown name, or one set together with PYTHONMALLOC, is a
// one-line error and exit status 2.
int run_main(int argc, char** args);

}  // namespace iso::python
