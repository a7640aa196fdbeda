// isolate/pool.h — the isolate pool (component isolate::python): warm
// isolates that call one Python function on many inputs, on every core, in
// one process. Backends: one sub-interpreter with its own GIL per worker
// thread, threads of the main interpreter (parallel on a free-threaded
// CPython), or forked worker processes.
//
// The policy is here too, and it is the only one: how many workers, which
// backend, how many items per hand-over. `isolate map` and `import isolate`
// both ask it.
//
//   iso::pool::EmbeddedPython python;                        // once per process
//   iso::pool::Options options;
//   options.target = "work:score";                          // module:function or file.py:function
//   options.workers = iso::pool::default_workers();
//   const iso::pool::BackendChoice choice = iso::pool::choose_backend("auto");
//   options.backend = choice.backend;
//   options.fall_back = choice.automatic;
//   iso::pool::MapPool pool(options);
//   pool.submit({{0, "1"}, {1, "2"}});                      // JSON arguments
//   pool.finish();
//   while (auto results = pool.next()) { ... }              // JSON return values, any order
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace iso::pool {

enum class Backend { subinterp, threads, process };

std::optional<Backend> parse_backend(std::string_view name);  // "subinterp", "threads", "process"
std::string_view backend_name(Backend backend);

// A failure to choose or start a pool: the message is one line, ready for
// the user, and starts with "isolate: ".
class Error : public std::runtime_error {
 public:
  enum class Kind {
    start,    // the pool or the interpreter could not start
    setting,  // a backend or worker count that is not valid here
    refused,  // a module refused to load in a sub-interpreter (refused_module names it)
  };
  Error(Kind kind, const std::string& message) : std::runtime_error(message), kind(kind) {}
  Kind kind;
  std::string refused_module;
};

// ---------------------------------------------------------------- policy
inline constexpr unsigned kMaxWorkers = 4096;  // ISO_THREADS's range, the executor's too

// The workers of a pool that names none: iso::default_concurrency(), the
// executor's reading of ISO_THREADS, else the CPUs this process may run on
// (its affinity mask).
unsigned default_workers();
// `requested` (0: default_workers()); throws Error (setting) past 1..kMaxWorkers.
unsigned resolve_workers(std::size_t requested);

// The best backend of this build and process: threads on a free-threaded
// CPython whose GIL is off, else subinterp (>= 3.12), else process;
// ISO_FORCE_PROCESS=1 forces process.
Backend auto_backend();

struct BackendChoice {
  Backend backend = Backend::process;
  // Chosen by "auto": a module that refuses sub-interpreters may move the
  // pool to process (Options::fall_back).
  bool automatic = false;
};

// `requested` is "auto" or a backend name; `setting` names where it came from
// in messages ("backend", "--backend"). Under "auto", ISO_BACKEND decides when
// set (named ISO_BACKEND in messages), else auto_backend(), except that a
// function of a __main__ without a file (`main_has_file` false: -c, stdin,
// the prompt) cannot be loaded in a sub-interpreter, so that gets process.
// Throws Error (setting) for an unknown name or a backend this build lacks.
BackendChoice choose_backend(std::string_view requested, std::string_view setting = "backend",
                             bool main_has_file = true);

// ---------------------------------------------------------------- the pool
// How items and results are encoded (python/isolate/_map_worker.py).
enum class Codec {
  json,    // `isolate map`: one JSON argument per item; results and errors as JSON
  pickle,  // the Python API: a pickled batch of calls per item; pickled results and exceptions
};

struct Item {
  std::uint64_t index = 0;
  std::string payload;  // JSON: one argument (with star, an array of them); pickle: a batch of calls
};
struct Result {
  std::uint64_t index = 0;
  bool ok = false;
  // The encoded return value or error. A failure the pool itself reports (a
  // worker that died) is a JSON {"type", "message", "traceback"} in either codec.
  std::string payload;
};
using ItemChunk = std::vector<Item>;
using ResultChunk = std::vector<Result>;

struct Options {
  std::string target;  // with Codec::pickle optional: what every worker loads when it starts
  Codec codec = Codec::json;
  bool star = false;  // spread a JSON array into positional arguments
  Backend backend = Backend::process;
  unsigned workers = 1;
  // A module that refuses to load in a sub-interpreter moves the pool to
  // process (refused_module() then names it) instead of failing its start.
  bool fall_back = false;
  // false: the functions are not known at start (an executor's), so a module
  // this process has already loaded and sub-interpreters refuse (single-phase
  // initialisation, or no per-interpreter GIL) counts as refusing too.
  bool functions_known = true;
};

// Needs an initialised interpreter whose GIL the calling thread does not hold
// (EmbeddedPython below). Workers start in the constructor and stay warm.
class MapPool {
 public:
  explicit MapPool(const Options& options);  // throws Error
  ~MapPool();
  MapPool(const MapPool&) = delete;
  MapPool& operator=(const MapPool&) = delete;

  // Queues a chunk on the least busy worker; blocks while every queue is full.
  void submit(ItemChunk chunk);
  // The next finished chunk, in completion order; blocks. nullopt once
  // finish() was called and every submitted chunk has come back.
  std::optional<ResultChunk> next();
  // As next(), waiting at most `limit` (zero: only a look): nullopt also
  // when the time ran out, which ended() tells apart.
  std::optional<ResultChunk> next_for(std::chrono::nanoseconds limit);
  // finish() was called and every chunk has come back, or cancel() was.
  bool ended() const;
  // Takes back a chunk (named by its first item's index) that no worker has
  // started: true, and the chunk will not run (nor be answered); false if a
  // worker has it, or had it and next() has not handed its answer over yet.
  bool withdraw(std::uint64_t index);
  void finish();  // no more submits
  // Makes next() return nullopt at once (a caller that gave up on the rest);
  // workers finish the chunk in hand when the pool is destroyed.
  void cancel();

  // Items per chunk for ~5 ms of work each, from the cost measured so far
  // (1 until a chunk has come back), at most 4096; with `max_in_flight`
  // items (read, not yet answered) allowed, small enough that every worker's
  // queue can fill.
  std::size_t chunk_size(std::size_t max_in_flight = 0) const;
  // Mean wall time per item over the chunks finished so far (0 before any).
  double seconds_per_item() const;
  Backend backend() const;
  unsigned workers() const;
  // The module that moved the pool from subinterp to process (fall_back); empty otherwise.
  const std::string& refused_module() const;
  // SIGKILLs every worker process of every pool; async-signal-tolerant
  // enough for a signal-handling thread (no allocation, one lock).
  static void kill_worker_processes();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The embedded interpreter for a pool in a program of its own (`isolate
// map`): initialised like python3 (the build's stdlib and site-packages,
// PYTHON* variables honoured) but without Python's signal handlers, and with
// the GIL released on return. `import isolate` needs none: it runs in one.
class EmbeddedPython {
 public:
  EmbeddedPython();   // throws Error
  ~EmbeddedPython();  // finalises
  EmbeddedPython(const EmbeddedPython&) = delete;
  EmbeddedPython& operator=(const EmbeddedPython&) = delete;
  // Leaves without finalising (Ctrl-C with workers still busy).
  [[noreturn]] static void quick_exit(int status);

 private:
  void* main_thread_state_ = nullptr;
};

}  // namespace iso::pool
