// What the benchmarks compare the executor's choices against, and the tests
// keep working: not the public API (include/isolate/exec.h).
//   - Schedule::shared_cursor: all threads take the next chunk from one
//     counter, instead of a lane each with stealing (3-9x slower for light
//     bodies; docs/BENCHMARKS.md, issue 4).
//   - parallel_for_dyn: the boxed path, one std::function call per item
//     (0.70 of the 2-core limit on light bodies, against 0.96-0.99).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "chunking.h"
#include "isolate/exec.h"

namespace iso::exec_detail {

enum class Schedule : std::uint8_t { stealing, shared_cursor };

struct PoolAccess {
  static std::unique_ptr<ThreadPool> make(std::size_t threads, Schedule schedule) {
    return std::unique_ptr<ThreadPool>(new ThreadPool(threads, schedule));
  }
  static void run(ThreadPool& pool, std::size_t begin, std::size_t end, const Loop& loop, Chunking chunking,
                  const char* api) {
    pool.run(begin, end, loop, chunking, api);
  }
};

// A pool of `threads` (0: default_concurrency()) that schedules so.
inline std::unique_ptr<ThreadPool> make_pool(std::size_t threads, Schedule schedule) {
  return PoolAccess::make(threads, schedule);
}

// One std::function call per item; the call site is the type of the callable
// inside the std::function.
inline void parallel_for_dyn(ThreadPool& pool, std::size_t begin, std::size_t end,
                             const std::function<void(std::size_t)>& body,
                             Chunking chunking = Chunking::automatic()) {
  using Body = const std::function<void(std::size_t)>;
  PoolAccess::run(
      pool, begin, end,
      {&run_items<Body>, const_cast<void*>(static_cast<const void*>(&body)), &dyn_site(body.target_type())},
      chunking, "parallel_for_dyn");
}

inline void parallel_for_dyn(std::size_t begin, std::size_t end, const std::function<void(std::size_t)>& body,
                             Chunking chunking = Chunking::automatic()) {
  parallel_for_dyn(default_pool(), begin, end, body, chunking);
}

}  // namespace iso::exec_detail
