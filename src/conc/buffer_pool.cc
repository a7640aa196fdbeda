// BufferPool and its Buffer handles: see include/isolate/conc/buffer_pool.h.
#include "isolate/conc/buffer_pool.h"

#include <cstdio>
#include <cstdlib>

namespace iso::conc {
namespace {

// A string whose capacity fits in the object itself owns no heap storage.
const std::size_t kInlineCapacity = std::string().capacity();

}  // namespace

Buffer& Buffer::operator=(Buffer&& other) noexcept {
  if (this != &other) {
    give_back();
    str_ = std::move(other.str_);
    pool_ = std::exchange(other.pool_, nullptr);
  }
  return *this;
}

std::string Buffer::take() noexcept {
  if (pool_ != nullptr) std::exchange(pool_, nullptr)->detach();
  return std::move(str_);
}

void Buffer::give_back() noexcept {
  if (pool_ == nullptr) return;
  std::exchange(pool_, nullptr)->give_back(str_);
}

BufferPool::BufferPool(std::size_t max_pooled, std::size_t max_buffer_capacity)
    : max_pooled_(max_pooled), max_buffer_capacity_(max_buffer_capacity) {
  free_.reserve(max_pooled);
}

BufferPool::~BufferPool() {
  if (outstanding_ != 0) {
    // Each of them would write into this pool when destroyed.
    std::fprintf(stderr, "isolate: BufferPool destroyed while %zu of its buffers are alive\n", outstanding_);
    std::abort();
  }
}

Buffer BufferPool::acquire() {
  std::string s;
  {
    const std::lock_guard lock(mutex_);
    ++outstanding_;
    if (free_.empty()) {
      ++stats_.misses;
    } else {
      ++stats_.hits;
      s = std::move(free_.back());
      free_.pop_back();
    }
  }
  return Buffer(std::move(s), this);
}

Buffer BufferPool::adopt(std::string s) noexcept {
  {
    const std::lock_guard lock(mutex_);
    ++outstanding_;
  }
  return Buffer(std::move(s), this);
}

void BufferPool::give_back(std::string& s) noexcept {
  const std::size_t capacity = s.capacity();
  s.clear();
  const std::lock_guard lock(mutex_);
  --outstanding_;
  if (capacity <= kInlineCapacity) return;
  if (capacity > max_buffer_capacity_) {
    ++stats_.dropped_large;
  } else if (free_.size() >= max_pooled_) {
    ++stats_.dropped_full;
  } else {
    free_.push_back(std::move(s));  // reserved: cannot allocate or throw
    ++stats_.returned;
  }
}

void BufferPool::detach() noexcept {
  const std::lock_guard lock(mutex_);
  --outstanding_;
}

BufferPool::Stats BufferPool::stats() const {
  const std::lock_guard lock(mutex_);
  return stats_;
}

std::size_t BufferPool::pooled() const {
  const std::lock_guard lock(mutex_);
  return free_.size();
}

std::size_t BufferPool::outstanding() const {
  const std::lock_guard lock(mutex_);
  return outstanding_;
}

}  // namespace iso::conc
