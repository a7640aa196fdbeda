// The isolate pool's internals: what one worker does with a chunk, per
// backend, and the Python calls they share. Everything named *_locked needs
// the calling thread to hold the GIL of the interpreter it works in.
#pragma once

#include <Python.h>

#include <memory>
#include <string>

#include "isolate/pool.h"

namespace iso::pool {

// Runs chunks for one worker; created and destroyed on that worker's thread.
class Executor {
 public:
  virtual ~Executor() = default;
  virtual ResultChunk run(const ItemChunk& chunk) = 0;
};

// Sub-interpreter with its own GIL, created on the calling thread.
std::unique_ptr<Executor> make_subinterp_executor(const Options& options);  // throws Error
// Threads of the main interpreter; run_batch belongs to it.
std::unique_ptr<Executor> make_threads_executor(PyObject* run_batch);
// A worker process forked from the main interpreter, which has TARGET loaded.
std::unique_ptr<Executor> make_process_executor(PyObject* run_batch);
void kill_worker_processes();

// A code object from its build-time marshalled form (cmake/marshal_code.py),
// or compiled from `source` when this libpython's bytecode magic differs
// from the one it was marshalled with: a new reference, or nullptr with an
// exception set.
PyObject* code_locked(const unsigned char* marshalled, std::size_t size, long magic, const char* source,
                      const char* filename);

// python/isolate/_map_worker.py, (re)loaded as module _isolate_map_worker of
// the current interpreter: a new reference, or nullptr with an exception set.
PyObject* worker_module_locked();

// Whether the current interpreter runs with a GIL: always before 3.13; on a
// free-threaded build, until an extension without Py_mod_gil turns it on.
bool gil_enabled_now_locked();

// Before threads of this interpreter run a function: on a free-threaded
// CPython, makes the scalar constants of the function's code (given a
// function) and of every function of its module immortal, so that threads
// do not bounce their reference counts (calls.cc says why). Else nothing.
void share_constants_locked(PyObject* fn_or_module);

// Loads python/isolate/_map_worker.py into the current interpreter, imports
// TARGET, and returns its run_batch (a new reference). `fresh`: the current
// interpreter is a sub-interpreter of the pool's own. Throws Error.
PyObject* load_target_locked(const Options& options, bool fresh);

// A module of the current interpreter's sys.modules that a sub-interpreter
// with its own GIL refuses to load; empty when there is none.
std::string loaded_module_refusing_subinterpreters_locked();

// Calls run_batch on a chunk; never throws: a failure of the call itself
// fails every item of the chunk.
ResultChunk call_batch_locked(PyObject* run_batch, const ItemChunk& chunk);

// Every item of `chunk` failed for one reason (a worker that died).
ResultChunk failed_chunk(const ItemChunk& chunk, const std::string& type, const std::string& message);

}  // namespace iso::pool
