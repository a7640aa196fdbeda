// The segment back end. A segment is 4 MiB aligned to 4 MiB; unit 0 holds its
// header and page descriptors, units 1..63 are handed out as runs (pages).
// A segment belongs to one heap (its thread): only that thread changes its
// bitmaps and lists, so runs are taken and returned without locks.
//
// Memory goes back to the OS in three ways:
//  - free units stay committed ("dirty") until they have been free for
//    ISO_ALLOC_PURGE_DELAY_MS, or the heap holds more of them than its limit
//    (see "purging" below), then they are purged (MADV_DONTNEED);
//  - a heap keeps one empty segment as a spare; further empty segments go to a
//    global cache of ISO_ALLOC_SEGMENT_CACHE segments, purged, or are unmapped;
//  - huge blocks (> 1 MiB) have their own mapping, kept a while for reuse
//    after their free (huge.cc), then unmapped (mappings of exactly 4 MiB go
//    through the segment cache).
// A thread that ends abandons its segments that still hold live blocks; the
// next thread that needs a run adopts them (segment_alloc_run).
//
// A global bitmap of 4 MiB slots (4 MiB of zero pages in .bss, touched only
// where segments live) tells whether an address is one of our segments, so
// that the free slow path can reject foreign pointers with a clear message.
#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <new>

#include "internal.h"

namespace iso::alloc {

// ------------------------------------------------------------ segment map
std::atomic<uint64_t> g_segmap[kSegmapWords];

void segmap_set(const Segment* s, bool on) {
  const std::uintptr_t slot = reinterpret_cast<std::uintptr_t>(s) >> kSegmentShift;
  if (slot / 64 >= kSegmapWords) return;
  const uint64_t bit = uint64_t{1} << (slot % 64);
  if (on) {
    g_segmap[slot / 64].fetch_or(bit, std::memory_order_release);
  } else {
    g_segmap[slot / 64].fetch_and(~bit, std::memory_order_release);
  }
}

// ------------------------------------------------------------ global lists
namespace {

SpinLock g_cache_lock;
std::atomic<Segment*> g_cache{nullptr};  // free 4 MiB regions, purged (changed under the lock)
uint32_t g_cache_count = 0;

SpinLock g_abandoned_lock;
std::atomic<Segment*> g_abandoned{nullptr};  // changed under the lock, peeked without

Segment* cache_pop() {
  if (g_cache.load(std::memory_order_relaxed) == nullptr) return nullptr;  // a miss just maps
  LockGuard guard(g_cache_lock);
  Segment* s = g_cache.load(std::memory_order_relaxed);
  if (s != nullptr) {
    g_cache.store(s->next, std::memory_order_relaxed);
    --g_cache_count;
  }
  return s;
}

}  // namespace

// Gives a segment's memory back: into the cache (purged) if it is a plain
// 4 MiB mapping and the cache has room, else to the OS.
void segment_unmap_or_cache(Segment* s) {
  segmap_set(s, false);
  const std::size_t mapped = s->mapped;
  if (mapped == kSegmentSize && g_options.segment_cache > 0) {
    os_purge(s, kSegmentSize);
    LockGuard guard(g_cache_lock);
    if (g_cache_count < g_options.segment_cache) {
      s->next = g_cache.load(std::memory_order_relaxed);
      g_cache.store(s, std::memory_order_relaxed);
      ++g_cache_count;
      stats_add_current(kStat_segments_to_cache);
      return;
    }
  }
  stats_add_current(kStat_segments_unmapped);
  os_unmap(s, mapped);
}

// A fresh 4 MiB aligned region, from the cache or the OS. `zero` tells
// whether its contents are known to be zero.
Segment* segment_map(std::size_t size, bool* zero) {
  if (size == kSegmentSize) {
    if (Segment* s = cache_pop()) {
      stats_add_current(kStat_segments_from_cache);
      *zero = g_options.purge;
      return s;
    }
  }
  *zero = true;
  return static_cast<Segment*>(os_map_aligned(size, kSegmentSize));
}

namespace {

// ------------------------------------------------------------ heap segment lists
// Segments with free units come first, so the search stops at the first full one.
void list_remove(Heap* h, Segment* s) {
  if (s->prev != nullptr) {
    s->prev->next = s->next;
  } else {
    h->segments = s->next;
  }
  if (s->next != nullptr) s->next->prev = s->prev;
  s->next = s->prev = nullptr;
}

void list_push_front(Heap* h, Segment* s) {
  s->prev = nullptr;
  s->next = h->segments;
  if (h->segments != nullptr) h->segments->prev = s;
  h->segments = s;
}

void list_push_back(Heap* h, Segment* s) {
  s->next = nullptr;
  Segment* last = h->segments;
  if (last == nullptr) {
    s->prev = nullptr;
    h->segments = s;
    return;
  }
  while (last->next != nullptr) last = last->next;
  last->next = s;
  s->prev = last;
}

constexpr uint64_t run_mask(unsigned idx, unsigned units) {
  return (units >= 64 ? ~uint64_t{0} : ((uint64_t{1} << units) - 1)) << idx;
}

// First index i (a multiple of align_units) such that units i..i+units-1 are free.
int find_run(uint64_t free_units, unsigned units, unsigned align_units) {
  uint64_t x = free_units;
  for (unsigned i = 1; i < units && x != 0; ++i) x &= free_units >> i;
  if (align_units > 1) {
    uint64_t pattern = 0;
    for (unsigned i = 0; i < 64; i += align_units) pattern |= uint64_t{1} << i;
    x &= pattern;
  }
  if (x == 0) return -1;
  return __builtin_ctzll(x);
}

// ------------------------------------------------------------ purging
// Purging gives memory back but costs a syscall and, when the units are
// reused, a page fault per 4 KiB. Purging all of a heap's free units whenever
// it held more than a fixed amount made a program churning tens of MiB of
// large blocks madvise and re-fault all the time (5x slower than mimalloc).
// So, in the spirit of mimalloc's delayed purge, a free unit is purged once it
// has stayed free for a while, and what a heap may hold at once grows with
// what it uses:
//  - age: every ISO_ALLOC_PURGE_DELAY_MS (a "tick", noticed at the next run
//    free or every 16th generic malloc) a heap purges the units that were
//    free at its previous tick and have not been taken since
//    (Segment::aged_units; run_take clears their bits), and marks the units
//    free now as aged. As in mimalloc, a segment that had a run freed since
//    the last tick waits one more (Segment::run_freed): it is in active use.
//    Ageing stops at ISO_ALLOC_PURGE_KIB, so a small heap never madvises.
//  - size: after a run free, a heap holding more free committed units than
//    its limit purges, aged units first, down to half the limit (half, so
//    that a heap sitting at its limit does not madvise on every free). The
//    limit is max(ISO_ALLOC_PURGE_KIB, ISO_ALLOC_PURGE_PERCENT % of its units
//    in use): a churning working set of mixed sizes leaves ~2x its use free
//    between its blocks (the churn bench; mimalloc's footprint is the same),
//    and a limit below that makes it re-fault all the time, hence 300 %.
//    A heap that has freed more run units since it last took one than it
//    still uses is shrinking, not churning: it gets ISO_ALLOC_PURGE_KIB, or
//    what it has learned to keep (Heap::keep_units): the units it took back
//    right after the limit purged them (learn_refault), halved (down to its
//    peak use) at every tick in which its use stayed below it (never, with
//    ageing off).
//  - empty segments: with ageing on, one that is not the spare stays until
//    ageing or the limit has purged it, then goes (release_if_purged).
// Bound per heap: right after each run free, free committed memory <=
// max(ISO_ALLOC_PURGE_KIB, 3x its units in use), and after a mass free
// max(PURGE_KIB, the learned keep_units: a working set it keeps freeing and
// taking back); above PURGE_KIB, a unit whose segment has been quiet for a delay
// is purged within ~3 delays of its free at the next slow path (a thread that
// stops calling keeps what it holds, within the limit).
// ISO_ALLOC_PURGE_DELAY_MS=0 turns ageing off: only the limit purges.

// Purges the units of `mask` (a subset of s's dirty units).
void purge_units(Heap* h, Segment* s, uint64_t mask) {
  uint64_t d = mask;
  while (d != 0) {
    const unsigned first = static_cast<unsigned>(__builtin_ctzll(d));
    const uint64_t rest = ~(d >> first);  // zeros where the run continues
    const unsigned len = rest == 0 ? 64 - first : static_cast<unsigned>(__builtin_ctzll(rest));
    os_purge(unit_address(s, first), std::size_t{len} << kUnitShift);
    d &= ~run_mask(first, len);
  }
  h->dirty_units -= static_cast<uint32_t>(__builtin_popcountll(mask));
  s->dirty_units &= ~mask;
  s->aged_units &= ~mask;
}

void purge_dirty(Heap* h, Segment* s) {
  purge_units(h, s, s->dirty_units);
}

// Takes units idx..idx+units-1 of s for a page; marks the interior sentinels.
constexpr uint32_t kMaxKeepUnits = 16384;  // 1 GiB

// The heap takes `clean` units (not committed: purged, or never used) while
// the size limit has purged units since the last tick: it is taking back
// what it was made to give up. A shrinking heap keeps that much from then
// on (keep_units), so that a loop that frees and reallocates a working set
// larger than ISO_ALLOC_PURGE_KIB stops paying an madvise and a fault per
// 4 KiB on every round (glibc's bench-malloc-simple shape, 1,600 x 4 KiB:
// 6.9 us per malloc + free, against 25 ns at 400).
void learn_refault(Heap* h, unsigned clean) {
  const uint32_t back = clean < h->purged_recent ? clean : h->purged_recent;
  if (back == 0) return;
  h->purged_recent -= back;
  // At once what it used at its peak: that is the working set it cycles through.
  const uint32_t keep = std::max(h->keep_units + back, h->peak_units);
  h->keep_units = keep > kMaxKeepUnits ? kMaxKeepUnits : keep;
}

void run_take(Heap* h, Segment* s, unsigned idx, unsigned units) {
  const uint64_t mask = run_mask(idx, units);
  if (s->used_units == 0) h->empty_segments--;
  s->used_units += units;
  h->used_units += units;
  if (h->used_units > h->peak_units) h->peak_units = h->used_units;
  h->free_streak = 0;
  s->free_units &= ~mask;
  const uint64_t d = s->dirty_units & mask;
  if (d != 0) {
    s->dirty_units &= ~mask;
    s->aged_units &= ~mask;  // reused: its age starts again at its next free
    h->dirty_units -= static_cast<uint32_t>(__builtin_popcountll(d));
  }
  if (h->purged_recent != 0) learn_refault(h, units - static_cast<unsigned>(__builtin_popcountll(d)));
  for (unsigned i = idx + 1; i < idx + units; ++i) {
    Page* pg = &s->pages[i];
    pg->flags = kInterior;
    pg->head = static_cast<uint8_t>(idx);
  }
  if (s->free_units == 0) {  // now full: move behind the segments with room
    list_remove(h, s);
    list_push_back(h, s);
  }
}

void segment_release(Heap* h, Segment* s) {
  list_remove(h, s);
  h->dirty_units -= static_cast<uint32_t>(__builtin_popcountll(s->dirty_units));
  if (s->used_units == 0) h->empty_segments--;
  segment_unmap_or_cache(s);
}

// With ageing on, an empty segment other than the spare stays in the heap
// until its units are purged: a working set that empties and refills segments
// neither unmaps them nor re-faults them; an aged empty segment goes.
bool keep_empty_segments() {
  return g_options.purge && g_options.purge_delay_ms != 0;
}

void release_if_purged(Heap* h, Segment* s) {
  if (s->used_units == 0 && s->dirty_units == 0 && h->empty_segments > 1 && s != h->pinned) {
    segment_release(h, s);
  }
}

// The size limit: free committed units a heap may hold (see "purging").
uint32_t purge_limit(const Heap* h) {
  if (h->free_streak > h->used_units)  // shrinking
    return h->keep_units > g_options.purge_units ? h->keep_units : g_options.purge_units;
  const uint64_t scaled = uint64_t{h->used_units} * g_options.purge_percent / 100;
  return scaled > g_options.purge_units ? static_cast<uint32_t>(scaled) : g_options.purge_units;
}

// Purges aged units, then any, until at most `target` dirty units are left.
void purge_down_to(Heap* h, uint32_t target) {
  for (Segment *s = h->segments, *next; s != nullptr && h->dirty_units > target; s = next) {
    next = s->next;
    if (s->aged_units != 0) {
      purge_units(h, s, s->aged_units);
      release_if_purged(h, s);
    }
  }
  for (Segment *s = h->segments, *next; s != nullptr && h->dirty_units > target; s = next) {
    next = s->next;
    if (s->dirty_units != 0) {
      purge_dirty(h, s);
      release_if_purged(h, s);
    }
  }
}

// A tick: purge what was free at the last one, age what is free now.
void purge_tick(Heap* h, uint64_t now) {
  for (Segment *s = h->segments, *next; s != nullptr; s = next) {
    next = s->next;
    const bool purge = s->aged_units != 0 && !s->run_freed && h->dirty_units > g_options.purge_units;
    if (purge) purge_units(h, s, s->aged_units);
    s->aged_units = s->dirty_units;
    s->run_freed = false;
    if (purge) release_if_purged(h, s);  // last: s may be gone after it
  }
  h->purge_deadline = h->dirty_units != 0 ? now + uint64_t{g_options.purge_delay_ms} * 1000000u : 0;
  // A heap whose use no longer reaches what it keeps forgets half of it per tick.
  if (h->peak_units < h->keep_units) h->keep_units = std::max(h->keep_units / 2, h->peak_units);
  h->peak_units = h->used_units;
  h->purged_recent = 0;
}

Segment* segment_new(Heap* h) {
  bool zero = false;
  void* mem = segment_map(kSegmentSize, &zero);
  if (mem == nullptr) return nullptr;
  Segment* s = new (mem) Segment();
  s->heap.store(h, std::memory_order_relaxed);
  s->free_units = ~uint64_t{1};  // unit 0 holds this header
  s->kind = kSegmentNormal;
  s->mapped = kSegmentSize;
  s->owner.store(h->owner_word, std::memory_order_release);
  segmap_set(s, true);
  h->empty_segments++;
  list_push_front(h, s);
  stats_add_current(kStat_segments_new);
  return s;
}

void segment_adopt(Heap* h, Segment* s) {
  s->heap.store(h, std::memory_order_relaxed);
  s->owner.store(h->owner_word, std::memory_order_release);
  if (s->free_units != 0) {
    list_push_front(h, s);
  } else {
    list_push_back(h, s);
  }
  h->dirty_units += static_cast<uint32_t>(__builtin_popcountll(s->dirty_units));
  h->used_units += s->used_units;
  if (s->used_units == 0) h->empty_segments++;
  stats_add_current(kStat_segments_adopted);
  h->pinned = s;              // its runs may all come free now: keep it until the caller has taken one
  segment_pages_adopt(h, s);  // collects remote frees, queues the pages, frees empty runs
  h->pinned = nullptr;
}

}  // namespace

void SpinLock::lock() {
  for (unsigned spins = 0;; ++spins) {
    if (!locked.load(std::memory_order_relaxed) && !locked.exchange(true, std::memory_order_acquire)) return;
    if (spins > 64) sched_yield();
  }
}

// A run of `units` units whose first unit index is a multiple of align_units:
// from the heap's segments, else an abandoned segment, else a new one.
Segment* segment_alloc_run(Heap* h, unsigned units, unsigned align_units, unsigned* idx) {
  // Committed (dirty) free units first: reusing them costs no page faults.
  if (h->dirty_units >= units) {
    for (Segment* s = h->segments; s != nullptr && s->free_units != 0; s = s->next) {
      const int i = find_run(s->free_units & s->dirty_units, units, align_units);
      if (i >= 0) {
        run_take(h, s, static_cast<unsigned>(i), units);
        *idx = static_cast<unsigned>(i);
        return s;
      }
    }
  }
  for (Segment* s = h->segments; s != nullptr && s->free_units != 0; s = s->next) {
    const int i = find_run(s->free_units, units, align_units);
    if (i >= 0) {
      run_take(h, s, static_cast<unsigned>(i), units);
      *idx = static_cast<unsigned>(i);
      return s;
    }
  }
  for (int tries = 0; tries < 4; ++tries) {
    Segment* s = segment_pop_abandoned();
    if (s == nullptr) break;
    segment_adopt(h, s);
    const int i = find_run(s->free_units, units, align_units);
    if (i >= 0) {
      run_take(h, s, static_cast<unsigned>(i), units);
      *idx = static_cast<unsigned>(i);
      return s;
    }
  }
  Segment* s = segment_new(h);
  if (s == nullptr) return nullptr;
  const int i = find_run(s->free_units, units, align_units);
  if (i < 0) return nullptr;  // alignment beyond the segment: callers never ask
  run_take(h, s, static_cast<unsigned>(i), units);
  *idx = static_cast<unsigned>(i);
  return s;
}

// Returns a run; the page descriptors become free sentinels again. An empty
// segment is kept as the heap's spare, or released when there is one already.
void segment_free_run(Heap* h, Segment* s, unsigned idx, unsigned units) {
  for (unsigned i = idx; i < idx + units; ++i) {
    Page* pg = &s->pages[i];
    pg->free = nullptr;
    pg->local_free = nullptr;
    pg->used_minus1 = 0;  // a sentinel again
    pg->flags = 0;
    pg->thread_free.store(0, std::memory_order_relaxed);
  }
  const bool was_full = s->free_units == 0;
  const uint64_t mask = run_mask(idx, units);
  s->free_units |= mask;
  s->dirty_units |= mask;
  s->run_freed = true;
  s->used_units -= units;
  h->used_units -= units;
  h->free_streak += units;
  h->dirty_units += units;
  if (was_full) {
    list_remove(h, s);
    list_push_front(h, s);
  }
  if (s->used_units == 0) {
    h->empty_segments++;
    if (h->empty_segments > 1 && s != h->pinned && !keep_empty_segments()) {
      segment_release(h, s);
    }
  }
  heap_maybe_purge(h);
}

// After a run free: the size limit, then the age ticks (see "purging").
void heap_maybe_purge(Heap* h) {
  if (!g_options.purge) return;
  const uint32_t limit = purge_limit(h);
  if (h->dirty_units > limit) {
    const uint32_t before = h->dirty_units;
    purge_down_to(h, limit / 2);
    h->purged_recent += before - h->dirty_units;
  }
  if (h->dirty_units == 0) {
    h->purge_deadline = 0;
    return;
  }
  if (g_options.purge_delay_ms == 0) return;
  const uint64_t now = os_clock_ns();
  if (h->purge_deadline == 0) {
    h->purge_deadline = now + uint64_t{g_options.purge_delay_ms} * 1000000u;
  } else if (now >= h->purge_deadline) {
    purge_tick(h, now);
  }
}

// From malloc_generic every 16th call while a tick is pending, so that a heap
// that frees no more runs still purges what stays free.
void heap_purge_poll(Heap* h) {
  const uint64_t now = os_clock_ns();
  if (now >= h->purge_deadline) purge_tick(h, now);
  huge_cache_trim(false);
}

void heap_purge(Heap* h) {
  for (Segment* s = h->segments; s != nullptr; s = s->next) {
    if (s->dirty_units != 0) purge_dirty(h, s);
  }
  h->purge_deadline = 0;
}

// Releases every empty segment (iso_collect) or all but one.
void heap_release_empty(Heap* h, bool keep_spare) {
  bool kept = !keep_spare;
  for (Segment* s = h->segments; s != nullptr;) {
    Segment* next = s->next;
    if (s->used_units == 0) {
      if (!kept) {
        kept = true;
      } else {
        segment_release(h, s);
      }
    }
    s = next;
  }
}

// Thread exit: empty segments are released, the others purged and abandoned.
namespace {

// Classes with a page here that has a free or uncarved block (the pages
// were collected by page_abandon_prepare).
uint64_t room_classes(const Segment* s) {
  uint64_t room = 0;
  for (unsigned i = 1; i < kUnitsPerSegment; ++i) {
    const Page& pg = s->pages[i];
    if ((pg.flags & (kInUse | kLarge)) != kInUse) continue;
    if (pg.free != nullptr || pg.local_free != nullptr || pg.capacity < pg.reserved)
      room |= uint64_t{1} << pg.cls;
  }
  return room;
}

}  // namespace

void heap_segments_abandon(Heap* h) {
  while (Segment* s = h->segments) {
    list_remove(h, s);
    if (s->used_units == 0) {
      h->dirty_units -= static_cast<uint32_t>(__builtin_popcountll(s->dirty_units));
      h->empty_segments--;
      segment_unmap_or_cache(s);
      continue;
    }
    purge_dirty(h, s);
    s->room_classes.store(room_classes(s), std::memory_order_relaxed);
    s->last_heap.store(h, std::memory_order_relaxed);
    s->heap.store(nullptr, std::memory_order_relaxed);
    s->owner.store(kOwnerAbandoned, std::memory_order_release);
    {
      LockGuard guard(g_abandoned_lock);
      Segment* first = g_abandoned.load(std::memory_order_relaxed);
      s->prev = nullptr;
      s->next = first;
      if (first != nullptr) first->prev = s;
      g_abandoned.store(s, std::memory_order_relaxed);
      s->in_abandoned = true;
    }
    stats_add_current(kStat_segments_abandoned);
  }
  h->dirty_units = 0;
  h->used_units = 0;
  h->empty_segments = 0;
  h->purge_deadline = 0;
}

// iso_collect(1): takes over every abandoned segment. Blocks freed into one
// while its owner was ending (remote frees that no heap collects) are only
// found by adopting it, which heaps do when they run out of free runs or
// need room in its size classes; this gives that memory back now.
void heap_adopt_abandoned(Heap* h) {
  while (Segment* s = segment_pop_abandoned()) segment_adopt(h, s);
}

namespace {

// Under g_abandoned_lock.
void abandoned_unlink(Segment* s) {
  if (s->prev != nullptr) {
    s->prev->next = s->next;
  } else {
    g_abandoned.store(s->next, std::memory_order_relaxed);
  }
  if (s->next != nullptr) s->next->prev = s->prev;
  s->next = s->prev = nullptr;
  s->in_abandoned = false;
}

}  // namespace

Segment* segment_pop_abandoned() {
  if (g_abandoned.load(std::memory_order_relaxed) == nullptr) return nullptr;  // peek without the lock
  LockGuard guard(g_abandoned_lock);
  Segment* s = g_abandoned.load(std::memory_order_relaxed);
  if (s != nullptr) abandoned_unlink(s);
  return s;
}

// A free into an abandoned segment: the freeing thread takes the segment
// over, so that memory freed after its owner ended is reused or returned.
// Fails if another thread got there first (then the free goes remote).
// A heap about to make a new page of class cls first takes over an
// abandoned segment that has room in that class (Segment::room_classes),
// looking at the 16 most recently abandoned, its own first. That sends segments to the
// heaps that allocate in them, which is what keeps a pair of threads that
// inherit each other's blocks from spreading them over half-empty pages.
bool segment_reclaim_for_class(Heap* h, unsigned cls) {
  if (g_abandoned.load(std::memory_order_relaxed) == nullptr) return false;
  Segment* found = nullptr;
  {
    LockGuard guard(g_abandoned_lock);
    unsigned looked = 0;
    for (Segment* s = g_abandoned.load(std::memory_order_relaxed); s != nullptr && looked < 16;
         s = s->next, ++looked) {
      if (!((s->room_classes.load(std::memory_order_relaxed) >> cls) & 1)) continue;
      // Not one whose heap a live thread has again: that thread, inheriting
      // its blocks, takes it back as it frees into it.
      const Heap* last = s->last_heap.load(std::memory_order_relaxed);
      if (last != h && last != nullptr && last->in_use.load(std::memory_order_relaxed)) continue;
      abandoned_unlink(s);
      found = s;
      break;
    }
  }
  if (found == nullptr) return false;
  segment_adopt(h, found);
  return true;
}

bool segment_try_reclaim(Heap* h, Segment* s) {
  {
    LockGuard guard(g_abandoned_lock);
    if (!s->in_abandoned) return false;
    abandoned_unlink(s);
  }
  segment_adopt(h, s);
  return true;
}

// ------------------------------------------------------------ fork
void segment_fork_prepare() {
  g_cache_lock.lock();
  g_abandoned_lock.lock();
}
void segment_fork_parent() {
  g_abandoned_lock.unlock();
  g_cache_lock.unlock();
}
void segment_fork_child() {
  g_abandoned_lock.reset();
  g_cache_lock.reset();
}

}  // namespace iso::alloc
