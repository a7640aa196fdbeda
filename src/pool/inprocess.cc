// The in-process backends: a sub-interpreter with its own GIL per worker
// thread, and threads of the main interpreter (parallel only on a
// free-threaded build).
#include <mutex>

#include "internal.h"

namespace iso::pool {

namespace {

#if PY_VERSION_HEX >= 0x030C0000
// Sub-interpreters created at the same moment from several threads now and
// then fail with "Failed to import encodings module" (CPython gh-128381,
// gh-131485; seen here about once in 40 pools of two). Creation is a few ms
// of a worker's start, so it is serialised, and a failure is retried once.
std::mutex g_create_lock;

PyStatus new_interpreter(PyThreadState** state, const PyInterpreterConfig& config) {
  const std::lock_guard guard(g_create_lock);
  PyStatus status = Py_NewInterpreterFromConfig(state, &config);
  if (PyStatus_Exception(status)) {
    PyThreadState_Swap(nullptr);  // a failed creation may leave its thread state current
    status = Py_NewInterpreterFromConfig(state, &config);
  }
  return status;
}
#endif

#if PY_VERSION_HEX >= 0x030C0000
class SubinterpExecutor final : public Executor {
 public:
  explicit SubinterpExecutor(const Options& options) {
    // A thread state of the main interpreter for this thread; swapping it out
    // releases the main GIL (3.12+), and the new interpreter brings its own.
    gil_ = PyGILState_Ensure();
    main_ = PyThreadState_Swap(nullptr);
    PyInterpreterConfig config = {};
    config.use_main_obmalloc = 0;
    config.allow_fork = 0;
    config.allow_exec = 0;
    config.allow_threads = 1;
    config.allow_daemon_threads = 0;
    config.check_multi_interp_extensions = 1;
    config.gil = PyInterpreterConfig_OWN_GIL;
    const PyStatus status = new_interpreter(&state_, config);
    if (PyStatus_Exception(status)) {
      restore_main();
      throw Error(Error::Kind::start, std::string("isolate: cannot create a sub-interpreter: ") +
                                          (status.err_msg != nullptr ? status.err_msg : "unknown error"));
    }
    try {
      run_batch_ = load_target_locked(options, /*fresh=*/true);
    } catch (...) {
      Py_EndInterpreter(state_);
      restore_main();
      throw;
    }
    PyEval_SaveThread();  // idle workers hold no GIL (threads the function starts may run)
  }

  ~SubinterpExecutor() override {
    PyEval_RestoreThread(state_);
    Py_DECREF(run_batch_);
    Py_EndInterpreter(state_);
    restore_main();
  }

  ResultChunk run(const ItemChunk& chunk) override {
    PyEval_RestoreThread(state_);
    ResultChunk out = call_batch_locked(run_batch_, chunk);
    PyEval_SaveThread();
    return out;
  }

 private:
  void restore_main() {
    PyThreadState_Swap(main_);
    PyGILState_Release(gil_);
  }

  PyGILState_STATE gil_{};
  PyThreadState* main_ = nullptr;
  PyThreadState* state_ = nullptr;
  PyObject* run_batch_ = nullptr;
};
#endif

// One thread state per worker for the pool's life: PyGILState_Ensure per
// chunk would create and destroy one each time, and on a free-threaded build
// that also sets up and abandons the thread's allocator heaps every chunk.
class ThreadsExecutor final : public Executor {
 public:
  // PyThreadState_New needs no GIL, and binds the state to this thread for
  // PyGILState_Ensure in C extensions the function calls.
  explicit ThreadsExecutor(PyObject* run_batch)
      : run_batch_(run_batch), state_(PyThreadState_New(PyInterpreterState_Main())) {
    if (state_ == nullptr)
      throw Error(Error::Kind::start, "isolate: cannot create a thread state for a worker");
  }

  ~ThreadsExecutor() override {
    PyEval_RestoreThread(state_);
    PyThreadState_Clear(state_);
    PyThreadState_DeleteCurrent();
  }

  ResultChunk run(const ItemChunk& chunk) override {
    PyEval_RestoreThread(state_);
    ResultChunk out = call_batch_locked(run_batch_, chunk);
    PyEval_SaveThread();
    return out;
  }

 private:
  PyObject* run_batch_;  // owned by the pool
  PyThreadState* state_;
};

}  // namespace

std::unique_ptr<Executor> make_subinterp_executor(const Options& options) {
#if PY_VERSION_HEX >= 0x030C0000
  return std::make_unique<SubinterpExecutor>(options);
#else
  (void)options;
  throw Error(Error::Kind::setting,
              "isolate: backend 'subinterp' needs CPython >= 3.12; this build embeds " PY_VERSION);
#endif
}

std::unique_ptr<Executor> make_threads_executor(PyObject* run_batch) {
  return std::make_unique<ThreadsExecutor>(run_batch);
}

}  // namespace iso::pool
