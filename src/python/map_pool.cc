// The isolate pool: one thread per worker, fed by the dispatcher (the caller
// of submit) over its own single-producer single-consumer ring, answering
// over another; the collector (the caller of next) drains the answer rings.
// What a worker does with a chunk depends on the backend (pool_*.cc).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

#include <spdlog/logger.h>

#include "isolate/conc/log.h"
#include "isolate/conc/spsc_ring.h"
#include "pool_internal.h"

namespace iso::python {

namespace {

constexpr std::size_t kChunksQueuedPerWorker = 4;  // enough to hide the hand-over, little to lose on Ctrl-C

}  // namespace

std::optional<Backend> parse_backend(std::string_view name) {
  if (name == "subinterp") return Backend::subinterp;
  if (name == "threads") return Backend::threads;
  if (name == "process") return Backend::process;
  return std::nullopt;
}

std::string_view backend_name(Backend backend) {
  switch (backend) {
    case Backend::subinterp:
      return "subinterp";
    case Backend::threads:
      return "threads";
    case Backend::process:
      return "process";
  }
  return "?";
}

Backend auto_backend() {
  const char* force = std::getenv("ISO_FORCE_PROCESS");
  if (force != nullptr && force[0] != '\0' && force[0] != '0') return Backend::process;
  if (build_info().gil_disabled) return Backend::threads;  // the runtime check is in EmbeddedPython
  if (PY_VERSION_HEX >= 0x030C0000) return Backend::subinterp;
  return Backend::process;
}

struct MapPool::Impl {
  struct Worker {
    conc::SpscRing<ItemChunk> inbox{kChunksQueuedPerWorker};
    conc::SpscRing<ResultChunk> outbox{kChunksQueuedPerWorker};
    std::atomic<std::size_t> queued{0};  // chunks submitted and not yet answered
    std::thread thread;
  };

  PoolOptions options;
  std::vector<std::unique_ptr<Worker>> workers;
  PyObject* main_run_batch = nullptr;  // threads and process backends

  // Bumped after every answer, submit and finish; the collector waits on it.
  std::atomic<std::uint32_t> events{0};
  std::atomic<std::size_t> outstanding{0};  // chunks submitted, not yet returned by next()
  std::atomic<bool> finished{false};
  std::atomic<bool> cancelled{false};
  std::size_t next_outbox = 0;  // the collector's round-robin start
  std::size_t next_inbox = 0;   // the dispatcher's
  std::atomic<std::uint64_t> items_done{0};
  std::atomic<std::uint64_t> busy_ns{0};

  std::mutex start_lock;
  std::condition_variable started;
  unsigned ready = 0;
  std::optional<PoolError> start_error;

  void worker_main(Worker& w);
  void report_start(std::optional<PoolError> error);
  void signal_event() {
    events.fetch_add(1, std::memory_order_release);
    events.notify_one();
  }
  void stop();
};

void MapPool::Impl::report_start(std::optional<PoolError> error) {
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
    conc::logger().debug("{} worker ready", backend_name(options.backend));
    report_start(std::nullopt);
  } catch (const PoolError& e) {
    conc::logger().debug("{} worker failed to start: {}", backend_name(options.backend), e.what());
    report_start(e);
    w.inbox.close();
  }
  while (std::optional<ItemChunk> chunk = w.inbox.pop()) {
    const auto t0 = std::chrono::steady_clock::now();
    ResultChunk results = executor->run(*chunk);
    const auto ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0);
    busy_ns.fetch_add(static_cast<std::uint64_t>(ns.count()), std::memory_order_relaxed);
    items_done.fetch_add(chunk->size(), std::memory_order_relaxed);
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

MapPool::MapPool(const PoolOptions& options) : impl_(std::make_unique<Impl>()) {
  Impl& p = *impl_;
  p.options = options;
  if (p.options.workers == 0) p.options.workers = 1;
  if (options.backend != Backend::subinterp) {
    // The main interpreter imports TARGET once: threads share it, and forked
    // workers inherit it warm.
    const PyGILState_STATE gil = PyGILState_Ensure();
    try {
      p.main_run_batch = pool::load_target_locked(options, /*fresh=*/false);
    } catch (...) {
      PyGILState_Release(gil);
      throw;
    }
    PyGILState_Release(gil);
  }
  for (unsigned i = 0; i < p.options.workers; ++i) p.workers.push_back(std::make_unique<Impl::Worker>());
  for (auto& w : p.workers) w->thread = std::thread([&p, &w = *w] { p.worker_main(w); });
  std::unique_lock lock(p.start_lock);
  p.started.wait(lock, [&p] { return p.ready == p.workers.size(); });
  if (p.start_error) {
    PoolError error = *p.start_error;
    lock.unlock();
    p.stop();
    throw error;
  }
}

MapPool::~MapPool() {
  impl_->stop();
}

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
  Impl& p = *impl_;
  for (;;) {
    const std::uint32_t seen = p.events.load(std::memory_order_acquire);
    if (p.cancelled.load(std::memory_order_acquire)) return std::nullopt;
    if (p.outstanding.load(std::memory_order_acquire) == 0) {
      if (p.finished.load(std::memory_order_acquire)) return std::nullopt;
    } else {
      for (std::size_t k = 0; k < p.workers.size(); ++k) {
        Impl::Worker& w = *p.workers[(p.next_outbox + k) % p.workers.size()];
        if (std::optional<ResultChunk> results = w.outbox.try_pop()) {
          p.next_outbox = (p.next_outbox + k + 1) % p.workers.size();
          p.outstanding.fetch_sub(1, std::memory_order_acq_rel);
          return results;
        }
      }
    }
    p.events.wait(seen, std::memory_order_acquire);
  }
}

void MapPool::finish() {
  impl_->finished.store(true, std::memory_order_release);
  impl_->signal_event();
}

void MapPool::cancel() {
  impl_->cancelled.store(true, std::memory_order_release);
  impl_->signal_event();
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

}  // namespace iso::python
