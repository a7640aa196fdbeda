#include "core.h"

#include <pthread.h>

#include <algorithm>
#include <climits>
#include <csignal>
#include <stdexcept>
#include <string>

#include "chunking.h"
#include "config.h"
#include "futex.h"

namespace iso::exec_detail {

thread_local bool t_in_body = false;

namespace {

constexpr std::uint64_t kGenerationUnit = std::uint64_t{1} << 32;
constexpr std::uint64_t kInsideMask = kGenerationUnit - 1;

constexpr bool is_open(std::uint64_t gate) {
  return ((gate >> 32) & 1) != 0;
}
constexpr std::uint32_t generation(std::uint64_t gate) {
  return static_cast<std::uint32_t>(gate >> 32);
}
constexpr std::uint64_t inside(std::uint64_t gate) {
  return gate & kInsideMask;
}

// Sets t_in_body for a scope; bodies may themselves start (inline) loops.
class InBody {
 public:
  InBody() : saved_(t_in_body) { t_in_body = true; }
  ~InBody() { t_in_body = saved_; }
  InBody(const InBody&) = delete;
  InBody& operator=(const InBody&) = delete;

 private:
  bool saved_;
};

}  // namespace

Core::Core(std::size_t participants, Schedule schedule, std::uint64_t spin_ns)
    : fork_generation(exec_detail::fork_generation()),
      participants_(participants),
      schedule_(schedule),
      // Spinning threads that outnumber the CPUs would take the CPU from the
      // ones doing the work.
      spin_ns_(participants > config().cpus ? 0 : spin_ns),
      lanes_(new Lane[participants]) {
  // Workers start with every signal blocked: signals go to the program's own
  // threads (CPython handles them on its main thread).
  sigset_t all;
  sigset_t old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  workers_.reserve(participants - 1);
  try {
    for (unsigned self = 1; self < participants; ++self)
      workers_.emplace_back([this, self] { worker_main(self); });
  } catch (...) {
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    stop_workers();
    throw;
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

Core::~Core() {
  shutdown();
}

void Core::shutdown() {
  const std::lock_guard lock(submit_);
  if (stopped_) return;
  stopped_ = true;
  stop_workers();
}

void Core::stop_workers() {
  stopping_.store(true, std::memory_order_seq_cst);
  wake_word_.fetch_add(1, std::memory_order_seq_cst);
  futex_wake(wake_word_, INT_MAX);
  for (std::thread& t : workers_) t.join();
  workers_.clear();
}

bool Core::run(const Loop& loop, std::size_t begin, std::size_t end, std::size_t chunk, bool learn) {
  std::unique_lock lock(submit_);
  if (stopped_) return false;

  fn_ = loop.fn;
  ctx_ = loop.ctx;
  begin_ = begin;
  end_ = end;
  chunk_ = chunk;
  const std::size_t chunks = (end - begin - 1) / chunk + 1;
  lanes_used_ = schedule_ == Schedule::shared_cursor ? 1 : static_cast<unsigned>(participants_);
  for (unsigned j = 0; j < lanes_used_; ++j) {
    lanes_[j].next.store(chunks * j / lanes_used_, std::memory_order_relaxed);
    lanes_[j].end.store(chunks * (j + 1) / lanes_used_, std::memory_order_relaxed);
  }
  cancel_.store(false, std::memory_order_relaxed);
  failed_.store(false, std::memory_order_relaxed);

  // Open: nobody is inside (the last loop waited for that), so no RMW is
  // needed for the value; an exchange all the same, so that no emulator lets
  // the load of sleepers_ pass it (include/isolate/conc/spsc_ring.h).
  (void)gate_.exchange(gate_.load(std::memory_order_relaxed) + kGenerationUnit, std::memory_order_seq_cst);
  if (sleepers_.load(std::memory_order_seq_cst) != 0) {
    wake_word_.fetch_add(1, std::memory_order_seq_cst);
    futex_wake(wake_word_, INT_MAX);
  }
  {
    const InBody in_body;
    participate(0, learn ? loop.site : nullptr);
  }
  gate_.fetch_add(kGenerationUnit, std::memory_order_seq_cst);  // close
  if (!wait_for_workers()) {
    throw std::runtime_error(
        "iso::parallel_for: fork() was called from inside a loop body; the child cannot finish the loop");
  }

  if (failed_.load(std::memory_order_acquire)) {
    std::exception_ptr error = std::move(error_);
    error_ = nullptr;
    lock.unlock();
    std::rethrow_exception(error);
  }
  return true;
}

void Core::participate(unsigned self, Site* learn) {
  for (unsigned k = 0; k < lanes_used_; ++k) {
    Lane& lane = lanes_[(self + k) % lanes_used_];
    for (;;) {
      if (cancel_.load(std::memory_order_relaxed)) return;
      // A load first: finding a lane empty then needs no write to a line
      // that other threads are reading.
      const std::size_t end = lane.end.load(std::memory_order_relaxed);
      if (lane.next.load(std::memory_order_relaxed) >= end) break;
      const std::size_t c = lane.next.fetch_add(1, std::memory_order_relaxed);
      if (c >= end) break;
      const std::size_t first = begin_ + c * chunk_;
      const std::size_t last = end_ - first > chunk_ ? first + chunk_ : end_;
      if (learn == nullptr) {
        run_chunk(first, last);
      } else {
        const std::uint64_t t0 = now_ns();
        run_chunk(first, last);
        learn_cost(*learn, now_ns() - t0, last - first);
        learn = nullptr;
      }
    }
  }
}

// Read before entering, so the fields may belong to the next loop already:
// a hint only. A loop whose chunks are all taken (a small one that the caller
// ran alone) is skipped, and its caller need not wait for this thread.
bool Core::work_left() const noexcept {
  const unsigned lanes = schedule_ == Schedule::shared_cursor ? 1 : static_cast<unsigned>(participants_);
  for (unsigned j = 0; j < lanes; ++j) {
    if (lanes_[j].next.load(std::memory_order_relaxed) < lanes_[j].end.load(std::memory_order_relaxed)) {
      return true;
    }
  }
  return false;
}

void Core::run_chunk(std::size_t first, std::size_t last) noexcept {
  try {
    fn_(ctx_, first, last);
  } catch (...) {
    if (!failed_.exchange(true, std::memory_order_acq_rel)) error_ = std::current_exception();
    cancel_.store(true, std::memory_order_relaxed);
  }
}

bool Core::wait_for_workers() {
  auto done = [this] { return inside(gate_.load(std::memory_order_acquire)) == 0; };
  if (spin_until(done, spin_ns_)) return true;
  for (;;) {
    (void)caller_waiting_.exchange(1, std::memory_order_seq_cst);  // an exchange: see run()
    const std::uint32_t word = done_word_.load(std::memory_order_seq_cst);
    if (inside(gate_.load(std::memory_order_seq_cst)) == 0) break;
    // In a child forked from inside a body, the workers counted here are gone.
    if (fork_generation != exec_detail::fork_generation()) return false;
    futex_wait(done_word_, word);
  }
  caller_waiting_.store(0, std::memory_order_relaxed);
  return true;
}

void Core::worker_main(unsigned self) {
  t_in_body = true;
  const std::string name = "iso-exec-" + std::to_string(self);
  pthread_setname_np(pthread_self(), name.c_str());
  std::uint32_t seen = 0;  // generations start at 0 (closed): the first loop is 1
  auto ready = [&] {
    const std::uint64_t g = gate_.load(std::memory_order_acquire);
    return (is_open(g) && generation(g) != seen) || stopping_.load(std::memory_order_relaxed);
  };
  for (;;) {
    if (!spin_until(ready, spin_ns_)) {
      sleepers_.fetch_add(1, std::memory_order_seq_cst);
      const std::uint32_t word = wake_word_.load(std::memory_order_seq_cst);
      if (!ready()) futex_wait(wake_word_, word);
      sleepers_.fetch_sub(1, std::memory_order_seq_cst);
      continue;
    }
    if (stopping_.load(std::memory_order_acquire)) return;
    std::uint64_t g = gate_.load(std::memory_order_acquire);
    if (!is_open(g) || generation(g) == seen) continue;
    if (!work_left()) {
      seen = generation(g);
      continue;
    }
    if (!gate_.compare_exchange_strong(g, g + 1, std::memory_order_acquire, std::memory_order_relaxed))
      continue;
    seen = generation(g);
    participate(self, nullptr);
    const std::uint64_t after = gate_.fetch_sub(1, std::memory_order_seq_cst) - 1;
    if (inside(after) == 0 && !is_open(after) && caller_waiting_.load(std::memory_order_seq_cst) != 0) {
      done_word_.fetch_add(1, std::memory_order_seq_cst);
      futex_wake(done_word_, 1);
    }
  }
}

}  // namespace iso::exec_detail
