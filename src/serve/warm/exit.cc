// How a warm child ends. Py_FinalizeEx tears down every object the server
// created; in a forked child each of those writes copies a page, which made
// a "hello" request cost 4 ms of exit against 0.3 ms of work. A child instead
// runs the parts of finalisation a script can observe, in CPython's order,
// over what the request itself created, and leaves with _exit():
//   1. threading._shutdown() (non-daemon threads are joined), pending calls,
//      atexit callbacks;
//   2. sys.stdout and sys.stderr flushed (a failure makes the status 120);
//   3. a collection, then the modules the request imported, and __main__,
//      removed and cleared as finalize_modules() does: special names first,
//      weakly held leftovers cleared in reverse import order, names with a
//      leading underscore before the others; what the request put into sys
//      and builtins is dropped;
//   4. a final collection and flush.
// Objects the server created are never destroyed, so a destructor that
// prints is run only for objects the request made and did not hide in a
// preloaded module. A child with other threads or sub-interpreters still
// alive after step 1 takes CPython's own Py_FinalizeEx instead.
//
// The linker routes Py_RunMain's call to Py_FinalizeEx, and the Py_Exit
// that SystemExit reaches, through the __wrap_ functions below
// (src/cli/CMakeLists.txt: --wrap); outside a warm child they are CPython's.
#include <Python.h>
#include <unistd.h>

#include <cstdio>
#include <vector>

#include "exit.h"

extern "C" {
int __real_Py_FinalizeEx(void);
[[noreturn]] void __real_Py_Exit(int status);
int __wrap_Py_FinalizeEx(void);
[[noreturn]] void __wrap_Py_Exit(int status);
}

namespace iso::serve::warm {

namespace {

struct ServerSnapshot {
  PyObject* modules = nullptr;   // set of the server's module objects
  PyObject* sys_dict = nullptr;  // copies of sys.__dict__ and builtins.__dict__
  PyObject* builtins_dict = nullptr;
};
ServerSnapshot g_snapshot;
// Held here rather than in sys.modules, which python3 starts without them.
PyObject* g_gc = nullptr;
PyObject* g_atexit = nullptr;
bool g_in_warm_child = false;
pid_t g_child_pid = 0;  // a process the request forks is not the warm child
void (*g_report)(int) = nullptr;

bool in_warm_child() {
  return g_in_warm_child && getpid() == g_child_pid;
}

void report_unraisable(const char* context) {
#if PY_VERSION_HEX >= 0x030D0000
  PyErr_FormatUnraisable("Exception ignored %s", context);
#else
  (void)context;
  PyErr_WriteUnraisable(nullptr);
#endif
}

void wait_for_threads() {
  PyObject* modules = PyImport_GetModuleDict();
  PyObject* threading = PyDict_GetItemString(modules, "threading");  // borrowed; only if imported
  if (threading == nullptr) return;
  Py_INCREF(threading);
  PyObject* result = PyObject_CallMethod(threading, "_shutdown", nullptr);
  if (result == nullptr) PyErr_WriteUnraisable(threading);
  Py_XDECREF(result);
  Py_DECREF(threading);
}

bool alone_in_the_runtime() {
  PyThreadState* self = PyThreadState_Get();
  PyInterpreterState* interpreter = PyThreadState_GetInterpreter(self);
  if (PyInterpreterState_Next(PyInterpreterState_Head()) != nullptr) return false;
  for (PyThreadState* thread = PyInterpreterState_ThreadHead(interpreter); thread != nullptr;
       thread = PyThreadState_Next(thread)) {
    if (thread != self) return false;
  }
  return true;
}

int flush_stream(const char* name, bool report) {
  PyObject* stream = PySys_GetObject(name);  // borrowed
  if (stream == nullptr || stream == Py_None) return 0;
  PyObject* closed = PyObject_GetAttrString(stream, "closed");
  const int is_closed = closed != nullptr ? PyObject_IsTrue(closed) : -1;
  Py_XDECREF(closed);
  if (is_closed == 1) return 0;
  if (is_closed < 0) PyErr_Clear();
  PyObject* result = PyObject_CallMethod(stream, "flush", nullptr);
  if (result != nullptr) {
    Py_DECREF(result);
    return 0;
  }
  if (report) {
    report_unraisable("on flushing sys.stdout");
  } else {
    PyErr_Clear();
  }
  return -1;
}

int flush_std_files() {
  const int out = flush_stream("stdout", true);
  const int err = flush_stream("stderr", false);
  return out < 0 || err < 0 ? -1 : 0;
}

void collect() {
  PyObject* result = PyObject_CallMethod(g_gc, "collect", nullptr);
  if (result == nullptr) PyErr_Clear();
  Py_XDECREF(result);
}

// finalize_modules_delete_special: where user values hide.
void delete_special_names() {
  PyObject* builtins = PyEval_GetBuiltins();  // borrowed
  if (PyDict_SetItemString(builtins, "_", Py_None) < 0) report_unraisable("on setting builtin variable");
  static const char* const kSysNames[] = {"path",       "argv",
                                          "ps1",        "ps2",
                                          "last_exc",   "last_type",
                                          "last_value", "last_traceback",
                                          "path_hooks", "path_importer_cache",
                                          "meta_path",  "__interactivehook__"};
  for (const char* name : kSysNames) {
    if (PySys_SetObject(name, Py_None) < 0) report_unraisable("on setting sys variable");
  }
  static const char* const kStreams[][2] = {
      {"stdin", "__stdin__"}, {"stdout", "__stdout__"}, {"stderr", "__stderr__"}};
  for (const auto& [name, original] : kStreams) {
    PyObject* value = PySys_GetObject(original);  // borrowed
    if (PySys_SetObject(name, value != nullptr ? value : Py_None) < 0)
      report_unraisable("on restoring sys stream");
  }
}

// The request's modules (the ones the server did not have, and __main__,
// which the server made empty), each set to None in sys.modules and then
// removed; returns (name, weakref) pairs in import order.
bool is_server_module(PyObject* name, PyObject* module) {
  if (PyUnicode_Check(name) && PyUnicode_CompareWithASCIIString(name, "__main__") == 0) return false;
  return PySet_Contains(g_snapshot.modules, module) == 1;
}

std::vector<PyObject*> remove_request_modules() {
  std::vector<PyObject*> weak;
  PyObject* modules = PyImport_GetModuleDict();
  PyObject* items = PyDict_Items(modules);
  if (items == nullptr) {
    PyErr_Clear();
    return weak;
  }
  for (Py_ssize_t i = 0; i < PyList_GET_SIZE(items); ++i) {
    PyObject* name = PyTuple_GET_ITEM(PyList_GET_ITEM(items, i), 0);
    PyObject* module = PyTuple_GET_ITEM(PyList_GET_ITEM(items, i), 1);
    if (is_server_module(name, module)) continue;
    if (PyModule_Check(module)) {
      PyObject* ref = PyWeakref_NewRef(module, nullptr);
      if (ref != nullptr) {
        weak.push_back(PyTuple_Pack(2, name, ref));
        Py_DECREF(ref);
      } else {
        PyErr_Clear();
      }
    }
    if (PyObject_SetItem(modules, name, Py_None) < 0) report_unraisable("on removing modules");
  }
  for (Py_ssize_t i = 0; i < PyList_GET_SIZE(items); ++i) {
    PyObject* name = PyTuple_GET_ITEM(PyList_GET_ITEM(items, i), 0);
    PyObject* module = PyTuple_GET_ITEM(PyList_GET_ITEM(items, i), 1);
    if (is_server_module(name, module)) continue;
    if (PyDict_DelItem(modules, name) < 0) PyErr_Clear();
  }
  Py_DECREF(items);
  return weak;
}

// A dict back to its server contents: what the request added goes, what it
// replaced comes back.
// The request's own std streams stay: they were made for it, and a
// destructor that prints below must reach the caller's fds through them.
bool is_stream_name(PyObject* key) {
  static const char* const kNames[] = {"stdin", "stdout", "stderr", "__stdin__", "__stdout__", "__stderr__"};
  for (const char* name : kNames) {
    if (PyUnicode_Check(key) && PyUnicode_CompareWithASCIIString(key, name) == 0) return true;
  }
  return false;
}

void restore_dict(PyObject* dict, PyObject* snapshot) {
  if (dict == nullptr) return;
  PyObject* keys = PyDict_Keys(dict);
  if (keys == nullptr) {
    PyErr_Clear();
    return;
  }
  for (Py_ssize_t i = 0; i < PyList_GET_SIZE(keys); ++i) {
    PyObject* key = PyList_GET_ITEM(keys, i);
    if (!is_stream_name(key) && PyDict_Contains(snapshot, key) != 1 && PyDict_DelItem(dict, key) < 0)
      PyErr_Clear();
  }
  Py_DECREF(keys);
  PyObject *key = nullptr, *value = nullptr;
  Py_ssize_t position = 0;
  while (PyDict_Next(snapshot, &position, &key, &value)) {
    if (is_stream_name(key) || PyDict_GetItem(dict, key) == value) continue;
    if (PyDict_SetItem(dict, key, value) < 0) PyErr_Clear();
  }
}

// _PyModule_ClearDict: names with one leading underscore first, then the
// rest but __builtins__.
void clear_module_dict(PyObject* dict) {
  for (const bool underscored_pass : {true, false}) {
    PyObject *key = nullptr, *value = nullptr;
    Py_ssize_t position = 0;
    while (PyDict_Next(dict, &position, &key, &value)) {
      if (value == Py_None || !PyUnicode_Check(key) || PyUnicode_GET_LENGTH(key) == 0) continue;
      const Py_UCS4 first = PyUnicode_READ_CHAR(key, 0);
      const Py_UCS4 second = PyUnicode_GET_LENGTH(key) > 1 ? PyUnicode_READ_CHAR(key, 1) : 0;
      const bool underscored = first == '_' && second != '_';
      if (underscored_pass ? !underscored : PyUnicode_CompareWithASCIIString(key, "__builtins__") == 0)
        continue;
      if (PyDict_SetItem(dict, key, Py_None) != 0) report_unraisable("on clearing module dict");
    }
  }
}

// A new reference to the weakly referenced module, or nullptr once it died.
PyObject* still_alive(PyObject* ref) {
#if PY_VERSION_HEX >= 0x030D0000
  PyObject* module = nullptr;
  if (PyWeakref_GetRef(ref, &module) < 0) PyErr_Clear();
  return module;
#else
  PyObject* module = PyWeakref_GetObject(ref);  // borrowed
  if (module == nullptr || module == Py_None) return nullptr;
  Py_INCREF(module);
  return module;
#endif
}

void clear_leftover_modules(const std::vector<PyObject*>& weak) {
  for (auto it = weak.rbegin(); it != weak.rend(); ++it) {
    if (PyObject* module = still_alive(PyTuple_GET_ITEM(*it, 1)); module != nullptr) {
      if (PyObject* dict = PyModule_GetDict(module); dict != nullptr) clear_module_dict(dict);
      Py_DECREF(module);
    }
    Py_DECREF(*it);
  }
}

PyObject* sys_dict() {
  PyObject* sys = PyImport_AddModule("sys");  // borrowed
  return sys != nullptr ? PyModule_GetDict(sys) : nullptr;
}

int finalize_request() {
  wait_for_threads();
  if (Py_MakePendingCalls() < 0) PyErr_WriteUnraisable(nullptr);
  PyObject* done = PyObject_CallMethod(g_atexit, "_run_exitfuncs", nullptr);
  if (done == nullptr) PyErr_WriteUnraisable(nullptr);
  Py_XDECREF(done);
  if (!alone_in_the_runtime()) return __real_Py_FinalizeEx();

  int status = flush_std_files();
  PyGC_Collect();
  delete_special_names();
  const std::vector<PyObject*> weak = remove_request_modules();
  restore_dict(PyEval_GetBuiltins(), g_snapshot.builtins_dict);
  collect();
  clear_leftover_modules(weak);
  restore_dict(sys_dict(), g_snapshot.sys_dict);
  collect();
  if (flush_std_files() < 0) status = -1;
  std::fflush(nullptr);
  return status;
}

}  // namespace

PyObject* import_quietly(const char* name) {
  PyObject* modules = PyImport_GetModuleDict();
  const bool present = PyDict_GetItemString(modules, name) != nullptr;
  PyObject* module = PyImport_ImportModule(name);
  if (module != nullptr && !present && PyDict_DelItemString(modules, name) < 0) {
    Py_DECREF(module);
    return nullptr;
  }
  return module;
}

bool snapshot_server_state() {
  g_gc = import_quietly("gc");
  g_atexit = import_quietly("atexit");
  if (g_gc == nullptr || g_atexit == nullptr) return false;
  // Without __main__: a reference from here would keep it alive past the
  // collection that ends it in python3.
  PyObject* modules = PyImport_GetModuleDict();
  PyObject* values = PyDict_Values(modules);
  g_snapshot.modules = values != nullptr ? PySet_New(values) : nullptr;
  Py_XDECREF(values);
  if (PyObject* main_module = PyDict_GetItemString(modules, "__main__");
      g_snapshot.modules != nullptr && main_module != nullptr &&
      PySet_Discard(g_snapshot.modules, main_module) < 0) {
    return false;
  }
  PyObject* sys = sys_dict();
  g_snapshot.sys_dict = sys != nullptr ? PyDict_Copy(sys) : nullptr;
  g_snapshot.builtins_dict = PyDict_Copy(PyEval_GetBuiltins());
  return g_snapshot.modules != nullptr && g_snapshot.sys_dict != nullptr &&
         g_snapshot.builtins_dict != nullptr;
}

void mark_warm_child() {
  g_in_warm_child = true;
  g_child_pid = getpid();
}

void set_exit_report(void (*report)(int exit_status)) {
  g_report = report;
}

void finish_warm_child(int status) {
  std::fflush(nullptr);
  if (getpid() == g_child_pid) {
    for (int fd = 0; fd < 3; ++fd) close(fd);
    if (g_report != nullptr) g_report(status);
  }
  _exit(status);
}

}  // namespace iso::serve::warm

int __wrap_Py_FinalizeEx(void) {
  if (!iso::serve::warm::in_warm_child()) return __real_Py_FinalizeEx();
  iso::serve::warm::g_in_warm_child = false;  // once; a nested call is CPython's
  return iso::serve::warm::finalize_request();
}

void __wrap_Py_Exit(int status) {
  if (!iso::serve::warm::in_warm_child()) __real_Py_Exit(status);
  iso::serve::warm::g_in_warm_child = false;
  if (iso::serve::warm::finalize_request() < 0) status = 120;
  iso::serve::warm::finish_warm_child(status);
}
