// Huge blocks (> 1 MiB): one mapping each, and a small cache of freed
// mappings so that a program that frees and allocates big buffers in turn
// does not pay an munmap, an mmap and a page fault per 4 KiB every time
// (2-3 us each on a VM: ~7 ms for a 10 MiB buffer).
//
// A mapping starts with its Segment header, 4 MiB aligned so that the mask
// of segment_of finds it; the block starts max(64 KiB, align) into it. A
// block aligned to 4 MiB or more starts exactly 4 MiB in, on the next
// segment boundary, which segment_of maps back to the header because it
// masks p - 1. Owner kOwnerHuge sends every free down the slow path, from
// any thread.
//
// The cache holds up to kSlots mappings of plain (not over-aligned) blocks,
// at most ISO_ALLOC_HUGE_CACHE_MIB in all, each for ISO_ALLOC_HUGE_CACHE_MS
// after its free; they stay committed, which is the point. Expiry is seen by
// the next huge malloc or free, or every 16th slow-path malloc of any thread
// (a program that stops calling malloc keeps them; iso_collect(1) empties the
// cache). A request takes
// the smallest one that fits and gives back (munmap) its tail beyond the
// request, or, when none fits, moves the largest one's pages (mremap, no
// copy) to the start of a fresh mapping of the new size, so only the tail
// faults. The trim keeps the memory a block holds equal to what it asked for
// (RSS as without the cache); what the cache adds is bounded by its limit.
#include <cerrno>

#include "internal.h"

namespace iso::alloc {

namespace {

constexpr unsigned kSlots = 8;

struct Cached {
  Segment* span;
  uint64_t freed_at;  // ns, CLOCK_MONOTONIC_COARSE
};

SpinLock g_lock;
Cached g_cached[kSlots];  // [0, g_count), oldest first
unsigned g_count = 0;
std::size_t g_bytes = 0;
std::atomic<uint64_t> g_oldest{0};  // freed_at of g_cached[0]; 0: empty (read without the lock)

uint64_t keep_ns() {
  return uint64_t{g_options.huge_cache_ms} * 1000000u;
}

// Under the lock.
Segment* remove_at(unsigned i) {
  Segment* const s = g_cached[i].span;
  g_bytes -= s->mapped;
  for (unsigned j = i + 1; j < g_count; ++j) g_cached[j - 1] = g_cached[j];
  --g_count;
  g_oldest.store(g_count == 0 ? 0 : g_cached[0].freed_at, std::memory_order_relaxed);
  return s;
}

// Under the lock: takes out the spans past their time, and the oldest while
// `room` more bytes would not fit, onto `out` (released after the lock).
void evict(uint64_t now, std::size_t room, Segment*& out) {
  while (g_count > 0 && (now - g_cached[0].freed_at >= keep_ns() || g_count == kSlots ||
                         g_bytes + room > std::size_t{g_options.huge_cache_mib} << 20)) {
    Segment* const s = remove_at(0);
    s->next = out;
    out = s;
  }
}

void release(Segment* list) {
  while (list != nullptr) {
    Segment* const next = list->next;
    segment_unmap_or_cache(list);
    list = next;
  }
}

// The cached span that best serves `total` bytes: the smallest that holds
// them, else the largest (to grow); nullptr when empty.
Segment* take(std::size_t total) {
  if (g_oldest.load(std::memory_order_relaxed) == 0) return nullptr;  // a miss costs no lock
  Segment* expired = nullptr;
  Segment* s = nullptr;
  {
    LockGuard guard(g_lock);
    evict(os_clock_ns(), 0, expired);
    int fit = -1;
    int largest = -1;
    for (unsigned i = 0; i < g_count; ++i) {
      const std::size_t m = g_cached[i].span->mapped;
      if (m >= total && (fit < 0 || m < g_cached[fit].span->mapped)) fit = static_cast<int>(i);
      if (largest < 0 || m > g_cached[largest].span->mapped) largest = static_cast<int>(i);
    }
    const int pick = fit >= 0 ? fit : largest;
    if (pick >= 0) s = remove_at(static_cast<unsigned>(pick));
  }
  release(expired);
  return s;
}

// Makes a cached span exactly `total` bytes, keeping its committed pages:
// nullptr if the OS refused (the span is then released).
Segment* resize(Segment* s, std::size_t total) {
  if (s->mapped == total) return s;
  segmap_set(s, false);
  Segment* const moved = s->mapped > total
                             ? (os_remap_in_place(s, s->mapped, total) ? s : nullptr)
                             : static_cast<Segment*>(os_move_grow(s, s->mapped, total, kSegmentSize));
  if (moved == nullptr) {
    segment_unmap_or_cache(s);  // sets no map bit: it is already clear
    return nullptr;
  }
  moved->mapped = total;
  return moved;
}

}  // namespace

void* huge_alloc(std::size_t n, std::size_t align) {
  // Over-aligned blocks start on a segment boundary (see above), others 64 KiB in.
  const std::size_t offset = align >= kSegmentSize ? kSegmentSize : (align > kUnitSize ? align : kUnitSize);
  const std::size_t page = os_page_size();
  if (n > SIZE_MAX / 2 - offset || align > SIZE_MAX / 4) {
    errno = ENOMEM;
    return nullptr;
  }
  std::size_t total = (offset + n + page - 1) & ~(page - 1);
  if (total <= kSegmentSize) total = kSegmentSize;  // a 4 MiB mapping can come from / go to the segment cache
  Segment* s = nullptr;
  bool zero = false;
  if (offset == kUnitSize && g_options.huge_cache_mib > 0) {
    s = take(total);
    if (s != nullptr) s = resize(s, total);
    if (s != nullptr) stats_add_current(kStat_huge_reused);
  }
  if (s == nullptr) {
    s = align >= kSegmentSize ? static_cast<Segment*>(os_map_aligned(total, align, offset))
                              : segment_map(total, &zero);
    if (s == nullptr) return nullptr;
  }
  s->owner.store(kOwnerHuge, std::memory_order_relaxed);
  s->heap.store(nullptr, std::memory_order_relaxed);
  s->kind = kSegmentHuge;
  s->mapped = total;
  s->huge_block = reinterpret_cast<uint8_t*>(s) + offset;
  s->huge_size = total - offset;
  s->huge_zeroed = zero;
  segmap_set(s, true);
  stats_add_current(kStat_huge_allocs);
  return s->huge_block;
}

void huge_free(Segment* s, void* p) {
  if (p != s->huge_block) fatal_pointer("free()", "invalid pointer", p);
  stats_add_current(kStat_huge_frees);
  const bool plain = s->huge_block == reinterpret_cast<uint8_t*>(s) + kUnitSize;
  if (!plain || s->mapped > std::size_t{g_options.huge_cache_mib} << 20) return segment_unmap_or_cache(s);
  segmap_set(s, false);  // a second free of it is then an invalid pointer, not a cache corruption
  const uint64_t now = os_clock_ns();
  Segment* expired = nullptr;
  {
    LockGuard guard(g_lock);
    evict(now, s->mapped, expired);
    g_cached[g_count++] = Cached{s, now};
    g_bytes += s->mapped;
    if (g_count == 1) g_oldest.store(now, std::memory_order_relaxed);
  }
  release(expired);
}

// From the heaps' purge polls and iso_collect: spans past their time (all
// of them if `all`) go back.
void huge_cache_trim(bool all) {
  const uint64_t oldest = g_oldest.load(std::memory_order_relaxed);
  if (oldest == 0) return;
  const uint64_t now = os_clock_ns();
  if (!all && now - oldest < keep_ns()) return;
  Segment* expired = nullptr;
  {
    LockGuard guard(g_lock);
    if (all) {
      while (g_count > 0) {
        Segment* const s = remove_at(g_count - 1);
        s->next = expired;
        expired = s;
      }
    } else {
      evict(now, 0, expired);
    }
  }
  release(expired);
}

// Grows or shrinks a huge block's mapping without moving it.
bool huge_resize_in_place(Segment* s, std::size_t n) {
  const std::size_t offset = static_cast<std::size_t>(s->huge_block - reinterpret_cast<uint8_t*>(s));
  const std::size_t page = os_page_size();
  if (n > SIZE_MAX - offset - page) return false;
  const std::size_t total = (offset + n + page - 1) & ~(page - 1);
  if (total == s->mapped) return true;
  if (!os_remap_in_place(s, s->mapped, total)) return false;
  s->mapped = total;
  s->huge_size = total - offset;
  return true;
}

bool huge_block_zeroed(const Segment* s) {
  return s->huge_zeroed;
}

void huge_fork_prepare() {
  g_lock.lock();
}
void huge_fork_parent() {
  g_lock.unlock();
}
void huge_fork_child() {
  g_lock.reset();
}

}  // namespace iso::alloc
