// Which parts of a request's configuration a warm interpreter can take on.
#pragma once

#include <Python.h>

#include <string>

// The interpreter-state config calls: public in 3.11 and 3.12, internal (but
// still exported) in 3.13, where CPython's own tests use them.
#if PY_VERSION_HEX >= 0x030D0000
extern "C" {
PyAPI_FUNC(int) _PyInterpreterState_GetConfigCopy(PyConfig* config);
PyAPI_FUNC(int) _PyInterpreterState_SetConfig(const PyConfig* config);
PyAPI_FUNC(const PyConfig*) _Py_GetConfig(void);
}
#endif

namespace iso::serve::warm {

// The name of the first field that initialisation fixed and `request`
// (a read PyConfig) sets differently from `server`; empty when none does.
std::string fixed_setting_difference(const PyConfig& request, const PyConfig& server);

}  // namespace iso::serve::warm
