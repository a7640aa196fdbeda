// The Python side of a worker: loading TARGET and calling run_batch, shared
// by every backend (python/isolate/_map_worker.py does the per-item work).
#include "internal.h"  // Python.h, before the C API's other headers
// clang-format off
#include <marshal.h>
// clang-format on

#include <nlohmann/json.hpp>

#include "map_worker_code.h"
#include "map_worker_marshalled.h"
#include "python/py_ref.h"

namespace iso::pool {

using python::fetch_exception;
using python::Ref;

namespace {

std::string utf8(PyObject* o) {
  Py_ssize_t size = 0;
  const char* text = o != nullptr ? PyUnicode_AsUTF8AndSize(o, &size) : nullptr;
  if (text == nullptr) {
    PyErr_Clear();
    return "?";
  }
  return {text, static_cast<std::size_t>(size)};
}

// A payload from run_batch: bytes (pickle) or str (JSON).
std::string bytes_of(PyObject* o) {
  if (PyBytes_Check(o)) return {PyBytes_AS_STRING(o), static_cast<std::size_t>(PyBytes_GET_SIZE(o))};
  return utf8(o);
}

// The pending exception as "Type: message", cleared.
std::string take_exception(std::string* type_name = nullptr, std::string* module_name = nullptr) {
  PyObject* exc = fetch_exception();
  if (exc == nullptr) return "unknown error";
  const std::string_view qualified = Py_TYPE(exc)->tp_name;
  const std::string type(qualified.substr(qualified.rfind('.') + 1));
  Ref message(PyObject_Str(exc));
  std::string text = utf8(message.p);
  if (type_name != nullptr) *type_name = type;
  if (module_name != nullptr && PyErr_GivenExceptionMatches(exc, PyExc_ImportError)) {
    Ref name(PyObject_GetAttrString(exc, "name"));
    if (name && PyUnicode_Check(name.p)) *module_name = utf8(name.p);
    PyErr_Clear();
  }
  Py_DECREF(exc);
  return type == "TargetError" ? text : type + ": " + text;
}

}  // namespace

#ifdef Py_GIL_DISABLED
namespace {

// CPython 3.13t leaves the constants of code made by compile() mortal (the
// import system compiles every module that way, gh-118527), so a loop such
// as `acc = (acc * 7 + i) % 1_000_003`, run by two threads, increments and
// decrements the shared reference count of 1_000_003 from both: the cache
// line bounces and two threads run slower than one (docs/BENCHMARKS.md,
// issue 14). Immortal constants are what CPython itself gives the code it
// compiles outside compile(); only scalar constants are made so here.
bool is_scalar_constant(PyObject* o) {
  return PyLong_CheckExact(o) || PyFloat_CheckExact(o) || PyComplex_CheckExact(o) || PyBytes_CheckExact(o) ||
         PyUnicode_CheckExact(o);
}

void immortalize(PyObject* o) {
  o->ob_tid = 0;  // _Py_UNOWNED_TID
  o->ob_ref_shared = 0;
  _Py_atomic_store_uint32_relaxed(&o->ob_ref_local, UINT32_MAX);  // _Py_IMMORTAL_REFCNT_LOCAL
}

void immortalize_constants(PyObject* code, int depth) {
  if (!PyCode_Check(code) || depth > 32) return;
  PyObject* constants = reinterpret_cast<PyCodeObject*>(code)->co_consts;
  for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(constants); ++i) {
    PyObject* c = PyTuple_GET_ITEM(constants, i);
    if (PyCode_Check(c)) {
      immortalize_constants(c, depth + 1);
    } else if (is_scalar_constant(c) && !_Py_IsImmortal(c)) {
      immortalize(c);
    }
  }
}
}  // namespace
#endif

void share_constants_locked(PyObject* fn_or_module) {
#ifdef Py_GIL_DISABLED
  PyObject* module = nullptr;
  if (PyModule_Check(fn_or_module)) {
    module = Py_NewRef(fn_or_module);
  } else {
    if (PyFunction_Check(fn_or_module)) immortalize_constants(PyFunction_GET_CODE(fn_or_module), 0);
    PyObject* name = PyObject_GetAttrString(fn_or_module, "__module__");
    module = name != nullptr ? PyImport_GetModule(name) : nullptr;
    Py_XDECREF(name);
  }
  PyObject* globals = module != nullptr && PyModule_Check(module) ? PyModule_GetDict(module) : nullptr;
  PyObject* key = nullptr;
  PyObject* value = nullptr;
  for (Py_ssize_t at = 0; globals != nullptr && PyDict_Next(globals, &at, &key, &value);) {
    if (PyFunction_Check(value)) immortalize_constants(PyFunction_GET_CODE(value), 0);
  }
  Py_XDECREF(module);
  PyErr_Clear();
#else
  (void)fn_or_module;
#endif
}

PyObject* code_locked(const unsigned char* marshalled, std::size_t size, long magic, const char* source,
                      const char* filename) {
  if ((PyImport_GetMagicNumber() & 0xffff) == magic) {
    PyObject* code = PyMarshal_ReadObjectFromString(reinterpret_cast<const char*>(marshalled),
                                                    static_cast<Py_ssize_t>(size));
    if (code != nullptr && PyCode_Check(code)) return code;
    Py_XDECREF(code);
    PyErr_Clear();
  }
  return Py_CompileString(source, filename, Py_file_input);
}

PyObject* worker_module_locked() {
  Ref code(code_locked(kMapWorkerCode, sizeof kMapWorkerCode, kMapWorkerCodeMagic, kMapWorkerSource,
                       "<isolate>/_map_worker.py"));
  return code ? PyImport_ExecCodeModule("_isolate_map_worker", code.p) : nullptr;
}

bool gil_enabled_now_locked() {
  PyObject* probe = PySys_GetObject("_is_gil_enabled");  // borrowed; 3.13+
  if (probe == nullptr) return true;
  Ref enabled(PyObject_CallNoArgs(probe));
  if (!enabled) {
    PyErr_Clear();
    return true;
  }
  return PyObject_IsTrue(enabled.p) != 0;
}

PyObject* load_target_locked(const Options& options, bool fresh) {
  Ref module(worker_module_locked());
  if (!module) throw Error(Error::Kind::start, "isolate: cannot load the worker module: " + take_exception());
  const char* codec = options.codec == Codec::pickle ? "pickle" : "json";
  PyObject* run_batch =
      PyObject_CallMethod(module.p, "load", "sOsO", options.target.c_str(), options.star ? Py_True : Py_False,
                          codec, fresh ? Py_True : Py_False);
  if (run_batch == nullptr) {
    std::string type, refused;
    const std::string message = take_exception(&type, &refused);
    const bool refusal = type == "ImportError" && message.find("subinterpreter") != std::string::npos;
    const std::string what = options.codec == Codec::pickle ? "the function" : options.target;
    Error error(
        refusal ? Error::Kind::refused : Error::Kind::start,
        type == "TargetError" ? "isolate: " + message : "isolate: cannot load " + what + ": " + message);
    if (refusal && refused.empty()) {
      // "module NAME does not support loading in subinterpreters" (3.12, 3.13)
      const std::size_t at = message.find("module ");
      const std::size_t end = at == std::string::npos ? at : message.find(' ', at + 7);
      refused = end == std::string::npos ? "?" : message.substr(at + 7, end - at - 7);
    }
    if (refusal) error.refused_module = refused;
    throw error;
  }
  return run_batch;
}

std::string loaded_module_refusing_subinterpreters_locked() {
#if PY_VERSION_HEX >= 0x030C0000
  PyObject* modules = PyImport_GetModuleDict();  // borrowed
  PyObject* name = nullptr;
  PyObject* module = nullptr;
  for (Py_ssize_t at = 0; PyDict_Next(modules, &at, &name, &module);) {
    if (!PyModule_Check(module) || !PyUnicode_Check(name)) continue;
    const PyModuleDef* def = PyModule_GetDef(module);
    const std::string text = utf8(name);
    if (def == nullptr || text == "sys" || text == "builtins")
      continue;            // Python source, or made with every interpreter
    bool own_gil = false;  // single-phase initialisation (no slots) never is
    for (const PyModuleDef_Slot* slot = def->m_slots; slot != nullptr && slot->slot != 0; ++slot) {
      if (slot->slot == Py_mod_multiple_interpreters)
        own_gil = slot->value == Py_MOD_PER_INTERPRETER_GIL_SUPPORTED;
    }
    if (!own_gil) return text;
  }
#endif
  return {};
}

ResultChunk call_batch_locked(PyObject* run_batch, const ItemChunk& chunk) {
  Ref lines(PyList_New(static_cast<Py_ssize_t>(chunk.size())));
  for (std::size_t i = 0; lines && i < chunk.size(); ++i) {
    PyObject* line =
        PyBytes_FromStringAndSize(chunk[i].payload.data(), static_cast<Py_ssize_t>(chunk[i].payload.size()));
    if (line == nullptr) return failed_chunk(chunk, "MemoryError", take_exception());
    PyList_SET_ITEM(lines.p, static_cast<Py_ssize_t>(i), line);
  }
  Ref results(lines ? PyObject_CallOneArg(run_batch, lines.p) : nullptr);
  if (!results || !PyList_Check(results.p) ||
      PyList_GET_SIZE(results.p) != static_cast<Py_ssize_t>(chunk.size())) {
    const std::string why = results ? "run_batch returned a malformed result" : take_exception();
    return failed_chunk(chunk, "WorkerError", why);
  }
  ResultChunk out(chunk.size());
  for (std::size_t i = 0; i < chunk.size(); ++i) {
    PyObject* pair = PyList_GET_ITEM(results.p, static_cast<Py_ssize_t>(i));
    out[i].index = chunk[i].index;
    out[i].ok = PyObject_IsTrue(PyTuple_GET_ITEM(pair, 0)) == 1;
    out[i].payload = bytes_of(PyTuple_GET_ITEM(pair, 1));
  }
  return out;
}

ResultChunk failed_chunk(const ItemChunk& chunk, const std::string& type, const std::string& message) {
  const std::string error = nlohmann::json{{"type", type}, {"message", message}, {"traceback", ""}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
  ResultChunk out;
  out.reserve(chunk.size());
  for (const Item& item : chunk) out.push_back({item.index, false, error});
  return out;
}

}  // namespace iso::pool
