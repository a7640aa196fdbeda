// isolate/conc/spsc_ring.h — iso::conc::SpscRing<T> (component isolate::conc,
// header-only): a bounded FIFO between exactly one producer thread and one
// consumer thread, used between the pool's dispatcher and each worker, and back.
//
//   iso::conc::SpscRing<Task> ring(1024);           // capacity rounded up to 2^k
//   producer:  if (!ring.push(std::move(task))) ... // waits while full; false once closed
//   consumer:  while (auto task = ring.pop()) run(*task);  // nullopt once closed and drained
//   any thread: ring.close();
//
// try_push / try_emplace / try_pop are wait-free: a bounded number of steps,
// never a lock or a sleep. A push that fails (full or closed) leaves its
// argument untouched, so a move-only value can be retried. Elements are
// constructed in place in the slot and destroyed exactly once: when popped or
// with the ring.
//
// push / pop spin up to `spin_limit` rounds, then sleep (std::atomic::wait), so
// an idle side costs no CPU. Every push, blocking or not, wakes a sleeping
// consumer and every pop a sleeping producer.
//
// close() ends the stream: pushes fail from then on, a blocked push returns
// false, and pop() returns what is left, then nullopt. A push racing with a
// close() from a third thread may land or fail; what lands is popped or
// destroyed with the ring.
//
// Threads: producer calls (try_push, try_emplace, push, emplace) from one thread
// at a time, consumer calls (try_pop, pop) likewise; close, closed,
// size_approx and capacity from any thread.
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace iso::conc {

namespace detail {

// The distance that keeps the two sides' indices from sharing a cache line.
// 128, not 64: Intel's adjacent-line prefetcher pulls lines in pairs (folly
// uses the same figure). Not std::hardware_destructive_interference_size: GCC
// warns that its value follows -mtune, which would change this class's layout.
inline constexpr std::size_t kFalseSharingRange = 128;

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

}  // namespace detail

template <class T>
class SpscRing {
  static_assert(std::is_nothrow_destructible_v<T>, "SpscRing elements must have a noexcept destructor");
  static_assert(std::is_move_constructible_v<T>, "pop() moves the element out");

 public:
  // Pause rounds before sleeping (a few µs to ~50 µs, by the CPU's pause
  // latency): enough to ride out the gap between the items of a busy stream
  // without a futex round trip, short enough that an idle side soon sleeps.
  static constexpr std::uint32_t kDefaultSpin = 1024;

  // capacity >= 1, rounded up to a power of two; std::invalid_argument for 0,
  // std::length_error when the slots would not fit in memory.
  explicit SpscRing(std::size_t capacity, std::uint32_t spin_limit = kDefaultSpin)
      : mask_(slot_count(capacity) - 1), spin_limit_(spin_limit), slots_(allocate(mask_ + 1)) {}

  ~SpscRing() {
    const std::size_t tail = tail_.load(std::memory_order_relaxed);
    for (std::size_t i = head_.load(std::memory_order_relaxed); i != tail; ++i) std::destroy_at(slot(i));
    ::operator delete (slots_, std::align_val_t{kSlotAlign});
  }

  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  // Producer. Constructs T(args...) in the next slot; false if full or closed.
  template <class... Args>
  bool try_emplace(Args&&... args) {
    if (closed_.load(std::memory_order_relaxed)) return false;
    const std::size_t tail = tail_.load(std::memory_order_relaxed);
    if (tail - head_seen_ > mask_) {
      head_seen_ = head_.load(std::memory_order_acquire);
      if (tail - head_seen_ > mask_) return false;
    }
    std::construct_at(slot(tail), std::forward<Args>(args)...);
    // Publish, then load the flag: with the consumer's store-flag-then-load-
    // tail in pop(), one of the two sees the other. The publishing write is
    // an exchange, not a seq_cst store: the same xchg on x86-64, and on
    // aarch64 an atomic swap, which emulators order before the next load
    // (qemu 7.2 lets a store-release pass a later load-acquire, which the
    // architecture forbids: docs/PORTING.md).
    (void)tail_.exchange(tail + 1, std::memory_order_seq_cst);
    if (consumer_sleeps_.load(std::memory_order_seq_cst) != 0) wake(consumer_sleeps_);
    return true;
  }
  bool try_push(T&& value) { return try_emplace(std::move(value)); }
  bool try_push(const T& value) requires std::is_copy_constructible_v<T> { return try_emplace(value); }

  // Producer. Waits while full; false (nothing constructed) once closed.
  template <class... Args>
  bool emplace(Args&&... args) {
    for (;;) {
      // A failed attempt constructs nothing, so forwarding again is safe.
      if (try_emplace(std::forward<Args>(args)...)) return true;
      if (closed_.load(std::memory_order_acquire)) return false;
      const std::size_t tail = tail_.load(std::memory_order_relaxed);
      sleep_until(producer_sleeps_, [&] {
        return tail - head_.load(std::memory_order_seq_cst) <= mask_ ||
               closed_.load(std::memory_order_seq_cst);
      });
    }
  }
  bool push(T&& value) { return emplace(std::move(value)); }
  bool push(const T& value) requires std::is_copy_constructible_v<T> { return emplace(value); }

  // Consumer. The oldest element, or nullopt if the ring is empty.
  std::optional<T> try_pop() {
    const std::size_t head = head_.load(std::memory_order_relaxed);
    if (head == tail_seen_) {
      tail_seen_ = tail_.load(std::memory_order_acquire);
      if (head == tail_seen_) return std::nullopt;
    }
    T* const element = slot(head);
    std::optional<T> out(std::in_place, std::move(*element));
    std::destroy_at(element);
    (void)head_.exchange(head + 1, std::memory_order_seq_cst);  // pairs with emplace(), as in try_emplace
    if (producer_sleeps_.load(std::memory_order_seq_cst) != 0) wake(producer_sleeps_);
    return out;
  }

  // Consumer. Waits while empty and open; nullopt once closed and drained.
  std::optional<T> pop() {
    for (;;) {
      if (std::optional<T> out = try_pop()) return out;
      // Pushes made before close() are visible once closed_ is: drain them.
      if (closed_.load(std::memory_order_acquire)) return try_pop();
      const std::size_t head = head_.load(std::memory_order_relaxed);
      sleep_until(consumer_sleeps_, [&] {
        return tail_.load(std::memory_order_seq_cst) != head || closed_.load(std::memory_order_seq_cst);
      });
    }
  }

  // Any thread; idempotent. Wakes both sides.
  void close() noexcept {
    closed_.store(true, std::memory_order_seq_cst);
    wake(consumer_sleeps_);
    wake(producer_sleeps_);
  }
  bool closed() const noexcept { return closed_.load(std::memory_order_acquire); }

  // Exact when neither side is active, else a value that was true recently.
  std::size_t size_approx() const noexcept {
    const std::size_t head = head_.load(std::memory_order_acquire);  // head first: tail >= head then
    const std::size_t tail = tail_.load(std::memory_order_acquire);
    const std::size_t n = tail - head;
    return n > capacity() ? capacity() : n;
  }
  std::size_t capacity() const noexcept { return mask_ + 1; }

 private:
  static constexpr std::size_t kSlotAlign = alignof(T) > detail::kFalseSharingRange
                                                ? alignof(T)
                                                : detail::kFalseSharingRange;

  static std::size_t slot_count(std::size_t capacity) {
    if (capacity == 0) throw std::invalid_argument("SpscRing: capacity must be at least 1");
    constexpr std::size_t kMaxSlots = (std::numeric_limits<std::size_t>::max() - kSlotAlign) / sizeof(T);
    if (capacity > (std::size_t{1} << (std::numeric_limits<std::size_t>::digits - 1)) ||
        std::bit_ceil(capacity) > kMaxSlots) {
      throw std::length_error("SpscRing: capacity too large");
    }
    return std::bit_ceil(capacity);
  }

  // Whole lines, aligned, so no neighbouring allocation shares the end lines.
  static T* allocate(std::size_t slots) {
    const std::size_t bytes = (slots * sizeof(T) + kSlotAlign - 1) / kSlotAlign * kSlotAlign;
    return static_cast<T*>(::operator new (bytes, std::align_val_t{kSlotAlign}));
  }

  T* slot(std::size_t index) const noexcept { return slots_ + (index & mask_); }

  // Spins until ready(), then announces a sleeper in `flag` and sleeps until a
  // waker clears it. ready() re-checked after the announcement closes the gap
  // where the other side acted between our last check and the store.
  template <class Ready>
  void sleep_until(std::atomic<std::uint32_t>& flag, Ready ready) {
    for (std::uint32_t i = 0; i < spin_limit_; ++i) {
      if (ready()) return;
      detail::cpu_relax();
    }
    (void)flag.exchange(1, std::memory_order_seq_cst);  // an exchange: see try_emplace
    if (ready()) {
      flag.store(0, std::memory_order_relaxed);
      return;
    }
    flag.wait(1, std::memory_order_acquire);
  }

  // Only the side that finds the flag set pays for the notify.
  static void wake(std::atomic<std::uint32_t>& flag) noexcept {
    if (flag.exchange(0, std::memory_order_seq_cst) != 0) flag.notify_one();
  }

  // Producer's line: its index and its last view of the consumer's.
  alignas(detail::kFalseSharingRange) std::atomic<std::size_t> tail_{0};
  std::size_t head_seen_ = 0;
  // Consumer's line.
  alignas(detail::kFalseSharingRange) std::atomic<std::size_t> head_{0};
  std::size_t tail_seen_ = 0;
  // Written only to sleep, wake or close; read-shared otherwise.
  alignas(detail::kFalseSharingRange) std::atomic<std::uint32_t> consumer_sleeps_{0};
  std::atomic<std::uint32_t> producer_sleeps_{0};
  std::atomic<bool> closed_{false};
  // Read-only after construction.
  alignas(detail::kFalseSharingRange) const std::size_t mask_;
  const std::uint32_t spin_limit_;
  T* const slots_;
};

}  // namespace iso::conc
