// isolate/conc/buffer_pool.h — iso::conc::BufferPool: reusable string storage
// for serialised payloads (DESIGN.md §3), so a steady stream of tasks and
// results stops calling malloc for them.
//
//   iso::conc::BufferPool pool(64, 1 << 20);   // keep <= 64 buffers of <= 1 MiB
//   iso::conc::Buffer b = pool.acquire();       // empty, with a used buffer's capacity
//   b->append(bytes);                           // a std::string
//   ring.push(Task{i, std::move(b)});           // handles move; the storage goes back
//                                               // when the handle holding it is destroyed
//
// A Buffer owns a std::string. When it is destroyed (or assigned over), the
// string is cleared and kept by the pool, unless the pool already holds
// max_pooled buffers, or the string's capacity exceeds max_buffer_capacity (one
// huge payload must not pin its memory), or it never left the small-string
// buffer (nothing to reuse); then it is freed. take() detaches the string.
//
// Lifetime: the pool must outlive its Buffers (a raw back-pointer keeps the
// handle one pointer bigger than the string, and the hot path free of
// reference counting). ~BufferPool checks it: destroying a pool while any of
// its Buffers lives aborts with a message, rather than leaving them to write
// into freed memory.
//
// Worth it for payloads of tens of KiB and more, which malloc gets from the
// kernel as fresh pages to fault in and zero; for small ones malloc's
// per-thread cache is faster, so keep those as poolless Buffers.
//
// Thread-safe: acquire(), adopt() and Buffer destruction from any threads.
// One mutex over a vector, held for the move of a string; strings are
// cleared before and freed after it. Why not lock-free: docs/ARCHITECTURE.md
// (conc/); bench/conc measures it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace iso::conc {

class BufferPool;

class Buffer {
 public:
  // A handle with no pool: its string is simply freed.
  Buffer() noexcept = default;
  explicit Buffer(std::string s) noexcept : str_(std::move(s)) {}

  Buffer(Buffer&& other) noexcept : str_(std::move(other.str_)), pool_(std::exchange(other.pool_, nullptr)) {}
  Buffer& operator=(Buffer&& other) noexcept;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() { give_back(); }

  std::string& str() noexcept { return str_; }
  const std::string& str() const noexcept { return str_; }
  std::string& operator*() noexcept { return str_; }
  const std::string& operator*() const noexcept { return str_; }
  std::string* operator->() noexcept { return &str_; }
  const std::string* operator->() const noexcept { return &str_; }

  // The string, detached from the pool; this handle is left empty and poolless.
  std::string take() noexcept;

  // The pool the storage goes back to, or nullptr.
  const BufferPool* pool() const noexcept { return pool_; }

 private:
  friend class BufferPool;
  Buffer(std::string s, BufferPool* pool) noexcept : str_(std::move(s)), pool_(pool) {}
  void give_back() noexcept;

  std::string str_;
  BufferPool* pool_ = nullptr;
};

class BufferPool {
 public:
  struct Stats {
    std::uint64_t hits = 0;           // acquire() reused a pooled buffer
    std::uint64_t misses = 0;         // acquire() found none: a fresh string
    std::uint64_t returned = 0;       // buffers taken back into the pool
    std::uint64_t dropped_large = 0;  // freed: capacity over max_buffer_capacity
    std::uint64_t dropped_full = 0;   // freed: the pool already held max_pooled
  };

  // Keeps up to max_pooled buffers of capacity <= max_buffer_capacity.
  BufferPool(std::size_t max_pooled, std::size_t max_buffer_capacity);
  ~BufferPool();
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  // An empty string, with a pooled buffer's capacity when there is one.
  Buffer acquire();
  // Hands `s` to a Buffer of this pool, so its storage is reused afterwards.
  Buffer adopt(std::string s) noexcept;

  Stats stats() const;
  std::size_t pooled() const;       // buffers held now
  std::size_t outstanding() const;  // its Buffers alive now
  std::size_t max_pooled() const noexcept { return max_pooled_; }
  std::size_t max_buffer_capacity() const noexcept { return max_buffer_capacity_; }

 private:
  friend class Buffer;
  // Keeps `s` (cleared) or leaves it for the caller to free after the unlock.
  void give_back(std::string& s) noexcept;
  void detach() noexcept;

  const std::size_t max_pooled_;
  const std::size_t max_buffer_capacity_;
  mutable std::mutex mutex_;
  std::vector<std::string> free_;  // reserved to max_pooled_: no allocation under the lock
  Stats stats_;
  std::size_t outstanding_ = 0;  // Buffers alive: checked by ~BufferPool
};

}  // namespace iso::conc
