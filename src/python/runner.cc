// The python3-compatible main: the same steps as CPython's Py_BytesMain
// (Modules/main.c), through the public PyConfig API, so that isolate run's
// behaviour is the interpreter's own and not a re-implementation of it.
#include "isolate/python.h"

#include <Python.h>
#include <unistd.h>

#include <cstdio>
#include <vector>

#include "allocator.h"

namespace iso::python {

namespace {

// Ends start-up the way python3 does: a status that asks to exit (--version,
// -h, a bad option) returns its code, any other failure prints and exits 1.
int finish_failed_startup(PyStatus status) {
  if (PyStatus_IsExit(status)) return status.exitcode;
  Py_ExitStatusException(status);  // does not return
}

}  // namespace

int run_main(int argc, char** args) {
  const std::string_view executable = build_info().executable;
  // CPython finds its prefix, stdlib and sys.path from argv[0]; without the
  // build's own python3.x it could not start, so say which file is missing.
  if (access(executable.data(), X_OK) != 0) {
    std::fprintf(stderr,
                 "isolate: the embedded Python's interpreter %s is missing; "
                 "isolate needs that CPython installation for its standard library\n",
                 executable.data());
    return 1;
  }

  // argv[0] is the real interpreter, so sys.executable, sys.orig_argv[0] and
  // everything derived from them are python3's.
  std::vector<char*> argv;
  argv.reserve(static_cast<std::size_t>(argc) + 2);
  argv.push_back(const_cast<char*>(executable.data()));
  argv.insert(argv.end(), args, args + argc);
  argv.push_back(nullptr);
  const auto count = static_cast<Py_ssize_t>(argv.size() - 1);

  // Pre-initialisation reads -E, -I, -X utf8 and -X dev from the command line,
  // as python3 does, because they decide the locale and the memory allocators.
  PyPreConfig preconfig;
  PyPreConfig_InitPythonConfig(&preconfig);
  PyStatus status = Py_PreInitializeFromBytesArgs(&preconfig, count, argv.data());
  if (PyStatus_Exception(status)) return finish_failed_startup(status);

  // The allocator must be in place before the first block the interpreter
  // keeps, so it is chosen right after pre-initialisation.
  const AllocatorChoice allocator = choose_allocator(count, argv.data());
  if (allocator.exit_code) return *allocator.exit_code;
  if (allocator.failed_status) return finish_failed_startup(*allocator.failed_status);
  install_allocator(allocator.allocator, allocator.debug_hooks);

  PyConfig config;
  PyConfig_InitPythonConfig(&config);
  status = PyConfig_SetBytesArgv(&config, count, argv.data());
  if (!PyStatus_Exception(status)) status = Py_InitializeFromConfig(&config);
  PyConfig_Clear(&config);
  if (PyStatus_Exception(status)) return finish_failed_startup(status);

  return Py_RunMain();
}

}  // namespace iso::python
