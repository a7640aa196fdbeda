// How a warm child ends (warm_exit.cc): finalisation over what the request
// created, instead of a teardown of the whole server heap.
#pragma once

#include <Python.h>

namespace iso::python {

// A new reference to module `name`, imported without staying in
// sys.modules if it was not there (python3 starts without gc and atexit).
PyObject* import_quietly(const char* name);

// In the server, after the preload: which modules, sys and builtins entries
// are the server's. false with a Python exception set.
bool snapshot_server_state();

// In a child about to run its request: Py_FinalizeEx and Py_Exit take the
// request-only path from now on.
void mark_warm_child();

}  // namespace iso::python
