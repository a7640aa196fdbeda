// isolate/python.h — the embedded CPython: what this build embeds, and a
// python3-compatible main.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace iso::python {

// Facts fixed when isolate was built; they describe the one CPython it embeds.
struct BuildInfo {
  std::string_view version;                // "3.13.0"
  std::string_view executable;             // the real python3.x binary of the same build
  bool libpython_static;                   // libpython3.x.a linked into this binary
  bool gil_disabled;                       // a free-threaded (Py_GIL_DISABLED) build
  std::vector<std::string_view> backends;  // pool backends: subinterp, threads, process
};

const BuildInfo& build_info();

// Runs python3's own command line `args` (everything after the program name)
// exactly as the embedded build's python3 would, and returns its exit status.
// The interpreter sees the real python3.x as argv[0], so sys.executable,
// sys.prefix and sys.path match it. Initialises and finalises CPython: call it
// at most once per process.
//
// The allocator behind CPython's RAW, MEM and OBJ memory domains is pymalloc
// unless ISO_PYMALLOC or `-X iso_pymalloc=` (which wins) says isoalloc or
// malloc; an unknown name, or one set together with PYTHONMALLOC, is a
// one-line error and exit status 2.
int run_main(int argc, char** args);

// CPython's memory allocators: pymalloc (CPython's own small-object
// allocator, the default), isoalloc, or the C library's malloc.
enum class Allocator { pymalloc, isoalloc, malloc };

// "pymalloc", "isoalloc" or "malloc"; nullopt for anything else.
std::optional<Allocator> parse_allocator(std::string_view name);

// Serves the RAW, MEM and OBJ domains from `allocator` (pymalloc: leaves the
// pre-initialised choice). CPython allows this only after Py_PreInitialize
// and before Py_InitializeFromConfig. debug_hooks re-installs CPython's
// debug hooks on top, as -X dev does.
void install_allocator(Allocator allocator, bool debug_hooks);

// ---------------------------------------------------------------- the pool
// A pool of warm isolates that call one Python function (TARGET,
// "module:function" or "path/to/file.py:function") on JSON-encoded
// arguments (DESIGN.md §3). Backends: one sub-interpreter with its own GIL
// per worker thread, threads of the main interpreter (parallel on a
// free-threaded build), or forked worker processes.
enum class Backend { subinterp, threads, process };

std::optional<Backend> parse_backend(std::string_view name);  // "subinterp", "threads", "process"
std::string_view backend_name(Backend backend);
// The best backend of this build and process: threads on a free-threaded
// CPython whose GIL is off, else subinterp (>= 3.12), else process;
// ISO_FORCE_PROCESS=1 forces process.
Backend auto_backend();

// How items and results are encoded (python/isolate/_map_worker.py).
enum class Codec {
  json,    // `isolate map`: one JSON argument per item; results and errors as JSON
  pickle,  // the Python API: a pickled call per item; pickled results and exceptions
};

struct MapItem {
  std::uint64_t index = 0;
  std::string json;  // the encoded item: one JSON argument (or, with star, an array), or a pickle
};
struct MapResult {
  std::uint64_t index = 0;
  bool ok = false;
  // The encoded return value or error. A failure the pool itself reports (a
  // worker that died) is a JSON {"type", "message", "traceback"} in either codec.
  std::string json;
};
using ItemChunk = std::vector<MapItem>;
using ResultChunk = std::vector<MapResult>;

struct PoolOptions {
  std::string target;  // with Codec::pickle optional: a function to load when workers start
  Codec codec = Codec::json;
  bool star = false;  // spread a JSON array into positional arguments
  Backend backend = Backend::process;
  unsigned workers = 1;
};

// A failure to start: the message is one line, ready for the user.
class PoolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  std::string refused_module;  // set when a module refused to load in a sub-interpreter
};

// Needs an initialised interpreter whose GIL the calling thread does not hold
// (EmbeddedPython below). Workers start in the constructor and stay warm.
class MapPool {
 public:
  explicit MapPool(const PoolOptions& options);  // throws PoolError
  ~MapPool();
  MapPool(const MapPool&) = delete;
  MapPool& operator=(const MapPool&) = delete;

  // Queues a chunk on the least busy worker; blocks while every queue is full.
  void submit(ItemChunk chunk);
  // The next finished chunk, in completion order; blocks. nullopt once
  // finish() was called and every submitted chunk has come back.
  std::optional<ResultChunk> next();
  void finish();  // no more submits
  // Makes next() return nullopt at once (a caller that gave up on the rest);
  // workers finish the chunk in hand when the pool is destroyed.
  void cancel();
  // Mean wall time per item over the chunks finished so far (0 before any).
  double seconds_per_item() const;
  Backend backend() const;
  unsigned workers() const;
  // SIGKILLs every worker process of every pool; async-signal-tolerant
  // enough for a signal-handling thread (no allocation, one lock).
  static void kill_worker_processes();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The embedded interpreter for the pool: initialised like python3 (the
// build's stdlib and site-packages, PYTHON* variables honoured) but without
// Python's signal handlers, and with the GIL released on return.
class EmbeddedPython {
 public:
  EmbeddedPython();   // throws PoolError
  ~EmbeddedPython();  // finalises
  EmbeddedPython(const EmbeddedPython&) = delete;
  EmbeddedPython& operator=(const EmbeddedPython&) = delete;
  // Leaves without finalising (Ctrl-C with workers still busy).
  [[noreturn]] static void quick_exit(int status);

 private:
  void* main_thread_state_ = nullptr;
};

// ---------------------------------------------------------- the warm start
// `isolate serve` (DESIGN.md §1): an interpreter initialised once, then
// forked for every request; the child becomes the python3 that the request's
// command line would have started.

// Initialises CPython as `python3` with no arguments would be (the same
// environment rules, allocator choice and signal handlers), imports every
// module of `preload`, and keeps the GIL on the calling thread. Throws
// std::runtime_error with a one-line message. Call at most once per process.
void warm_initialize(const std::vector<std::string>& preload);

// Around the server's fork(): CPython's own fork protocol, including the
// os.register_at_fork() hooks (random reseeds itself in the child).
void warm_before_fork();
void warm_after_fork_parent();
void warm_after_fork_child();

struct WarmStart {
  enum class Outcome {
    ready,   // warm_run_and_exit() runs the request
    cold,    // only a fresh interpreter can run it (cold_reason says why); nothing ran
    exited,  // python3's command line ended it (--version, a bad option): exit_code
  };
  Outcome outcome = Outcome::cold;
  std::string cold_reason;
  int exit_code = 0;
};

// In a forked child whose process already has the caller's working
// directory, environment and stdio: reads `args` (python3's command line,
// without the program name) as python3 would, and unless a setting fixed at
// initialisation differs (-E, -O, -X dev, -W, ...), gives the interpreter
// that command line's configuration, new sys.std* streams on fds 0-2, the
// caller's os.environ and python3's signal handlers for a caller whose
// ignored signals are `ignored_signals` (bit N-1 for signal N).
WarmStart warm_prepare(const std::vector<std::string>& args, std::uint64_t ignored_signals);

// In a spare child forked ahead of its request: does, on throwaway objects,
// the work every request does (parse a command line, make std streams,
// compile and run a line), so that the pages it writes are copied now
// rather than while a caller waits.
void warm_pretouch();

// Runs the prepared command line as Py_RunMain does and leaves the process
// with its exit status. Just before that, with the std streams flushed and
// fds 0-2 closed, `report` (if set) gets the status; a death by signal is
// not reported.
[[noreturn]] void warm_run_and_exit(void (*report)(int exit_status));

}  // namespace iso::python
