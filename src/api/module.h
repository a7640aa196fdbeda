// The `isolate` Python module (module.cc), for the two places that make it
// importable: the interpreters isolate embeds (a built-in module) and the
// extension module for python3 (extension.cc).
#pragma once

#include <Python.h>

namespace iso::api {

// The module's PyInit function (multi-phase initialisation).
PyObject* init_module();

// Adds `isolate` to the built-in modules; call before Py_Initialize.
void register_module();

}  // namespace iso::api
