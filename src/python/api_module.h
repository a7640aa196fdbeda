// The `isolate` Python module (api_module.cc), for the two places that make
// it importable: the interpreters isolate embeds (a built-in module) and the
// extension module for python3 (api_extension.cc).
#pragma once

#include <Python.h>

namespace iso::python {

// The module's PyInit function (multi-phase initialisation).
PyObject* init_api_module();

// Adds `isolate` to the built-in modules; call before Py_Initialize.
void register_api_module();

}  // namespace iso::python
