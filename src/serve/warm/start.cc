// The warm start: one interpreter initialised as python3 with no arguments,
// forked per request; the child re-reads the request's command line with
// CPython's own parser, takes on its configuration and runs Py_RunMain, so
// what runs is python3's main and not a copy of it.
#include <Python.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "config.h"
#include "exit.h"
#include "isolate/python.h"
#include "python/allocator.h"
#include "python/py_ref.h"
#include "streams.h"
#include "warm.h"

namespace iso::serve::warm {

using python::build_info;
using python::fetch_exception;

namespace {

// Fixed once the server is initialised; the children read them.
PyConfig g_server_config;
PyObject* g_server_sys_path = nullptr;  // after site.py: the list a request starts from

std::string status_text(const PyStatus& status) {
  return status.err_msg != nullptr ? status.err_msg : "unknown error";
}

// "ModuleNotFoundError: No module named 'x'" for the pending exception.
std::string exception_text() {
  PyObject* exception = fetch_exception();
  if (exception == nullptr) return "unknown error";
  std::string text = Py_TYPE(exception)->tp_name;
  if (PyObject* message = PyObject_Str(exception); message != nullptr) {
    if (const char* utf8 = PyUnicode_AsUTF8(message); utf8 != nullptr && *utf8 != '\0') {
      text += ": ";
      text += utf8;
    }
    Py_DECREF(message);
  }
  PyErr_Clear();
  Py_DECREF(exception);
  return text;
}

void preload_modules(const std::vector<std::string>& preload) {
  for (const std::string& name : preload) {
    PyObject* module = PyImport_ImportModule(name.c_str());
    if (module == nullptr) {
      throw std::runtime_error("isolate: cannot preload '" + name + "': " + exception_text());
    }
    Py_DECREF(module);
  }
}

// sys.path as the server had it after site.py; the request's sys.path[0] is
// put in front of it by Py_RunMain.
bool restore_sys_path() {
  PyObject* path = PySequence_List(g_server_sys_path);
  const bool ok = path != nullptr && PySys_SetObject("path", path) == 0;
  Py_XDECREF(path);
  return ok;
}

// Python's initialisation replaces both encodings by their codecs' names
// ("UTF-8" becomes "utf-8"; pylifecycle.c's config_get_codec_name); a
// request read afterwards must be compared and applied the same way.
bool use_codec_name(PyConfig& config, wchar_t** encoding) {
  PyObject* codecs = PyImport_ImportModule("codecs");
  if (codecs == nullptr) return false;
  PyObject* name = nullptr;
  if (PyObject* text = PyUnicode_FromWideChar(*encoding, -1); text != nullptr) {
    if (PyObject* info = PyObject_CallMethod(codecs, "lookup", "O", text); info != nullptr) {
      name = PyObject_GetAttrString(info, "name");
      Py_DECREF(info);
    }
    Py_DECREF(text);
  }
  Py_DECREF(codecs);
  wchar_t* wide = name != nullptr ? PyUnicode_AsWideCharString(name, nullptr) : nullptr;
  Py_XDECREF(name);
  if (wide == nullptr) return false;
  const PyStatus status = PyConfig_SetString(&config, encoding, wide);
  PyMem_Free(wide);
  return !PyStatus_Exception(status);
}

// Makes the objects start-up and the preload created immortal (3.12+): a
// child then never writes their reference counts, which would copy the page
// under every object it touched, and a function call touches dozens.
// __main__ and its dict stay mortal: the request's globals live there, and
// python3 collects them (and the cycles through them) at exit.
void immortalize(PyObject* objects, PyObject* main_module, PyObject* main_dict) {
#if PY_VERSION_HEX >= 0x030C0000 && !defined(Py_GIL_DISABLED)
  const auto make_immortal = [&](PyObject* object) {
    if (object != main_module && object != main_dict) object->ob_refcnt = _Py_IMMORTAL_REFCNT;
  };
  for (Py_ssize_t i = 0; i < PyList_GET_SIZE(objects); ++i) make_immortal(PyList_GET_ITEM(objects, i));
  // What the tracked objects hold that the collector does not track:
  // strings, numbers, bytes, untracked tuples and dicts.
  PyObject* gc = import_quietly("gc");
  PyObject* args = gc != nullptr ? PyList_AsTuple(objects) : nullptr;
  PyObject* get_referents = gc != nullptr ? PyObject_GetAttrString(gc, "get_referents") : nullptr;
  PyObject* referents =
      args != nullptr && get_referents != nullptr ? PyObject_Call(get_referents, args, nullptr) : nullptr;
  for (Py_ssize_t i = 0; referents != nullptr && i < PyList_GET_SIZE(referents); ++i) {
    PyObject* object = PyList_GET_ITEM(referents, i);
    if (!PyObject_IS_GC(object) || PyObject_GC_IsTracked(object) == 0) make_immortal(object);
  }
  PyErr_Clear();
  Py_XDECREF(referents);
  Py_XDECREF(get_referents);
  Py_XDECREF(args);
  Py_XDECREF(gc);
#else
  (void)objects;
  (void)main_module;
  (void)main_dict;
#endif
}

// Moves everything into the collector's permanent generation, as CPython's
// gc docs advise before forking: a collection in a child (and the one at
// its exit) then never walks those objects.
void freeze_startup_objects() {
  PyObject* main_module = PyImport_AddModule("__main__");  // borrowed
  PyObject* main_dict = main_module != nullptr ? PyModule_GetDict(main_module) : nullptr;
  const bool tracked = main_dict != nullptr && PyObject_GC_IsTracked(main_dict) == 1;
  PyObject* gc = import_quietly("gc");
  PyObject* collected = gc != nullptr ? PyObject_CallMethod(gc, "collect", nullptr) : nullptr;
  PyObject* objects = collected != nullptr ? PyObject_CallMethod(gc, "get_objects", nullptr) : nullptr;
  if (objects != nullptr) immortalize(objects, main_module, main_dict);
  Py_XDECREF(objects);
  if (tracked) PyObject_GC_UnTrack(main_dict);
  PyObject* frozen = collected != nullptr ? PyObject_CallMethod(gc, "freeze", nullptr) : nullptr;
  if (tracked) PyObject_GC_Track(main_dict);
  if (frozen == nullptr)
    throw std::runtime_error("isolate: cannot freeze the start-up objects: " + exception_text());
  Py_DECREF(frozen);
  Py_DECREF(collected);
  Py_DECREF(gc);
}

bool copy_string(PyConfig& config, wchar_t** field, const wchar_t* value) {
  return !PyStatus_Exception(PyConfig_SetString(&config, field, value));
}

bool inherit_path_configuration(PyConfig& config) {
  const PyConfig& server = g_server_config;
  if (config.platlibdir == nullptr && !copy_string(config, &config.platlibdir, server.platlibdir))
    return false;
  const PyStatus status =
      PyConfig_SetWideStringList(&config, &config.module_search_paths, server.module_search_paths.length,
                                 server.module_search_paths.items);
  if (PyStatus_Exception(status)) return false;
  config.module_search_paths_set = 1;
  return copy_string(config, &config.stdlib_dir, server.stdlib_dir) &&
         copy_string(config, &config.executable, server.executable) &&
         copy_string(config, &config.base_executable, server.base_executable) &&
         copy_string(config, &config.prefix, server.prefix) &&
         copy_string(config, &config.base_prefix, server.base_prefix) &&
         copy_string(config, &config.exec_prefix, server.exec_prefix) &&
         copy_string(config, &config.base_exec_prefix, server.base_exec_prefix);
}

bool restore_install_importlib() {
  // _Py_GetConfig() is the interpreter's own config (exported for
  // CPython's tests in 3.11 to 3.13); the field is a plain int in it.
  const_cast<PyConfig*>(_Py_GetConfig())->_install_importlib = 1;
  return true;
}

}  // namespace

void initialize(const std::vector<std::string>& preload) {
  const std::string_view executable = build_info().executable;
  if (access(executable.data(), X_OK) != 0) {
    throw std::runtime_error("isolate: the embedded Python's interpreter " + std::string(executable) +
                             " is missing");
  }
  char* argv[] = {const_cast<char*>(executable.data()), nullptr};
  PyPreConfig preconfig;
  PyPreConfig_InitPythonConfig(&preconfig);
  PyStatus status = Py_PreInitializeFromBytesArgs(&preconfig, 1, argv);
  if (PyStatus_Exception(status))
    throw std::runtime_error("isolate: cannot start Python: " + status_text(status));
  const python::AllocatorChoice allocator = python::choose_allocator(1, argv);
  if (allocator.exit_code || allocator.failed_status) {
    throw std::runtime_error("isolate: cannot start Python: bad allocator choice (see above)");
  }
  python::install_allocator(allocator.allocator, allocator.debug_hooks);

  PyConfig config;
  PyConfig_InitPythonConfig(&config);
  status = PyConfig_SetBytesArgv(&config, 1, argv);
  if (!PyStatus_Exception(status)) status = Py_InitializeFromConfig(&config);
  PyConfig_Clear(&config);
  if (PyStatus_Exception(status))
    throw std::runtime_error("isolate: cannot start Python: " + status_text(status));

  PyConfig_InitPythonConfig(&g_server_config);
  if (_PyInterpreterState_GetConfigCopy(&g_server_config) < 0) {
    throw std::runtime_error("isolate: cannot read Python's configuration: " + exception_text());
  }
  PyObject* sys_path = PySys_GetObject("path");  // borrowed
  g_server_sys_path = sys_path != nullptr ? PySequence_List(sys_path) : nullptr;
  if (g_server_sys_path == nullptr) throw std::runtime_error("isolate: Python started without sys.path");
  preload_modules(preload);
  // Imported now rather than in every child (python3 has them at start-up
  // too); exit.cc keeps gc and atexit out of sys.modules.
  for (const char* module : {"codecs", "io", "posix", "_signal"}) {
    PyObject* imported = PyImport_ImportModule(module);
    if (imported == nullptr)
      throw std::runtime_error("isolate: cannot import " + std::string(module) + ": " + exception_text());
    Py_DECREF(imported);
  }
  if (!record_signal_handlers())
    throw std::runtime_error("isolate: cannot read the signal handlers: " + exception_text());
  if (!snapshot_server_state())
    throw std::runtime_error("isolate: cannot record the server's modules: " + exception_text());
  freeze_startup_objects();
}

void before_fork() {
  PyOS_BeforeFork();
}
void after_fork_parent() {
  PyOS_AfterFork_Parent();
}
void after_fork_child() {
  PyOS_AfterFork_Child();
}

namespace {

// The interpreter reconfigured for python3's command line `args`: ready, or
// why it must run cold, or the exit code of an option that ends python3 there.
Start configure(const std::vector<std::string>& args, std::uint64_t ignored_signals) {
  Start result;
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(build_info().executable.data()));
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);

  // CPython's own parser, so that --help, -V and bad options print and exit
  // exactly as in python3; the process environment is already the caller's.
  PyConfig config;
  PyConfig_InitPythonConfig(&config);
  PyStatus status = PyConfig_SetBytesArgv(&config, static_cast<Py_ssize_t>(argv.size() - 1), argv.data());
  if (!PyStatus_Exception(status)) status = PyConfig_Read(&config);
  if (PyStatus_Exception(status)) {
    PyConfig_Clear(&config);
    if (!PyStatus_IsExit(status)) Py_ExitStatusException(status);  // python3's fatal error
    result.outcome = Start::Outcome::exited;
    result.exit_code = status.exitcode;
    return result;
  }
  if (!use_codec_name(config, &config.filesystem_encoding) ||
      !use_codec_name(config, &config.stdio_encoding)) {
    PyConfig_Clear(&config);
    result.cold_reason = "an encoding Python does not know: " + exception_text();  // python3 reports it
    return result;
  }
  // The path configuration (sys.path before site.py, sys.prefix, ...) is
  // what getpath computes from inputs the comparison below covers (the
  // executable, PYTHONHOME, PYTHONPATH, the platlibdir; their variables are
  // the server's): so the server's outputs are the request's, and getpath,
  // half a millisecond of Python code, need not run again.
  if (!inherit_path_configuration(config)) {
    PyConfig_Clear(&config);
    result.cold_reason = "cannot copy the path configuration";
    return result;
  }
  const std::string difference = fixed_setting_difference(config, g_server_config);
  if (!difference.empty()) {
    PyConfig_Clear(&config);
    result.cold_reason = "the request sets " + difference + ", which Python fixes at start-up";
    return result;
  }
  // SetConfig re-reads the config, and with _install_importlib set would
  // recompute the paths; the flag only matters while an interpreter
  // initialises (a sub-interpreter copies it), so it comes back right after.
  config._install_importlib = 0;
  const bool configured = _PyInterpreterState_SetConfig(&config) == 0 && restore_install_importlib() &&
                          restore_sys_path() && rebuild_stdio(config) && rebuild_environ() &&
                          reset_signal_handlers(ignored_signals);
  PyConfig_Clear(&config);
  if (!configured) {
    result.cold_reason = "cannot reconfigure the warm interpreter: " + exception_text();
    return result;
  }
  result.outcome = Start::Outcome::ready;
  return result;
}

}  // namespace

Start prepare(const std::vector<std::string>& args, std::uint64_t ignored_signals) {
#ifdef Py_GIL_DISABLED
  // A free-threaded CPython destroys objects at other moments (deferred and
  // biased reference counts, a collector that walks its allocator's heaps):
  // the exit replay of exit.cc is not bit-exact there, so every request runs
  // in a fresh interpreter.
  (void)ignored_signals;
  return {.outcome = Start::Outcome::cold,
          .cold_reason = "a free-threaded CPython (" PY_VERSION "t): warm children need a GIL build",
          .exit_code = 0};
#endif
  Start result = configure(args, ignored_signals);
  if (result.outcome == Start::Outcome::ready) mark_warm_child();
  return result;
}

void pretouch() {
  // A request's own steps, for `-c pass` on this spare's stdio and the
  // server's environment: the copy-on-write faults of the objects a request
  // replaces (config, sys attributes, streams, os.environ) are taken here,
  // and a request's child runs ~110-170 µs shorter for it (docs/BENCHMARKS.md,
  // issue 6). The request does every step again, for itself.
  (void)configure({"-c", "pass"}, 0);
  PyErr_Clear();
  // A line compiled and run in a namespace of its own, printing to nowhere.
  PyObject* globals = PyDict_New();
  if (globals != nullptr && PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins()) == 0) {
    PyObject* result = PyRun_String(
        "import io\n"
        "_out = io.StringIO()\n"
        "print('warm', [str(i) for i in range(64)], {'a': 1}, file=_out)\n",
        Py_file_input, globals, globals);
    Py_XDECREF(result);
    PyErr_Clear();
  }
  Py_XDECREF(globals);
}

void run_and_exit(void (*report)(int exit_status)) {
  set_exit_report(report);
  const int status = Py_RunMain();
  finish_warm_child(status);
}

}  // namespace iso::serve::warm
