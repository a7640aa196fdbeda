// How a warm child ends (exit.cc): finalisation over what the request
// created, instead of a teardown of the whole server heap.
#pragma once

#include <Python.h>

namespace iso::serve::warm {

// A new reference to module `name`, imported without staying in
// sys.modules if it was not there (python3 starts without gc and atexit).
PyObject* import_quietly(const char* name);

// In the server, after the preload: which modules, sys and builtins entries
// are the server's. false with a Python exception set.
bool snapshot_server_state();

// In a child about to run its request: Py_FinalizeEx and Py_Exit take the
// request-only path from now on (in this process, not in one it forks).
void mark_warm_child();

// Who hears the exit status (run_and_exit).
void set_exit_report(void (*report)(int exit_status));

// Flushes, closes fds 0-2 (a reader of the caller's pipes sees EOF now, not
// after the kernel has torn the process down), reports and _exits.
[[noreturn]] void finish_warm_child(int status);

}  // namespace iso::serve::warm
