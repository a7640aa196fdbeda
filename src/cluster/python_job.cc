#include "python_job.h"

#include <Python.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "api/module.h"
#include "coordinator.h"
#include "isolate/pool.h"
#include "isolate/python.h"
#include "rank.h"
#include "transport.h"

namespace iso::cluster {

namespace {

int env_int(const char* name, int fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::atoi(value) : fallback;
}

int rank_from_environment() {
  return env_int("OMPI_COMM_WORLD_RANK", env_int("PMIX_RANK", env_int("PMI_RANK", 0)));
}

// -1: the launcher does not say (PMIx alone): assume a job of several.
int size_from_environment() {
  return env_int("OMPI_COMM_WORLD_SIZE", env_int("PMI_SIZE", -1));
}

// Rank 0's side of the job: MPI, this rank's pool and the coordinator,
// started by the first `_Pool("mpi")` and kept for the next ones (every rank
// serves one coordinator for the life of the job), one user at a time.
struct Job {
  std::mutex lock;
  std::condition_variable detached;
  std::unique_ptr<Transport> transport;
  std::unique_ptr<pool::MapPool> local;
  std::unique_ptr<Coordinator> coordinator;
  bool in_use = false;
  bool started = false;  // MPI was initialised, whether or not the rest started
  std::string failed;    // why the job could not start: every later attach says so
};

Job& job() {
  static Job* the = new Job;  // never destroyed: the process ends with it
  return *the;
}

class ClusterWorkers final : public api::Workers {
 public:
  explicit ClusterWorkers(Coordinator& c) : c_(c) {}
  ~ClusterWorkers() override {
    try {
      c_.reset();  // what is out comes back and is dropped, for the next user
    } catch (const Error&) {
    }
    const std::lock_guard guard(job().lock);
    job().in_use = false;
    job().detached.notify_all();
  }
  void submit(pool::ItemChunk chunk) override { c_.submit(std::move(chunk)); }
  std::optional<pool::ResultChunk> next_for(std::chrono::nanoseconds limit) override {
    return c_.next_for(limit);
  }
  bool ended() const override { return c_.ended(); }
  bool withdraw(std::uint64_t index) override { return c_.withdraw(index); }
  void finish() override { c_.finish(); }
  void cancel() override { c_.cancel(); }
  std::size_t chunk_size() const override { return c_.chunk_size(0); }
  std::string_view backend_name() const override { return "mpi"; }
  unsigned workers() const override { return c_.workers(); }
  const std::string& refused_module() const override { return none_; }

 private:
  Coordinator& c_;
  std::string none_;
};

std::unique_ptr<api::Workers> attach(const pool::Options& local) {
  Job& j = job();
  std::unique_lock guard(j.lock);
  // A pool just closed (a map that failed) may still be handing the job
  // back: give it a moment before calling the job busy.
  if (!j.detached.wait_for(guard, std::chrono::seconds(10), [&] { return !j.in_use; }))
    throw pool::Error(pool::Error::Kind::start,
                      "isolate: the MPI job's pool is in use by another map or executor");
  if (!j.failed.empty()) throw pool::Error(pool::Error::Kind::start, j.failed);
  if (!j.coordinator) {
    try {
      if (!j.transport) {
        j.started = true;
        j.transport = std::make_unique<Transport>();
      }
      j.local = std::make_unique<pool::MapPool>(local);
      j.coordinator = std::make_unique<Coordinator>(*j.transport, *j.local, /*reader_thread=*/false);
    } catch (const Error& e) {
      // The other ranks were told to stop (or MPI would not start): the job is over.
      j.failed = std::string("isolate: mpi: ") + e.what();
      j.local.reset();
      throw pool::Error(pool::Error::Kind::start, j.failed);
    }
  }
  j.in_use = true;
  return std::make_unique<ClusterWorkers>(*j.coordinator);
}

// isolate's last atexit, once its pools are closed: the coordinator says end
// to every rank and this rank's pool closes, while the interpreter its
// sub-interpreters belong to still runs.
void close_job() {
  Job& j = job();
  const std::lock_guard guard(j.lock);
  j.coordinator.reset();
  j.local.reset();
}

// At the end of rank 0's Python (Py_AtExit): the other ranks wait for word
// from it, whether or not the script used them; then MPI ends.
void end_job() {
  Job& j = job();
  try {
    if (!j.started) {
      j.transport = std::make_unique<Transport>();
      Coordinator::stop_all(*j.transport);
    }
    if (j.coordinator) {  // isolate's atexit did not run (an error at exit): say end, and leave the rest
      for (int r = 1; r < j.transport->size(); ++r) j.transport->send(r, Tag::end, {});
      (void)j.coordinator.release();
      (void)j.local.release();
    }
    j.transport.reset();
  } catch (const Error& e) {
    std::fprintf(stderr, "isolate: mpi: %s\n", e.what());
  }
}

// The script of python3's command line (the first argument that is not an
// option, if it is a file), or empty for -c, -m and stdin.
std::string script_path(int argc, char** argv) {
  for (int i = 0; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-c" || arg == "-m" || arg == "-") break;
    if (arg.starts_with("-")) continue;
    std::error_code ec;
    if (std::filesystem::is_regular_file(arg, ec)) return std::filesystem::absolute(arg, ec).string();
    break;
  }
  return {};
}

// What every worker of this rank loads: isolate._preload(None), with the
// script's directory (or the current one) first on sys.path, as python3 puts
// it for rank 0. Workers of every backend find rank 0's __main__ functions
// by importing the script when one is first needed, as a sub-interpreter
// does (its `if __name__ == "__main__":` block does not run).
std::string prepare_interpreter(const std::string& script) {
  const std::string directory = script.empty() ? std::filesystem::current_path().string()
                                               : std::filesystem::path(script).parent_path().string();
  const PyGILState_STATE gil = PyGILState_Ensure();
  std::string preload;
  PyObject* sys_path = PySys_GetObject("path");  // borrowed
  PyObject* dir = PyUnicode_FromString(directory.c_str());
  PyObject* isolate = PyImport_ImportModule("isolate");
  if (sys_path != nullptr && dir != nullptr && isolate != nullptr && PyList_Insert(sys_path, 0, dir) == 0) {
    PyObject* done = PyObject_CallMethod(isolate, "_serve_for_rank", nullptr);
    Py_XDECREF(done);
    PyObject* text = PyErr_Occurred() ? nullptr : PyObject_CallMethod(isolate, "_preload", "O", Py_None);
    if (text != nullptr && PyUnicode_Check(text)) preload = PyUnicode_AsUTF8(text);
    Py_XDECREF(text);
  }
  std::string error;
  if (PyErr_Occurred()) {
    PyObject *type = nullptr, *value = nullptr, *trace = nullptr;
    PyErr_Fetch(&type, &value, &trace);
    PyObject* text = value != nullptr ? PyObject_Str(value) : nullptr;
    error = std::string("cannot load ") + script + ": " +
            (type != nullptr ? reinterpret_cast<PyTypeObject*>(type)->tp_name : "error") + ": " +
            (text != nullptr && PyUnicode_Check(text) ? PyUnicode_AsUTF8(text) : "");
    Py_XDECREF(text);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(trace);
  }
  Py_XDECREF(isolate);
  Py_XDECREF(dir);
  PyGILState_Release(gil);
  if (!error.empty()) throw pool::Error(pool::Error::Kind::start, error);
  return preload;
}

int serve_python_rank(int argc, char** argv) {
  end_on_stop_signals();
  std::unique_ptr<Transport> transport;
  try {
    transport = std::make_unique<Transport>();
  } catch (const Error& e) {
    std::fprintf(stderr, "isolate: run: %s\n", e.what());
    return 2;
  }
  std::string error;
  std::unique_ptr<pool::EmbeddedPython> interpreter;
  std::unique_ptr<pool::MapPool> pool;
  try {
    interpreter = std::make_unique<pool::EmbeddedPython>();
    pool::Options options;
    options.codec = pool::Codec::pickle;
    options.functions_known = false;
    options.workers = pool::resolve_workers(0);
    const pool::BackendChoice choice = pool::choose_backend("auto");
    options.backend = choice.backend;
    options.fall_back = choice.automatic;
    options.target = prepare_interpreter(script_path(argc, argv));
    pool = std::make_unique<pool::MapPool>(options);
  } catch (const pool::Error& e) {
    error = e.what();
    if (error.starts_with("isolate: ")) error.erase(0, std::strlen("isolate: "));
  }
  try {
    const int status = serve_rank(*transport, pool.get(), error);
    pool.reset();
    return status;
  } catch (const Error& e) {
    std::fprintf(stderr, "isolate: run: rank %d: %s\n", transport->rank(), e.what());
    transport->abort(2);
  }
}

}  // namespace

bool python_job_wanted() {
  return launched_by_mpi() && size_from_environment() != 1;
}

int run_python_job(int argc, char** argv) {
  if (rank_from_environment() != 0) return serve_python_rank(argc, argv);
  const int size = size_from_environment();
  api::set_cluster(attach, close_job, size > 0 ? size : 2);
  Py_AtExit(end_job);
  return python::run_main(argc, argv);
}

}  // namespace iso::cluster
