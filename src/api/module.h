// The `isolate` Python module (module.cc), for the two places that make it
// importable: the interpreters isolate embeds (a built-in module) and the
// extension module for python3 (extension.cc).
#pragma once

#include <Python.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "isolate/pool.h"

namespace iso::api {

// What `_Pool` drives: this process's MapPool, or (backend "mpi", inside
// `isolate run` on rank 0 of an MPI job) every rank's pool, through a
// factory the core installs. The API module itself never links MPI.
class Workers {
 public:
  virtual ~Workers() = default;
  virtual void submit(pool::ItemChunk chunk) = 0;
  virtual std::optional<pool::ResultChunk> next_for(std::chrono::nanoseconds limit) = 0;
  virtual bool ended() const = 0;
  virtual bool withdraw(std::uint64_t index) = 0;
  virtual void finish() = 0;
  virtual void cancel() = 0;
  virtual std::size_t chunk_size() const = 0;
  virtual std::string_view backend_name() const = 0;
  virtual unsigned workers() const = 0;
  virtual const std::string& refused_module() const = 0;
};

// Starts the job's workers with `local` as this rank's own pool; throws pool::Error.
using ClusterFactory = std::unique_ptr<Workers> (*)(const pool::Options& local);
// Ends the job's workers while the interpreter still runs (isolate's atexit).
using ClusterCloser = void (*)();
// The core's, on rank 0 of an MPI job of `ranks` ranks; `_cluster_ranks()` tells Python.
void set_cluster(ClusterFactory factory, ClusterCloser closer, int ranks);

// The module's PyInit function (multi-phase initialisation).
PyObject* init_module();

// Adds `isolate` to the built-in modules; call before Py_Initialize.
void register_module();

}  // namespace iso::api
