// The OS layer: anonymous mappings, aligned by over-mapping and trimming,
// purging with MADV_DONTNEED, and raw writes to stderr. Nothing here
// allocates, and errno is left as the calls set it (ENOMEM on failure).
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

#include "internal.h"

namespace iso::alloc {

namespace {

std::atomic<uint64_t> g_mapped{0};
std::atomic<uint64_t> g_mapped_peak{0};

void account_map(std::size_t size) {
  const uint64_t now = g_mapped.fetch_add(size, std::memory_order_relaxed) + size;
  uint64_t peak = g_mapped_peak.load(std::memory_order_relaxed);
  while (now > peak && !g_mapped_peak.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
  }
}

}  // namespace

std::size_t os_page_size() {
  static std::atomic<std::size_t> cached{0};
  std::size_t v = cached.load(std::memory_order_relaxed);
  if (v == 0) {
    const long r = sysconf(_SC_PAGESIZE);
    v = r > 0 ? static_cast<std::size_t>(r) : 4096;
    cached.store(v, std::memory_order_relaxed);
  }
  return v;
}

void* os_map(std::size_t size) {
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    errno = ENOMEM;
    return nullptr;
  }
  account_map(size);
  return p;
}

// Over-maps by `align`, then unmaps the slack before and after.
void* os_map_aligned(std::size_t size, std::size_t align, std::size_t offset) {
  if (size > SIZE_MAX - align) {
    errno = ENOMEM;
    return nullptr;
  }
  void* raw =
      mmap(nullptr, size + align, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (raw == MAP_FAILED) {
    errno = ENOMEM;
    return nullptr;
  }
  const auto start = reinterpret_cast<std::uintptr_t>(raw);
  const std::uintptr_t aligned = ((start + offset + align - 1) & ~(align - 1)) - offset;
  const std::size_t before = aligned - start;
  const std::size_t after = align - before;
  if (before != 0) munmap(raw, before);
  if (after != 0) munmap(reinterpret_cast<void*>(aligned + size), after);
  account_map(size);
  return reinterpret_cast<void*>(aligned);
}

// A mapping of new_size (> old_size) aligned to `align` whose first
// old_size bytes are p's pages, moved there without a copy and without
// faulting them in again; p is gone. nullptr (p untouched) if the OS refused.
void* os_move_grow(void* p, std::size_t old_size, std::size_t new_size, std::size_t align) {
  void* to = os_map_aligned(new_size, align);
  if (to == nullptr) return nullptr;
  const int saved = errno;
  if (mremap(p, old_size, old_size, MREMAP_MAYMOVE | MREMAP_FIXED, to) == MAP_FAILED) {
    errno = saved;
    os_unmap(to, new_size);
    return nullptr;
  }
  g_mapped.fetch_sub(old_size, std::memory_order_relaxed);
  return to;
}

void os_unmap(void* p, std::size_t size) {
  if (munmap(p, size) == 0) g_mapped.fetch_sub(size, std::memory_order_relaxed);
}

// Grows or shrinks a mapping without moving it.
bool os_remap_in_place(void* p, std::size_t old_size, std::size_t new_size) {
  const int saved = errno;
  void* q = mremap(p, old_size, new_size, 0);
  if (q == MAP_FAILED) {
    errno = saved;
    return false;
  }
  if (new_size > old_size) {
    account_map(new_size - old_size);
  } else {
    g_mapped.fetch_sub(old_size - new_size, std::memory_order_relaxed);
  }
  return true;
}

void os_purge(void* p, std::size_t size) {
  if (!g_options.purge) return;
  const int saved = errno;
  madvise(p, size, MADV_DONTNEED);
  errno = saved;
  stats_add_current(kStat_purges);
  stats_add_current(kStat_purged_bytes, size);
}

// The purge ticks' and the huge cache's clock: coarse (a vDSO read of the
// last tick, no syscall), which is all a delay of milliseconds needs.
uint64_t os_clock_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

void os_write_stderr(const char* s, std::size_t n) {
  const int saved = errno;
  while (n > 0) {
    const ssize_t w = write(STDERR_FILENO, s, n);
    if (w <= 0) {
      if (w < 0 && errno == EINTR) continue;
      break;
    }
    s += w;
    n -= static_cast<std::size_t>(w);
  }
  errno = saved;
}

uint64_t os_mapped_bytes() {
  return g_mapped.load(std::memory_order_relaxed);
}
uint64_t os_mapped_peak() {
  return g_mapped_peak.load(std::memory_order_relaxed);
}

}  // namespace iso::alloc
