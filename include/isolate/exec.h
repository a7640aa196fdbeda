// isolate/exec.h — iso::parallel_for (component isolate::exec): a chunked
// parallel loop over an index range on a pool of threads. Needs nothing but
// the C++ standard library and pthreads.
//
//   iso::parallel_for(0, n, [&](std::size_t i) { out[i] = f(in[i]); });
//   iso::parallel_for(0, n, body, iso::Chunking::fixed(1000));
//   iso::parallel_for_chunks(0, n, [&](std::size_t first, std::size_t last) { ... });
//   long sum = iso::parallel_reduce(0, n, 0L, [&](std::size_t i) { return v[i]; }, std::plus<>());
//
// The body is a template argument: the per-item loop is compiled around it, so
// it inlines and can vectorise; one indirect call is paid per chunk, not per
// item. The body is called concurrently from several threads, by lvalue
// reference (it is never copied). The calling thread takes part in the work.
//
// Chunking::automatic() (the default) measures the cost of an item at each
// call site (one per body type) and picks the chunk from it; a batch too small
// to gain runs inline on the calling thread. A call from inside a body runs
// inline (nested loops never deadlock). Exceptions thrown by the body stop the
// loop; the first one is rethrown to the caller once no thread is left running
// the body. begin > end throws std::invalid_argument.
//
// Environment, read once: ISO_THREADS=N (threads of the default pool, the
// caller included; default: the CPUs this process may run on), ISO_CHUNK_SIZE=N
// (replaces automatic chunking by fixed(N)).
//
// Built with ISO_EXEC_LITE (cmake -DISO_EXEC_LITE=ON, and the benchmarks'
// lite library), the executor measures nothing: automatic chunking cuts each
// batch into 8 chunks per thread and never runs one inline, and no call
// reads the clock. docs/BENCHMARKS.md (issue 19) has what measuring costs.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

namespace iso {

// How a loop is cut into the pieces that threads claim.
class Chunking {
 public:
  // Learned per call site: see the top of this file.
  static constexpr Chunking automatic() noexcept { return Chunking(0); }
  // Chunks of exactly `items` items (the last one may be shorter), at
  // begin + k * items; throws std::invalid_argument for 0.
  static Chunking fixed(std::size_t items);

  constexpr bool is_automatic() const noexcept { return items_ == 0; }
  constexpr std::size_t items() const noexcept { return items_; }

 private:
  explicit constexpr Chunking(std::size_t items) noexcept : items_(items) {}
  std::size_t items_;
};

class ThreadPool;

// The largest ISO_THREADS, and the largest pool of the default size.
inline constexpr std::size_t kMaxThreads = 4096;

// The threads of a pool that names none, the caller included: ISO_THREADS
// (1 to kMaxThreads), else the CPUs this process may run on (its affinity
// mask). Read once, at the first call.
std::size_t default_concurrency();

namespace exec_detail {

// How threads find chunks (src/exec/variants.h): each its own lane, stealing
// from the others when done, unless a benchmark asks otherwise.
enum class Schedule : std::uint8_t;
struct PoolAccess;

// What a call site has learned: picoseconds per item (0: nothing yet), and
// from it the batch size under which a loop runs inline (0: never).
struct Site {
  std::atomic<std::uint64_t> ps_per_item{0};
  std::atomic<std::size_t> inline_below{0};
};

inline thread_local unsigned t_inline_calls = 0;

// The inline path of automatic chunking, compiled into the caller: a batch
// its site has learned to be too small runs as a plain loop there. One call
// in 16 goes to the engine instead, which times it to keep the estimate fresh.
inline bool run_here(const Site& site, std::size_t begin, std::size_t end, Chunking chunking) noexcept {
#if defined(ISO_EXEC_LITE)
  (void)site, (void)begin, (void)end, (void)chunking;
  return false;
#else
  return chunking.is_automatic() && begin <= end &&
         end - begin < site.inline_below.load(std::memory_order_relaxed) && (++t_inline_calls & 15u) != 0;
#endif
}

// One per call site: a static for each body type (and entry point).
template <class Tag, class Body>
inline Site site_of{};

using ChunkFn = void (*)(void* ctx, std::size_t first, std::size_t last);

struct Loop {
  ChunkFn fn;
  void* ctx;
  Site* site;
};

template <class Body>
void run_items(void* ctx, std::size_t first, std::size_t last) {
  Body& body = *static_cast<Body*>(ctx);
  for (std::size_t i = first; i < last; ++i) body(i);
}

template <class Body>
void run_chunk(void* ctx, std::size_t first, std::size_t last) {
  (*static_cast<Body*>(ctx))(first, last);
}

struct ItemTag {};
struct ChunkTag {};
struct ReduceTag {};

class PoolImpl;

// parallel_reduce cuts [begin, end) into blocks that depend on the item
// count only, so the result never depends on threads or timing.
std::size_t reduce_block_items(std::size_t items) noexcept;
void check_range(const char* api, std::size_t begin, std::size_t end);

}  // namespace exec_detail

class ThreadPool {
 public:
  // `threads` counts the calling thread: ThreadPool(1) runs everything on the
  // caller. 0: ISO_THREADS, or the CPUs this process may run on. Threads start
  // at the first loop that needs them.
  explicit ThreadPool(std::size_t threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  std::size_t size() const noexcept;
  // Joins the threads once the running loop (if any) ends; later loops run on
  // the calling thread. The destructor does it too.
  void shutdown();

  template <class Body>
  void parallel_for(std::size_t begin, std::size_t end, Body&& body,
                    Chunking chunking = Chunking::automatic()) {
    using B = std::remove_reference_t<Body>;
    static_assert(std::is_invocable_v<B&, std::size_t>, "parallel_for: body(std::size_t) must be callable");
    exec_detail::Site& site = exec_detail::site_of<exec_detail::ItemTag, std::remove_cv_t<B>>;
    if (exec_detail::run_here(site, begin, end, chunking)) {
      for (std::size_t i = begin; i < end; ++i) body(i);
      return;
    }
    run(begin, end, {&exec_detail::run_items<B>, const_cast<void*>(static_cast<const void*>(&body)), &site},
        chunking, "parallel_for");
  }

  // body(first, last) for each chunk [first, last).
  template <class Body>
  void parallel_for_chunks(std::size_t begin, std::size_t end, Body&& body,
                           Chunking chunking = Chunking::automatic()) {
    using B = std::remove_reference_t<Body>;
    static_assert(std::is_invocable_v<B&, std::size_t, std::size_t>,
                  "parallel_for_chunks: body(std::size_t first, std::size_t last) must be callable");
    exec_detail::Site& site = exec_detail::site_of<exec_detail::ChunkTag, std::remove_cv_t<B>>;
    if (exec_detail::run_here(site, begin, end, chunking)) {
      if (begin != end) body(begin, end);
      return;
    }
    run(begin, end, {&exec_detail::run_chunk<B>, const_cast<void*>(static_cast<const void*>(&body)), &site},
        chunking, "parallel_for_chunks");
  }

  // combine(combine(...combine(identity, map(begin))...), map(end - 1)),
  // computed in blocks fixed by the item count: for an associative combine the
  // result is that of the sequential fold, and for any combine (floating point
  // sums) it is the same on every run, whatever the threads and chunks.
  template <class T, class Map, class Combine>
  T parallel_reduce(std::size_t begin, std::size_t end, T identity, Map&& map, Combine&& combine,
                    Chunking chunking = Chunking::automatic()) {
    exec_detail::check_range("parallel_reduce", begin, end);
    const std::size_t items = end - begin;
    const std::size_t block = exec_detail::reduce_block_items(items);
    const std::size_t blocks = items == 0 ? 0 : (items - 1) / block + 1;
    auto fold = [&](std::size_t first, std::size_t last) {
      T acc = identity;
      for (std::size_t i = first; i < last; ++i) acc = combine(std::move(acc), map(i));
      return acc;
    };
    if (blocks <= 1) return fold(begin, end);
    struct Slot {
      T value;
    };
    std::vector<Slot> partial(blocks, Slot{identity});
    auto body = [&](std::size_t k0, std::size_t k1) {
      for (std::size_t k = k0; k < k1; ++k) {
        const std::size_t first = begin + k * block;
        partial[k].value = fold(first, k + 1 == blocks ? end : first + block);
      }
    };
    run(0, blocks,
        {&exec_detail::run_chunk<decltype(body)>, &body,
         &exec_detail::site_of<exec_detail::ReduceTag, decltype(body)>},
        chunking, "parallel_reduce");
    T acc = std::move(identity);
    for (Slot& s : partial) acc = combine(std::move(acc), std::move(s.value));
    return acc;
  }

 private:
  friend struct exec_detail::PoolAccess;  // the variants benchmarks compare (src/exec/variants.h)
  ThreadPool(std::size_t threads, exec_detail::Schedule schedule);
  void run(std::size_t begin, std::size_t end, const exec_detail::Loop& loop, Chunking chunking,
           const char* api);

  std::unique_ptr<exec_detail::PoolImpl> impl_;
};

// The process-wide pool behind the free functions: created at first use,
// joined at exit, re-created in the child after fork().
ThreadPool& default_pool();

template <class Body>
void parallel_for(std::size_t begin, std::size_t end, Body&& body,
                  Chunking chunking = Chunking::automatic()) {
  default_pool().parallel_for(begin, end, std::forward<Body>(body), chunking);
}

template <class Body>
void parallel_for_chunks(std::size_t begin, std::size_t end, Body&& body,
                         Chunking chunking = Chunking::automatic()) {
  default_pool().parallel_for_chunks(begin, end, std::forward<Body>(body), chunking);
}

template <class T, class Map, class Combine>
T parallel_reduce(std::size_t begin, std::size_t end, T identity, Map&& map, Combine&& combine,
                  Chunking chunking = Chunking::automatic()) {
  return default_pool().parallel_reduce(begin, end, std::move(identity), std::forward<Map>(map),
                                        std::forward<Combine>(combine), chunking);
}

}  // namespace iso
