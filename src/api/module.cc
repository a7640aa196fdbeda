// The `isolate` Python module, the pool's Python API. This is its C half:
// `_Pool`, a MapPool with the pickle codec whose calls release the GIL while
// they wait, and which takes its workers, backend and chunk size from the
// pool's policy (isolate/pool.h), as `isolate map` does. python/isolate/__init__.py (map, PoolExecutor),
// compiled into the binary, runs in the module's namespace afterwards.
//
// The same module is a built-in of the isolate binary (`import isolate`
// inside `isolate run`) and an extension module for the python3 of the same
// build (build/python/). Multi-phase initialisation with per-interpreter
// state, so a sub-interpreter that imports a script doing `import isolate`
// can load it too.
#define PY_SSIZE_T_CLEAN  // y# takes a Py_ssize_t length (the default from 3.13 on)
#include <Python.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <optional>
#include <string>
#include <utility>

#include "api_code.h"
#include "api_marshalled.h"
#include "isolate/pool.h"
#include "isolate/python.h"
#include "module.h"
#include "pool/internal.h"

namespace iso::api {

namespace {

using pool::MapPool;

// This process's pool, as `_Pool` drives it.
class LocalWorkers final : public Workers {
 public:
  explicit LocalWorkers(const pool::Options& options) : pool_(options) {}
  void submit(pool::ItemChunk chunk) override { pool_.submit(std::move(chunk)); }
  std::optional<pool::ResultChunk> next_for(std::chrono::nanoseconds limit) override {
    return pool_.next_for(limit);
  }
  bool ended() const override { return pool_.ended(); }
  bool withdraw(std::uint64_t index) override { return pool_.withdraw(index); }
  void finish() override { pool_.finish(); }
  void cancel() override { pool_.cancel(); }
  std::size_t chunk_size() const override { return pool_.chunk_size(); }
  std::string_view backend_name() const override { return pool::backend_name(pool_.backend()); }
  unsigned workers() const override { return pool_.workers(); }
  const std::string& refused_module() const override { return pool_.refused_module(); }

 private:
  MapPool pool_;
};

ClusterFactory cluster_factory = nullptr;
ClusterCloser cluster_closer = nullptr;
int cluster_ranks = 0;

struct PoolObject {
  PyObject_HEAD Workers* pool;
};

Workers* pool_of(PyObject* self) {
  Workers* pool = reinterpret_cast<PoolObject*>(self)->pool;
  if (pool == nullptr) PyErr_SetString(PyExc_RuntimeError, "isolate: the pool is closed");
  return pool;
}

// Raises a pool::Error as Python sees it: ValueError for a bad setting,
// ImportError (with .name) for a module that refuses to load in a
// sub-interpreter, RuntimeError for the rest.
void raise_pool_error(const pool::Error& e) {
  switch (e.kind) {
    case pool::Error::Kind::setting:
      PyErr_SetString(PyExc_ValueError, e.what());
      return;
    case pool::Error::Kind::start:
      PyErr_SetString(PyExc_RuntimeError, e.what());
      return;
    case pool::Error::Kind::refused:
      break;
  }
  PyObject* message = PyUnicode_FromString(e.what());
  PyObject* name = PyUnicode_FromString(e.refused_module.c_str());
  if (message != nullptr && name != nullptr) PyErr_SetImportError(message, name, nullptr);
  Py_XDECREF(message);
  Py_XDECREF(name);
}

// _Pool(backend, max_workers, preload, main_has_file, functions_known):
// `backend` is "auto" or a backend name, `max_workers` 0 for the default;
// `preload` is what every worker loads when it starts, the JSON of
// {"path": sys.path, "ref": a function ref or null} (_map_worker.py);
// `functions_known` false for an executor, whose functions come later;
// `fall_back` (default: when "auto" chose) lets subinterp move to process.
int pool_init(PyObject* self, PyObject* args, PyObject* kwargs) {
  static const char* keywords[] = {"backend",         "max_workers", "preload", "main_has_file",
                                   "functions_known", "fall_back",   nullptr};
  const char* backend_text = nullptr;
  unsigned long long max_workers = 0;
  const char* preload = "";
  int main_has_file = 1;
  int functions_known = 1;
  int fall_back = -1;  // -1: when "auto" chose
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "sK|sppi", const_cast<char**>(keywords), &backend_text,
                                   &max_workers, &preload, &main_has_file, &functions_known, &fall_back)) {
    return -1;
  }
  if (reinterpret_cast<PoolObject*>(self)->pool != nullptr) {
    PyErr_SetString(PyExc_RuntimeError, "isolate: _Pool.__init__ called twice");
    return -1;
  }
  pool::Options options;
  options.target = preload;
  options.codec = pool::Codec::pickle;
  options.functions_known = functions_known != 0;
  // "mpi": every rank's pool, this one's chosen as "auto" would.
  const bool cluster = std::string_view(backend_text) == "mpi";
  if (cluster && cluster_factory == nullptr) {
    PyErr_SetString(PyExc_RuntimeError,
                    "isolate: backend 'mpi' runs under an MPI launcher: mpirun -np N isolate run script.py");
    return -1;
  }
  Workers* started = nullptr;
  std::optional<pool::Error> error;
  try {
    options.workers = pool::resolve_workers(max_workers);
    const pool::BackendChoice choice =
        pool::choose_backend(cluster ? "auto" : backend_text, "backend", main_has_file != 0);
    options.backend = choice.backend;
    options.fall_back = fall_back < 0 ? choice.automatic : fall_back != 0;
  } catch (const pool::Error& e) {
    raise_pool_error(e);
    return -1;
  }
  // Workers take the GIL as they start (and a sub-interpreter needs the main
  // one to be created), so the constructor runs without it.
  Py_BEGIN_ALLOW_THREADS;
  try {
    started = cluster ? cluster_factory(options).release() : new LocalWorkers(options);
  } catch (const pool::Error& e) {
    error = e;
  } catch (const std::exception& e) {
    error = pool::Error(pool::Error::Kind::start, std::string("isolate: cannot start the pool: ") + e.what());
  }
  Py_END_ALLOW_THREADS;
  if (error) {
    raise_pool_error(*error);
    return -1;
  }
  reinterpret_cast<PoolObject*>(self)->pool = started;
  return 0;
}

void close_pool(PoolObject* self) {
  Workers* pool = std::exchange(self->pool, nullptr);
  if (pool == nullptr) return;
  Py_BEGIN_ALLOW_THREADS;  // workers finishing a chunk need the GIL
  delete pool;
  Py_END_ALLOW_THREADS;
}

void pool_dealloc(PyObject* self) {
  close_pool(reinterpret_cast<PoolObject*>(self));
  PyTypeObject* type = Py_TYPE(self);
  type->tp_free(self);
  Py_DECREF(type);
}

// submit([(index, payload), ...]): one chunk; blocks, without the GIL, while
// every worker's queue is full.
PyObject* pool_submit(PyObject* self, PyObject* items) {
  Workers* pool = pool_of(self);
  if (pool == nullptr) return nullptr;
  PyObject* seq = PySequence_Fast(items, "isolate: submit() takes a list of (index, bytes)");
  if (seq == nullptr) return nullptr;
  pool::ItemChunk chunk(static_cast<std::size_t>(PySequence_Fast_GET_SIZE(seq)));
  for (std::size_t i = 0; i < chunk.size(); ++i) {
    unsigned long long index = 0;
    const char* data = nullptr;
    Py_ssize_t size = 0;
    if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(seq, static_cast<Py_ssize_t>(i)), "Ky#", &index, &data,
                          &size)) {
      Py_DECREF(seq);
      return nullptr;
    }
    chunk[i].index = index;
    chunk[i].payload.assign(data, static_cast<std::size_t>(size));
  }
  Py_DECREF(seq);
  if (chunk.empty()) Py_RETURN_NONE;
  Py_BEGIN_ALLOW_THREADS;
  pool->submit(std::move(chunk));
  Py_END_ALLOW_THREADS;
  Py_RETURN_NONE;
}

// next(timeout=None) -> [(index, ok, payload), ...] in completion order;
// [] when `timeout` seconds passed first (0: only a look); None once
// finish() or cancel() was called and nothing more will come. It waits
// without the GIL, in slices, so that Ctrl-C in the main thread interrupts it.
PyObject* pool_next(PyObject* self, PyObject* args) {
  Workers* pool = pool_of(self);
  if (pool == nullptr) return nullptr;
  PyObject* timeout = Py_None;
  if (!PyArg_ParseTuple(args, "|O", &timeout)) return nullptr;
  double seconds = -1;  // no limit
  if (timeout != Py_None) {
    seconds = PyFloat_AsDouble(timeout);
    if (seconds == -1 && PyErr_Occurred()) return nullptr;
    if (seconds < 0) seconds = 0;
  }
  using Clock = std::chrono::steady_clock;
  constexpr auto kSlice = std::chrono::milliseconds(50);  // how late Ctrl-C may be seen
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(seconds < 0 ? 0 : seconds));
  std::optional<pool::ResultChunk> results;
  for (;;) {
    const auto left =
        seconds < 0 ? Clock::duration(kSlice) : std::min<Clock::duration>(kSlice, deadline - Clock::now());
    Py_BEGIN_ALLOW_THREADS;
    results = pool->next_for(std::max<Clock::duration>(left, Clock::duration::zero()));
    Py_END_ALLOW_THREADS;
    if (results || pool->ended()) break;
    if (seconds >= 0 && Clock::now() >= deadline) return PyList_New(0);
    if (PyErr_CheckSignals() != 0) return nullptr;
  }
  if (!results) Py_RETURN_NONE;
  PyObject* list = PyList_New(static_cast<Py_ssize_t>(results->size()));
  for (std::size_t i = 0; list != nullptr && i < results->size(); ++i) {
    const pool::Result& r = (*results)[i];
    PyObject* item =
        Py_BuildValue("(KOy#)", static_cast<unsigned long long>(r.index), r.ok ? Py_True : Py_False,
                      r.payload.data(), static_cast<Py_ssize_t>(r.payload.size()));
    if (item == nullptr) Py_CLEAR(list);
    if (list != nullptr) PyList_SET_ITEM(list, static_cast<Py_ssize_t>(i), item);
  }
  return list;
}

// withdraw(index) -> True if no worker had started that batch: it will not
// run, and no answer comes for it.
PyObject* pool_withdraw(PyObject* self, PyObject* arg) {
  Workers* pool = pool_of(self);
  if (pool == nullptr) return nullptr;
  const unsigned long long index = PyLong_AsUnsignedLongLong(arg);
  if (index == static_cast<unsigned long long>(-1) && PyErr_Occurred()) return nullptr;
  return PyBool_FromLong(pool->withdraw(index) ? 1 : 0);
}

PyObject* pool_finish(PyObject* self, PyObject* /*unused*/) {
  Workers* pool = pool_of(self);
  if (pool == nullptr) return nullptr;
  pool->finish();
  Py_RETURN_NONE;
}

PyObject* pool_cancel(PyObject* self, PyObject* /*unused*/) {
  Workers* pool = pool_of(self);
  if (pool == nullptr) return nullptr;
  pool->cancel();
  Py_RETURN_NONE;
}

// close(): ends the workers (each finishes the chunk in hand). Call it once
// no thread is inside submit() or next().
PyObject* pool_close(PyObject* self, PyObject* /*unused*/) {
  close_pool(reinterpret_cast<PoolObject*>(self));
  Py_RETURN_NONE;
}

// chunk_size() -> items per chunk for ~5 ms of work each, from what the
// chunks so far cost (the pool's policy, as for `isolate map`).
PyObject* pool_chunk_size(PyObject* self, PyObject* /*unused*/) {
  Workers* pool = pool_of(self);
  return pool == nullptr ? nullptr : PyLong_FromSize_t(pool->chunk_size());
}

PyObject* pool_refused_module(PyObject* self, void* /*unused*/) {
  Workers* pool = pool_of(self);
  if (pool == nullptr) return nullptr;
  const std::string& name = pool->refused_module();
  if (name.empty()) Py_RETURN_NONE;
  return PyUnicode_FromStringAndSize(name.data(), static_cast<Py_ssize_t>(name.size()));
}

PyObject* pool_backend(PyObject* self, void* /*unused*/) {
  Workers* pool = pool_of(self);
  if (pool == nullptr) return nullptr;
  const std::string_view name = pool->backend_name();
  return PyUnicode_FromStringAndSize(name.data(), static_cast<Py_ssize_t>(name.size()));
}

PyObject* pool_workers(PyObject* self, void* /*unused*/) {
  Workers* pool = pool_of(self);
  return pool == nullptr ? nullptr : PyLong_FromUnsignedLong(pool->workers());
}

PyMethodDef pool_methods[] = {
    {"submit", pool_submit, METH_O, "submit([(index, payload), ...]): queue one chunk"},
    {"next", pool_next, METH_VARARGS, "next(timeout=None) -> [(index, ok, payload), ...], [] or None"},
    {"withdraw", pool_withdraw, METH_O, "withdraw(index) -> True if no worker had started that batch"},
    {"finish", pool_finish, METH_NOARGS, "no more submits; next() returns None once all came back"},
    {"cancel", pool_cancel, METH_NOARGS, "next() returns None at once"},
    {"close", pool_close, METH_NOARGS, "end the workers"},
    {"chunk_size", pool_chunk_size, METH_NOARGS, "chunk_size() -> items per chunk for ~5 ms of work"},
    {nullptr, nullptr, 0, nullptr},
};

PyGetSetDef pool_getset[] = {
    {"backend", pool_backend, nullptr, "subinterp, threads or process", nullptr},
    {"refused_module", pool_refused_module, nullptr,
     "the module that moved an automatic pool from subinterp to process, or None", nullptr},
    {"workers", pool_workers, nullptr, "number of workers", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyType_Slot pool_slots[] = {
    {Py_tp_doc,
     const_cast<char*>("_Pool(backend, max_workers, preload, main_has_file, functions_known, fall_back): "
                       "warm isolates, pickle codec")},
    {Py_tp_new, reinterpret_cast<void*>(PyType_GenericNew)},
    {Py_tp_init, reinterpret_cast<void*>(pool_init)},
    {Py_tp_dealloc, reinterpret_cast<void*>(pool_dealloc)},
    {Py_tp_methods, pool_methods},
    {Py_tp_getset, pool_getset},
    {0, nullptr},
};

PyType_Spec pool_spec = {
    .name = "isolate._Pool",
    .basicsize = sizeof(PoolObject),
    .itemsize = 0,
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = pool_slots,
};

PyObject* backends_of_build(PyObject* /*module*/, PyObject* /*unused*/) {
  const python::BuildInfo& info = python::build_info();
  PyObject* list = PyList_New(0);
  for (std::string_view b : info.backends) {
    PyObject* name = PyUnicode_FromStringAndSize(b.data(), static_cast<Py_ssize_t>(b.size()));
    if (name == nullptr || PyList_Append(list, name) != 0) Py_CLEAR(list);
    Py_XDECREF(name);
    if (list == nullptr) break;
  }
  return list;
}

// _choose(backend, max_workers, main_has_file) -> (backend, workers,
// automatic): what the pool's policy makes of these settings; `automatic`
// when "auto" (or ISO_BACKEND) chose, and so may fall back.
PyObject* choose(PyObject* /*module*/, PyObject* args) {
  const char* backend_text = nullptr;
  unsigned long long max_workers = 0;
  int main_has_file = 1;
  if (!PyArg_ParseTuple(args, "sKp", &backend_text, &max_workers, &main_has_file)) return nullptr;
  try {
    const unsigned workers = pool::resolve_workers(max_workers);
    const pool::BackendChoice choice = pool::choose_backend(backend_text, "backend", main_has_file != 0);
    const std::string_view name = pool::backend_name(choice.backend);
    return Py_BuildValue("(s#IO)", name.data(), static_cast<Py_ssize_t>(name.size()), workers,
                         choice.automatic ? Py_True : Py_False);
  } catch (const pool::Error& e) {
    raise_pool_error(e);
    return nullptr;
  }
}

// _worker_module() -> the workers' module (_map_worker.py), loaded here: the
// threads that share this interpreter run its loops.
PyObject* worker_module(PyObject* /*module*/, PyObject* /*unused*/) {
  PyObject* name = PyUnicode_FromString("_isolate_map_worker");
  PyObject* loaded = name != nullptr ? PyImport_GetModule(name) : nullptr;
  Py_XDECREF(name);
  if (loaded != nullptr || PyErr_Occurred()) return loaded;
  return pool::worker_module_locked();
}

// _share_constants(fn): before threads run fn, on a free-threaded CPython,
// makes the scalar constants of its code, and of every function of its
// module, immortal (src/pool/calls.cc says why). Elsewhere nothing.
PyObject* share_constants(PyObject* /*module*/, PyObject* fn) {
  pool::share_constants_locked(fn);
  Py_RETURN_NONE;
}

// _refusing_module() -> the name of a loaded module that a sub-interpreter
// would refuse, or None: what a warm pool of sub-interpreters checks when
// modules were imported since it started.
PyObject* refusing_module(PyObject* /*module*/, PyObject* /*unused*/) {
  const std::string name = pool::loaded_module_refusing_subinterpreters_locked();
  if (PyErr_Occurred()) return nullptr;
  if (name.empty()) Py_RETURN_NONE;
  return PyUnicode_FromStringAndSize(name.data(), static_cast<Py_ssize_t>(name.size()));
}

// _cluster_ranks() -> the ranks of the MPI job whose rank 0 this is
// (`isolate run` under mpirun), or 0: backend "mpi" is there to take.
// Only the main interpreter's: a worker's sub-interpreter imports isolate
// too (the script does), and runs its atexit when it ends.
bool in_main_interpreter() {
  return PyInterpreterState_Get() == PyInterpreterState_Main();
}

PyObject* cluster_ranks_of_job(PyObject* /*module*/, PyObject* /*unused*/) {
  return PyLong_FromLong(cluster_factory != nullptr && in_main_interpreter() ? cluster_ranks : 0);
}

// _cluster_close(): at exit, once every pool is closed: the other ranks of
// the job end (their pools need no more than this word).
PyObject* cluster_close(PyObject* /*module*/, PyObject* /*unused*/) {
  if (cluster_closer != nullptr && in_main_interpreter()) {
    Py_BEGIN_ALLOW_THREADS;  // this rank's own workers finish without us
    cluster_closer();
    Py_END_ALLOW_THREADS;
  }
  Py_RETURN_NONE;
}

PyMethodDef module_methods[] = {
    {"_cluster_ranks", cluster_ranks_of_job, METH_NOARGS, "the ranks of this MPI job, or 0"},
    {"_cluster_close", cluster_close, METH_NOARGS, "end the MPI job's other ranks (at exit)"},
    {"_refusing_module", refusing_module, METH_NOARGS, "a loaded module sub-interpreters refuse, or None"},
    {"_share_constants", share_constants, METH_O, "make fn's constants safe to share between threads"},
    {"_build_backends", backends_of_build, METH_NOARGS, "the pool backends this build supports"},
    {"_choose", choose, METH_VARARGS,
     "_choose(backend, max_workers, main_has_file) -> (backend, workers, automatic)"},
    {"_worker_module", worker_module, METH_NOARGS, "the workers' module, loaded in this interpreter"},
    {nullptr, nullptr, 0, nullptr},
};

int module_exec(PyObject* module) {
  PyObject* type = PyType_FromModuleAndSpec(module, &pool_spec, nullptr);
  if (type == nullptr || PyModule_AddObjectRef(module, "_Pool", type) != 0) {
    Py_XDECREF(type);
    return -1;
  }
  Py_DECREF(type);
  // As for any module: PyImport_Import (pickle uses it) finds __import__
  // through the calling code's __builtins__.
  PyObject* globals = PyModule_GetDict(module);
  if (PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins()) != 0) return -1;
  PyObject* code = pool::code_locked(kApiCode, sizeof kApiCode, kApiCodeMagic, kApiSource,
                                     "<isolate>/isolate/__init__.py");
  if (code == nullptr) return -1;
  PyObject* result = PyEval_EvalCode(code, globals, globals);
  Py_DECREF(code);
  if (result == nullptr) return -1;
  Py_DECREF(result);
  return 0;
}

PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, reinterpret_cast<void*>(module_exec)},
#if PY_VERSION_HEX >= 0x030C0000
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
#ifdef Py_GIL_DISABLED
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, nullptr},
};

PyModuleDef module_def = {
    .m_base = PyModuleDef_HEAD_INIT,
    .m_name = "isolate",
    .m_doc = "Run a Python function over many inputs on every core (isolate's pool).",
    .m_size = 0,
    .m_methods = module_methods,
    .m_slots = module_slots,
    .m_traverse = nullptr,
    .m_clear = nullptr,
    .m_free = nullptr,
};

}  // namespace

PyObject* init_module() {
  return PyModuleDef_Init(&module_def);
}

void set_cluster(ClusterFactory factory, ClusterCloser closer, int ranks) {
  cluster_factory = factory;
  cluster_closer = closer;
  cluster_ranks = ranks;
}

void register_module() {
  PyImport_AppendInittab("isolate", &init_module);
}

}  // namespace iso::api
