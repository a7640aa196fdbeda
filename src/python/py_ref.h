// Small CPython helpers shared by the pool and the warm start.
#pragma once

#include <Python.h>

namespace iso::python {

// A Python object owned for the duration of a scope.
struct Ref {
  PyObject* p;
  explicit Ref(PyObject* object) : p(object) {}
  ~Ref() { Py_XDECREF(p); }
  Ref(const Ref&) = delete;
  Ref& operator=(const Ref&) = delete;
  explicit operator bool() const { return p != nullptr; }
};

// The raised exception (a new reference, or nullptr), cleared.
inline PyObject* fetch_exception() {
#if PY_VERSION_HEX >= 0x030C0000
  return PyErr_GetRaisedException();
#else
  PyObject *type = nullptr, *value = nullptr, *traceback = nullptr;
  PyErr_Fetch(&type, &value, &traceback);
  PyErr_NormalizeException(&type, &value, &traceback);
  Py_XDECREF(type);
  Py_XDECREF(traceback);
  return value;
#endif
}

}  // namespace iso::python
