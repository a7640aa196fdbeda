// ThreadPool: the entry points, the choice between running inline and
// running on the threads, and the lifetime of the threads (lazy start, fork,
// exit).
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "chunking.h"
#include "config.h"
#include "core.h"
#include "isolate/exec.h"
#include "variants.h"

namespace iso {
namespace exec_detail {

class PoolImpl {
 public:
  PoolImpl(std::size_t participants, Schedule schedule) : participants(participants), schedule(schedule) {}
  ~PoolImpl() {
    shutdown();
    Core* core = core_.load(std::memory_order_acquire);
    if (core != nullptr && core->fork_generation == fork_generation()) delete core;
  }
  PoolImpl(const PoolImpl&) = delete;
  PoolImpl& operator=(const PoolImpl&) = delete;

  // This process's Core, started on first use; nullptr once shut down.
  Core* core() {
    Core* core = core_.load(std::memory_order_acquire);
    if (core != nullptr && core->fork_generation == fork_generation()) return core;
    const std::lock_guard lock(lifecycle_mutex());
    if (shut_down_) return nullptr;
    core = core_.load(std::memory_order_relaxed);
    // A Core from before fork() is left as it is: its threads are the parent's.
    if (core == nullptr || core->fork_generation != fork_generation()) {
      core = new Core(participants, schedule, config().spin_ns);
      core_.store(core, std::memory_order_release);
    }
    return core;
  }

  void shutdown() {
    // exit() from inside a body: the loop it is in cannot finish, so there is
    // nothing to join; the process is ending anyway.
    if (t_in_body) return;
    Core* core = nullptr;
    {
      const std::lock_guard lock(lifecycle_mutex());
      shut_down_ = true;
      core = core_.load(std::memory_order_relaxed);
    }
    if (core != nullptr && core->fork_generation == fork_generation()) core->shutdown();
  }

  const std::size_t participants;
  const Schedule schedule;

 private:
  std::atomic<Core*> core_{nullptr};
  bool shut_down_ = false;  // guarded by lifecycle_mutex()
};

void check_range(const char* api, std::size_t begin, std::size_t end) {
  if (begin > end) {
    throw std::invalid_argument(std::string("iso::") + api + ": begin (" + std::to_string(begin) +
                                ") is greater than end (" + std::to_string(end) + ")");
  }
}

std::size_t reduce_block_items(std::size_t items) noexcept {
  constexpr std::size_t kMaxBlocks = 4096;
  constexpr std::size_t kMinBlock = 16;
  const std::size_t block = items / kMaxBlocks + (items % kMaxBlocks != 0 ? 1 : 0);
  return block < kMinBlock ? kMinBlock : block;
}

}  // namespace exec_detail

Chunking Chunking::fixed(std::size_t items) {
  if (items == 0) throw std::invalid_argument("iso::Chunking::fixed: a chunk needs at least 1 item");
  return Chunking(items);
}

std::size_t default_concurrency() {
  return exec_detail::config().threads;
}

ThreadPool::ThreadPool(std::size_t threads) : ThreadPool(threads, exec_detail::Schedule::stealing) {}

ThreadPool::ThreadPool(std::size_t threads, exec_detail::Schedule schedule)
    : impl_(std::make_unique<exec_detail::PoolImpl>(threads == 0 ? exec_detail::config().threads : threads,
                                                    schedule)) {}

ThreadPool::~ThreadPool() = default;

std::size_t ThreadPool::size() const noexcept {
  return impl_->participants;
}

void ThreadPool::shutdown() {
  impl_->shutdown();
}

void ThreadPool::run(std::size_t begin, std::size_t end, const exec_detail::Loop& loop, Chunking chunking,
                     const char* api) {
  exec_detail::check_range(api, begin, end);
  if (begin == end) return;
  if (impl_->participants == 1 || exec_detail::t_in_body) return loop.fn(loop.ctx, begin, end);
  std::size_t chunk = chunking.items();
  bool learn = false;
  if (chunking.is_automatic()) {
    chunk = exec_detail::config().forced_chunk;
    if (chunk == 0) {
      const exec_detail::Plan plan = exec_detail::plan_automatic(loop, begin, end, impl_->participants);
      if (plan.chunk == 0) return;
      begin = plan.begin;
      chunk = plan.chunk;
      learn = exec_detail::kLearnsCosts;
    }
  }
  if (end - begin <= chunk) return loop.fn(loop.ctx, begin, end);
  exec_detail::Core* core = impl_->core();
  if (core == nullptr || !core->run(loop, begin, end, chunk, learn)) loop.fn(loop.ctx, begin, end);
}

ThreadPool& default_pool() {
  static ThreadPool* const pool = [] {
    // Never destroyed: a loop started by another static's destructor still
    // finds it (and runs inline once the threads are joined at exit).
    auto* p = new ThreadPool();
    std::atexit([] { default_pool().shutdown(); });
    return p;
  }();
  return *pool;
}

}  // namespace iso
