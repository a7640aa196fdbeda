// One producer (the benchmark's thread) and one consumer thread move u64
// items through a bounded queue: SpscRing (blocking and wait-free calls), a
// mutex + deque with condition variables, and tbb::concurrent_bounded_queue.
//
//   build/bin/conc_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only
#include <benchmark/benchmark.h>
#include <tbb/concurrent_queue.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>

#include "isolate/conc/spsc_ring.h"

namespace {

using Item = std::uint64_t;

struct RingBlocking {
  explicit RingBlocking(std::size_t capacity) : ring(capacity) {}
  void push(Item v) { ring.push(v); }
  std::optional<Item> pop() { return ring.pop(); }
  void close() { ring.close(); }
  iso::conc::SpscRing<Item> ring;
};

// Both sides poll the wait-free calls: the ring's floor cost.
struct RingPolling {
  explicit RingPolling(std::size_t capacity) : ring(capacity) {}
  void push(Item v) {
    while (!ring.try_push(v)) iso::conc::detail::cpu_relax();
  }
  std::optional<Item> pop() {
    for (;;) {
      if (std::optional<Item> v = ring.try_pop()) return v;
      if (ring.closed()) return ring.try_pop();
      iso::conc::detail::cpu_relax();
    }
  }
  void close() { ring.close(); }
  iso::conc::SpscRing<Item> ring;
};

class MutexDeque {
 public:
  explicit MutexDeque(std::size_t capacity) : capacity_(capacity) {}
  void push(Item v) {
    std::unique_lock lock(mutex_);
    not_full_.wait(lock, [&] { return items_.size() < capacity_; });
    items_.push_back(v);
    lock.unlock();
    not_empty_.notify_one();
  }
  std::optional<Item> pop() {
    std::unique_lock lock(mutex_);
    not_empty_.wait(lock, [&] { return !items_.empty() || closed_; });
    if (items_.empty()) return std::nullopt;
    const Item v = items_.front();
    items_.pop_front();
    lock.unlock();
    not_full_.notify_one();
    return v;
  }
  void close() {
    const std::lock_guard lock(mutex_);
    closed_ = true;
    not_empty_.notify_all();
  }

 private:
  std::size_t capacity_;
  std::mutex mutex_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::deque<Item> items_;
  bool closed_ = false;
};

struct TbbBounded {
  static constexpr Item kEnd = std::numeric_limits<Item>::max();
  explicit TbbBounded(std::size_t capacity) { queue.set_capacity(static_cast<std::ptrdiff_t>(capacity)); }
  void push(Item v) { queue.push(v); }
  std::optional<Item> pop() {
    Item v = 0;
    queue.pop(v);
    if (v == kEnd) return std::nullopt;
    return v;
  }
  void close() { queue.push(kEnd); }
  tbb::concurrent_bounded_queue<Item> queue;
};

template <class Queue>
void BM_Transfer(benchmark::State& state) {
  Queue queue(static_cast<std::size_t>(state.range(0)));
  std::thread consumer([&] {
    Item sum = 0;
    while (const std::optional<Item> v = queue.pop()) sum += *v;
    benchmark::DoNotOptimize(sum);
  });
  Item i = 0;
  for (auto _ : state) queue.push(i++);  // NOLINT(clang-analyzer-deadcode.DeadStores): the API
  queue.close();
  consumer.join();
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_Transfer<RingBlocking>)->Name("transfer/SpscRing.push+pop")->Arg(1024)->UseRealTime();
BENCHMARK(BM_Transfer<RingPolling>)->Name("transfer/SpscRing.try_push+try_pop")->Arg(1024)->UseRealTime();
BENCHMARK(BM_Transfer<MutexDeque>)->Name("transfer/mutex+deque")->Arg(1024)->UseRealTime();
BENCHMARK(BM_Transfer<TbbBounded>)->Name("transfer/tbb::concurrent_bounded_queue")->Arg(1024)->UseRealTime();

}  // namespace
