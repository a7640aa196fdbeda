// The isolate pool: one thread per worker, fed by the dispatcher (the caller
// of submit) over its own single-producer single-consumer ring, answering
// over another; the collector (the caller of next) drains the answer rings.
// What a worker does with a chunk depends on the backend (inprocess.cc,
// process.cc).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <unordered_set>

#include "exec/futex.h"
#include "internal.h"
#include "isolate/conc/spsc_ring.h"
#include "log.h"

namespace iso::pool {

namespace {

constexpr std::size_t kChunksQueuedPerWorker = 4;  // enough to hide the hand-over, little to lose on Ctrl-C
constexpr double kChunkSeconds = 0.005;            // automatic chunks aim at this much work each
// Tiny calls need big chunks to amortise a chunk's crossing; past this the
// crossing is lost in the work.
constexpr std::size_t kMaxChunk = 4096;

// Thrown by Impl::start() when an automatic threads pool's target turned the
// GIL on (a free-threaded build loading an extension that needs it).
struct GilTurnedOn {};

// TARGET is MODULE:FUNCTION: its module, loaded by now, is what threads share.
void share_target_constants_locked(const Options& options) {
  const std::string module_name = options.target.substr(0, options.target.find(':'));
  PyObject* name =
      PyUnicode_FromStringAndSize(module_name.data(), static_cast<Py_ssize_t>(module_name.size()));
  PyObject* module = name != nullptr ? PyImport_GetModule(name) : nullptr;
  if (module != nullptr) share_constants_locked(module);
  Py_XDECREF(module);
  Py_XDECREF(name);
  PyErr_Clear();
}

}  // namespace

struct MapPool::Impl {
  explicit Impl(const Options& o) : options(o) {}
  ~Impl() { stop(); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  struct Worker {
    conc::SpscRing<ItemChunk> inbox{kChunksQueuedPerWorker};
    conc::SpscRing<ResultChunk> outbox{kChunksQueuedPerWorker};
    std::atomic<std::size_t> queued{0};  // chunks submitted and not yet answered
    std::thread thread;
  };

  Options options;
  std::string refused_module;  // what moved the pool to process (Options::fall_back)
  std::vector<std::unique_ptr<Worker>> workers;
  PyObject* main_run_batch = nullptr;  // threads and process backends

  // Bumped after every answer, submit and finish; the collector sleeps on it
  // (a futex of its own, not atomic::wait, for waits with a time limit).
  std::atomic<std::uint32_t> events{0};
  std::atomic<std::size_t> outstanding{0};  // chunks submitted, not yet returned by next()
  std::atomic<bool> finished{false};
  std::atomic<bool> cancelled{false};
  std::size_t next_outbox = 0;  // the collector's round-robin start
  std::size_t next_inbox = 0;   // the dispatcher's
  std::atomic<std::uint64_t> items_done{0};
  std::atomic<std::uint64_t> busy_ns{0};

  // A chunk is claimed by the worker that runs it or withdrawn by the caller
  // (MapPool::withdraw), whichever comes first; a claim is forgotten when
  // next() hands its answer over. Keyed by the index of the chunk's first item.
  std::mutex claims_lock;
  std::unordered_set<std::uint64_t> claimed;
  std::unordered_set<std::uint64_t> withdrawn;

  // True if the worker may run the chunk; false if it was withdrawn.
  bool claim(std::uint64_t index) {
    const std::lock_guard guard(claims_lock);
    if (withdrawn.erase(index) != 0) return false;
    claimed.insert(index);
    return true;
  }

  std::mutex start_lock;
  std::condition_variable started;
  unsigned ready = 0;
  std::optional<Error> start_error;

  void start();  // throws Error
  void worker_main(Worker& w);
  void report_start(std::optional<Error> error);
  void signal_event() {
    events.fetch_add(1, std::memory_order_release);
    exec_detail::futex_wake(events, 1);
  }
  std::optional<ResultChunk> take(std::optional<std::chrono::steady_clock::time_point> deadline);
  void stop();
};

void MapPool::Impl::report_start(std::optional<Error> error) {
  const std::lock_guard guard(start_lock);
  ++ready;
  if (error && !start_error) start_error = std::move(error);
  started.notify_all();
}

void MapPool::Impl::worker_main(Worker& w) {
  std::unique_ptr<pool::Executor> executor;
  try {
    switch (options.backend) {
      case Backend::subinterp:
        executor = pool::make_subinterp_executor(options);
        break;
      case Backend::threads:
        executor = pool::make_threads_executor(main_run_batch);
        break;
      case Backend::process:
        executor = pool::make_process_executor(main_run_batch);
        break;
    }
    log().debug("{} worker ready", backend_name(options.backend));
    report_start(std::nullopt);
  } catch (const Error& e) {
    log().debug("{} worker failed to start: {}", backend_name(options.backend), e.what());
    report_start(e);
    w.inbox.close();
  }
  while (std::optional<ItemChunk> chunk = w.inbox.pop()) {
    const bool withdrawn = !chunk->empty() && !claim(chunk->front().index);
    const auto t0 = std::chrono::steady_clock::now();
    ResultChunk results = withdrawn ? ResultChunk{} : executor->run(*chunk);
    const auto ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0);
    busy_ns.fetch_add(static_cast<std::uint64_t>(ns.count()), std::memory_order_relaxed);
    if (!withdrawn) items_done.fetch_add(chunk->size(), std::memory_order_relaxed);
    if (!w.outbox.push(std::move(results))) break;  // the pool is stopping
    w.queued.fetch_sub(1, std::memory_order_release);
    signal_event();
  }
  executor.reset();  // a sub-interpreter ends on the thread that made it
}

// Workers finish the chunk in hand; queued chunks and unread answers are
// dropped (the caller has collected everything it wanted).
void MapPool::Impl::stop() {
  for (auto& w : workers) {
    w->inbox.close();
    w->outbox.close();
  }
  for (auto& w : workers) {
    if (w->thread.joinable()) w->thread.join();
  }
  if (main_run_batch != nullptr) {
    const PyGILState_STATE gil = PyGILState_Ensure();
    Py_CLEAR(main_run_batch);
    PyGILState_Release(gil);
  }
}

void MapPool::Impl::start() {
  if (options.workers == 0) options.workers = 1;
  if (options.backend != Backend::subinterp) {
    // The main interpreter imports TARGET once: threads share it, and forked
    // workers inherit it warm.
    const PyGILState_STATE gil = PyGILState_Ensure();
    bool gil_on = false;
    try {
      main_run_batch = load_target_locked(options, /*fresh=*/false);
      gil_on = options.backend == Backend::threads && gil_enabled_now_locked();
      if (options.backend == Backend::threads && options.codec == Codec::json)
        share_target_constants_locked(options);
    } catch (...) {
      PyGILState_Release(gil);
      throw;
    }
    PyGILState_Release(gil);
    // Threads would take turns: an automatic choice moves on (MapPool()).
    if (gil_on && options.fall_back) throw GilTurnedOn{};
  }
  for (unsigned i = 0; i < options.workers; ++i) workers.push_back(std::make_unique<Worker>());
  for (auto& w : workers) w->thread = std::thread([this, &w = *w] { worker_main(w); });
  std::unique_lock lock(start_lock);
  started.wait(lock, [this] { return ready == workers.size(); });
  if (start_error) {
    Error error = *start_error;
    lock.unlock();
    stop();
    throw error;
  }
}

namespace {

// What an executor's functions may need that a sub-interpreter refuses.
std::string refused_by_what_is_loaded(const Options& options) {
  if (!options.fall_back || options.functions_known || options.backend != Backend::subinterp) return {};
  const PyGILState_STATE gil = PyGILState_Ensure();
  std::string name = loaded_module_refusing_subinterpreters_locked();
  PyGILState_Release(gil);
  return name;
}

}  // namespace

// Under fall_back, a module that refuses sub-interpreters (loaded already, or
// met while the workers load the target) moves the pool to process, and a
// target that turns a free-threaded build's GIL on moves threads to subinterp.
MapPool::MapPool(const Options& options) {
  Options chosen = options;
  std::string refused = refused_by_what_is_loaded(options);
  if (!refused.empty()) chosen.backend = Backend::process;
  try {
    impl_ = std::make_unique<Impl>(chosen);
    impl_->start();
  } catch (const GilTurnedOn&) {
    chosen.backend = PY_VERSION_HEX >= 0x030C0000 ? Backend::subinterp : Backend::process;
    log().warn(
        "the GIL is on (a module the target loaded needs it): threads would run one at a time, so the "
        "pool uses backend {}",
        backend_name(chosen.backend));
    impl_.reset();
    MapPool fallback(chosen);
    impl_ = std::move(fallback.impl_);
    return;
  } catch (const Error& e) {
    if (e.kind != Error::Kind::refused || !options.fall_back || chosen.backend != Backend::subinterp) throw;
    chosen.backend = Backend::process;
    refused = e.refused_module;
    impl_ = std::make_unique<Impl>(chosen);
    impl_->start();
  }
  impl_->refused_module = refused;
}

MapPool::~MapPool() = default;

void MapPool::submit(ItemChunk chunk) {
  Impl& p = *impl_;
  // The least busy worker; ties go round-robin from the last choice.
  const std::size_t n = p.workers.size();
  std::size_t chosen = p.next_inbox % n;
  for (std::size_t k = 1; k < n; ++k) {
    const std::size_t i = (p.next_inbox + k) % n;
    if (p.workers[i]->queued.load(std::memory_order_acquire) <
        p.workers[chosen]->queued.load(std::memory_order_acquire)) {
      chosen = i;
    }
  }
  p.next_inbox = chosen + 1;
  Impl::Worker* best = p.workers[chosen].get();
  best->queued.fetch_add(1, std::memory_order_acq_rel);
  p.outstanding.fetch_add(1, std::memory_order_acq_rel);
  p.signal_event();
  best->inbox.push(std::move(chunk));
}

std::optional<ResultChunk> MapPool::next() {
  return impl_->take(std::nullopt);
}

std::optional<ResultChunk> MapPool::next_for(std::chrono::nanoseconds limit) {
  return impl_->take(std::chrono::steady_clock::now() + limit);
}

bool MapPool::ended() const {
  const Impl& p = *impl_;
  return p.cancelled.load(std::memory_order_acquire) ||
         (p.finished.load(std::memory_order_acquire) && p.outstanding.load(std::memory_order_acquire) == 0);
}

std::optional<ResultChunk> MapPool::Impl::take(
    std::optional<std::chrono::steady_clock::time_point> deadline) {
  for (;;) {
    const std::uint32_t seen = events.load(std::memory_order_acquire);
    if (cancelled.load(std::memory_order_acquire)) return std::nullopt;
    bool skipped = false;  // a withdrawn chunk's empty answer: look again before sleeping
    if (outstanding.load(std::memory_order_acquire) == 0) {
      if (finished.load(std::memory_order_acquire)) return std::nullopt;
    } else {
      for (std::size_t k = 0; k < workers.size() && !skipped; ++k) {
        Worker& w = *workers[(next_outbox + k) % workers.size()];
        if (std::optional<ResultChunk> results = w.outbox.try_pop()) {
          next_outbox = (next_outbox + k + 1) % workers.size();
          outstanding.fetch_sub(1, std::memory_order_acq_rel);
          skipped = results->empty();
          if (skipped) continue;
          {
            const std::lock_guard guard(claims_lock);
            claimed.erase(results->front().index);
          }
          return results;
        }
      }
    }
    if (skipped) continue;
    if (!deadline) {
      exec_detail::futex_wait(events, seen);
      continue;
    }
    const auto left = *deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::nanoseconds::zero()) return std::nullopt;
    exec_detail::futex_wait_for(events, seen,
                                static_cast<std::uint64_t>(std::chrono::nanoseconds(left).count()));
  }
}

bool MapPool::withdraw(std::uint64_t index) {
  Impl& p = *impl_;
  const std::lock_guard guard(p.claims_lock);
  if (p.claimed.contains(index)) return false;
  p.withdrawn.insert(index);
  return true;
}

void MapPool::finish() {
  impl_->finished.store(true, std::memory_order_release);
  impl_->signal_event();
}

void MapPool::cancel() {
  impl_->cancelled.store(true, std::memory_order_release);
  impl_->signal_event();
}

std::size_t MapPool::chunk_size(std::size_t max_in_flight) const {
  const double per_item = seconds_per_item();
  if (per_item <= 0) return 1;  // the first chunks measure
  std::size_t most = kMaxChunk;
  if (max_in_flight > 0)
    most = std::min(most, std::max<std::size_t>(1, max_in_flight / (kChunksQueuedPerWorker * workers())));
  return std::clamp<std::size_t>(static_cast<std::size_t>(kChunkSeconds / per_item), 1, most);
}

double MapPool::seconds_per_item() const {
  const std::uint64_t items = impl_->items_done.load(std::memory_order_relaxed);
  return items == 0 ? 0.0
                    : static_cast<double>(impl_->busy_ns.load(std::memory_order_relaxed)) / 1e9 /
                          static_cast<double>(items);
}

void MapPool::kill_worker_processes() {
  pool::kill_worker_processes();
}

Backend MapPool::backend() const {
  return impl_->options.backend;
}
unsigned MapPool::workers() const {
  return impl_->options.workers;
}
const std::string& MapPool::refused_module() const {
  return impl_->refused_module;
}

}  // namespace iso::pool
