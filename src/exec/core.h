// The threads of one pool and the loop they run together.
//
// One loop at a time (callers take `submit_`). The loop's chunk indices are
// split into one lane per thread; a thread drains its own lane, then takes
// chunks from the others' (Schedule::stealing), or all take from lane 0
// (Schedule::shared_cursor). The calling thread is participant 0.
//
// A 64-bit gate tells the workers a loop is open: generation in the high half
// (odd: open), threads inside the loop in the low half. A worker enters with
// a compare-exchange on an open generation, so once the caller has closed the
// gate none can enter late, and the caller returns when the count is zero. The
// loop's fields live here, not on the caller's stack: a worker never touches
// memory that its caller has left.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "isolate/exec.h"
#include "variants.h"

namespace iso::exec_detail {

// True while this thread runs a loop body (workers: always). A loop started
// there runs inline, so nested loops never wait for threads they occupy.
extern thread_local bool t_in_body;

class Core {
 public:
  Core(std::size_t participants, Schedule schedule, std::uint64_t spin_ns);
  ~Core();
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;

  // Runs fn over [begin, end) in chunks of `chunk` items on all threads; the
  // first exception is rethrown here once every thread has left the loop.
  // false: the pool is shut down, nothing ran.
  bool run(const Loop& loop, std::size_t begin, std::size_t end, std::size_t chunk, bool learn);

  // Stops and joins the workers once no loop runs; later run() calls return false.
  void shutdown();

  const std::uint32_t fork_generation;  // of the process whose threads these are

 private:
  struct alignas(64) Lane {
    std::atomic<std::size_t> next{0};  // next chunk index to claim
    // One past the lane's last chunk index. Atomic because a worker that has
    // not entered the loop reads it (as a hint: is anything left to claim?).
    std::atomic<std::size_t> end{0};
  };

  void worker_main(unsigned self);
  void participate(unsigned self, Site* learn);
  bool work_left() const noexcept;
  void run_chunk(std::size_t first, std::size_t last) noexcept;
  bool wait_for_workers();  // false: forked from inside a body, they will never leave
  void stop_workers();

  const std::size_t participants_;
  const Schedule schedule_;
  const std::uint64_t spin_ns_;
  std::mutex submit_;
  bool stopped_ = false;  // guarded by submit_

  // The open loop: written by the caller before the gate opens.
  ChunkFn fn_ = nullptr;
  void* ctx_ = nullptr;
  std::size_t begin_ = 0, end_ = 0, chunk_ = 0;
  unsigned lanes_used_ = 0;
  std::exception_ptr error_;
  std::unique_ptr<Lane[]> lanes_;

  alignas(64) std::atomic<std::uint64_t> gate_{0};
  alignas(64) std::atomic<bool> cancel_{false};  // a body threw: claim nothing more
  std::atomic<bool> failed_{false};
  alignas(64) std::atomic<std::uint32_t> sleepers_{0};
  std::atomic<std::uint32_t> wake_word_{0};  // futex: workers sleep here
  std::atomic<bool> stopping_{false};
  alignas(64) std::atomic<std::uint32_t> caller_waiting_{0};
  std::atomic<std::uint32_t> done_word_{0};  // futex: the caller sleeps here

  std::vector<std::thread> workers_;
};

// Incremented in the child after fork(): a Core of an older generation has no
// threads any more and is abandoned, never joined.
std::uint32_t fork_generation() noexcept;
// Held while a Core is created or replaced; pthread_atfork takes it around
// fork(), so a child never inherits it locked (the handlers are registered
// by the first call).
std::mutex& lifecycle_mutex();

}  // namespace iso::exec_detail
