// Pages: free lists, the heap's page queues, full pages, retiring, and frees
// from other threads.
//
// Lists of a page:
//   free         owner only: malloc pops it; local frees push onto it
//                (single-list variant) or onto local_free (split variant)
//   thread_free  atomic Treiber stack: frees from other threads push onto it,
//                the owner takes it all at once when `free` runs dry
// Queues of a heap: one per size class (head = the page the direct table
// points at) and one `full` list for pages without free blocks and for large
// blocks. A full page stores a use count of one so that the first local free takes the
// slow path and moves it back; a remote free into a full page (thread_free
// tag kTfNotify) pushes the block onto the owner heap's `delayed` stack
// instead, which the owner drains as local frees on its next slow path. That
// is mimalloc's delayed-free protocol, with the same waits (kTfNotifying)
// that keep the heap alive while a remote thread is pushing onto it.
#include <sched.h>

#include <cstdlib>
#include <initializer_list>

#include "internal.h"

namespace iso::alloc {

std::uintptr_t g_cookie = 0x9e3779b97f4a7c15u;

namespace {

// ------------------------------------------------------------ queues
void queue_push_front(PageQueue& q, Page* pg) {
  pg->prev = nullptr;
  pg->next = q.head;
  if (q.head != nullptr) {
    q.head->prev = pg;
  } else {
    q.tail = pg;
  }
  q.head = pg;
}

void queue_push_back(PageQueue& q, Page* pg) {
  pg->next = nullptr;
  pg->prev = q.tail;
  if (q.tail != nullptr) {
    q.tail->next = pg;
  } else {
    q.head = pg;
  }
  q.tail = pg;
}

void queue_remove(PageQueue& q, Page* pg) {
  if (pg->prev != nullptr) {
    pg->prev->next = pg->next;
  } else {
    q.head = pg->next;
  }
  if (pg->next != nullptr) {
    pg->next->prev = pg->prev;
  } else {
    q.tail = pg->prev;
  }
  pg->next = pg->prev = nullptr;
}

// ------------------------------------------------------------ page lists
// Carves up to ISO_ALLOC_EXTEND bytes of never-used blocks onto `free`.
void page_extend(Page* pg) {
  unsigned n = pg->reserved - pg->capacity;
  if (g_options.extend_bytes != 0) {
    unsigned k = g_options.extend_bytes / pg->bsize;
    if (k == 0) k = 1;
    if (k < n) n = k;
  }
  uint8_t* const first = pg->start + std::size_t{pg->capacity} * pg->bsize;
  uint8_t* p = first;
  for (unsigned i = 1; i < n; ++i, p += pg->bsize)
    reinterpret_cast<Block*>(p)->next = reinterpret_cast<Block*>(p + pg->bsize);
  reinterpret_cast<Block*>(p)->next = pg->free;
  pg->free = reinterpret_cast<Block*>(first);
  pg->capacity = static_cast<uint16_t>(pg->capacity + n);
#if ISO_ALLOC_LOCAL_FREE_LIST
  pg->used_minus1 += static_cast<int32_t>(n);
#endif
  stats_add_current(kStat_page_extends);
}

// Takes every block other threads freed into this page onto the local list.
unsigned page_collect_thread_free(Page* pg) {
  std::uintptr_t tf = pg->thread_free.load(std::memory_order_relaxed);
  do {
    if ((tf & ~kTfTagMask) == 0) return 0;
  } while (!pg->thread_free.compare_exchange_weak(tf, tf & kTfTagMask, std::memory_order_acquire,
                                                  std::memory_order_relaxed));
  Block* const list = reinterpret_cast<Block*>(tf & ~kTfTagMask);
  Block* tail = list;
  unsigned count = 1;
  while (tail->next != nullptr) {
    tail = tail->next;
    ++count;
  }
  Block*& local = local_list(pg);
  tail->next = local;
  local = list;
  pg->used_minus1 -= static_cast<int32_t>(count);
  return count;
}

// Refills an empty `free`: remote frees, then (split variant) local frees.
void page_collect(Page* pg) {
  page_collect_thread_free(pg);
#if ISO_ALLOC_LOCAL_FREE_LIST
  if (pg->free == nullptr && pg->local_free != nullptr) {
    pg->free = pg->local_free;
    pg->local_free = nullptr;
    pg->used_minus1 = pg->capacity - 1;  // used = allocated + free + thread_free = capacity - local_free
  }
#endif
}

// No block in use? The use count says so directly, except that in the split
// variant it also counts the blocks on `free`.
bool page_is_empty(const Page* pg) {
#if ISO_ALLOC_LOCAL_FREE_LIST
  int32_t on_free = 0;
  for (const Block* b = pg->free; b != nullptr; b = b->next) ++on_free;
  return pg->used_minus1 - on_free < 0;
#else
  return pg->used_minus1 < 0;
#endif
}

// Tells remote freers to notify the owner (tag kTfNotify). Fails if remote
// frees arrived meanwhile: then the page is not full after all.
bool page_mark_full(Page* pg) {
  std::uintptr_t tf = pg->thread_free.load(std::memory_order_relaxed);
  for (;;) {
    if ((tf & ~kTfTagMask) != 0) return false;
    if ((tf & kTfTagMask) == kTfNotifying) {  // a previous notification is still being delivered
      sched_yield();
      tf = pg->thread_free.load(std::memory_order_relaxed);
      continue;
    }
    if (pg->thread_free.compare_exchange_weak(tf, kTfNotify, std::memory_order_acq_rel,
                                              std::memory_order_relaxed)) {
      return true;
    }
  }
}

// Back to kTfNone. With wait, also waits out a remote thread that is
// delivering a notification (thread exit must not leave one in flight).
void page_unmark_full(Page* pg, bool wait) {
  std::uintptr_t tf = pg->thread_free.load(std::memory_order_relaxed);
  for (;;) {
    const std::uintptr_t tag = tf & kTfTagMask;
    if (tag == kTfNotifying && wait) {
      sched_yield();
      tf = pg->thread_free.load(std::memory_order_relaxed);
      continue;
    }
    if (tag != kTfNotify) return;
    if (pg->thread_free.compare_exchange_weak(tf, tf & ~kTfTagMask, std::memory_order_acq_rel,
                                              std::memory_order_relaxed)) {
      return;
    }
  }
}

bool page_to_full(Heap* h, Page* pg) {
  if (!page_mark_full(pg)) return false;
  queue_remove(h->queues[pg->cls], pg);
  queue_push_back(h->full, pg);
  pg->flags |= kInFull;
  pg->used_minus1 = 0;  // stands for 1 used block; really capacity (see internal.h)
  h->stats.n[kStat_pages_full]++;
  return true;
}

// A full page got a block back (the local free that took the slow path).
void page_unfull(Heap* h, Page* pg) {
  page_unmark_full(pg, false);
  queue_remove(h->full, pg);
  pg->flags &= static_cast<uint8_t>(~kInFull);
  pg->used_minus1 = pg->capacity - 2;  // all but the block just freed
  h->stats.n[kStat_pages_unfull]++;
  if (pg->flags & kLarge) return;
  PageQueue& q = h->queues[pg->cls];
  const bool was_empty = q.head == nullptr;
  queue_push_back(q, pg);
  if (was_empty) page_queue_head_changed(h, pg->cls);
}

// A page with no used block goes back to its segment.
void page_retire(Heap* h, Page* pg) {
  Segment* s = segment_of(pg);
  if (pg->flags & kInFull) {
    queue_remove(h->full, pg);
  } else if (!(pg->flags & kLarge)) {
    PageQueue& q = h->queues[pg->cls];
    const bool was_head = q.head == pg;
    queue_remove(q, pg);
    if (was_head) page_queue_head_changed(h, pg->cls);
  }
  h->stats.n[kStat_pages_retired]++;
  segment_free_run(h, s, page_index(s, pg), pg->units);
}

Page* page_new(Heap* h, unsigned cls) {
  const unsigned units = g_classes.units[cls];
  unsigned idx = 0;
  Segment* s = segment_alloc_run(h, units, 1, &idx);
  if (s == nullptr) return nullptr;
  Page* pg = &s->pages[idx];
  pg->free = nullptr;
  pg->local_free = nullptr;
  pg->used_minus1 = -1;
  pg->bsize = g_classes.size[cls];
  pg->thread_free.store(0, std::memory_order_relaxed);
  pg->capacity = 0;
  pg->reserved = static_cast<uint16_t>((std::size_t{units} << kUnitShift) / pg->bsize);
  pg->cls = static_cast<uint8_t>(cls);
  pg->flags = kInUse;
  pg->units = static_cast<uint8_t>(units);
  pg->head = static_cast<uint8_t>(idx);
  pg->start = unit_address(s, idx);
  queue_push_front(h->queues[cls], pg);
  page_extend(pg);
  h->stats.n[kStat_pages_new]++;
  return pg;
}

bool block_in_page(const Page* pg, const void* p) {
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  const auto start = reinterpret_cast<std::uintptr_t>(pg->start);
  if (!(pg->flags & kInUse) || a < start) return false;
  const std::uintptr_t off = a - start;
  return off < std::size_t{pg->reserved} * pg->bsize && off % pg->bsize == 0;
}

void free_remote(Segment* s, Page* pg, Block* b) {
  stats_add_current(kStat_free_remote);
  std::uintptr_t tf = pg->thread_free.load(std::memory_order_relaxed);
  for (;;) {
    if ((tf & kTfTagMask) == kTfNotify) {
      // The page is full: claim the notification, hand the block to the owner heap.
      if (!pg->thread_free.compare_exchange_weak(tf, (tf & ~kTfTagMask) | kTfNotifying,
                                                 std::memory_order_acquire, std::memory_order_relaxed)) {
        continue;
      }
      Heap* h = s->heap.load(std::memory_order_acquire);
      Block* d = h->delayed.load(std::memory_order_relaxed);
      do {
        b->next = d;
      } while (!h->delayed.compare_exchange_weak(d, b, std::memory_order_release, std::memory_order_relaxed));
      tf = pg->thread_free.load(std::memory_order_relaxed);
      while (!pg->thread_free.compare_exchange_weak(tf, tf & ~kTfTagMask, std::memory_order_release,
                                                    std::memory_order_relaxed)) {
      }
      return;
    }
    b->next = reinterpret_cast<Block*>(tf & ~kTfTagMask);
    if (pg->thread_free.compare_exchange_weak(tf, reinterpret_cast<std::uintptr_t>(b) | (tf & kTfTagMask),
                                              std::memory_order_release, std::memory_order_relaxed)) {
      return;
    }
  }
}

// Sorts a page that was full: remote frees make it usable again (or empty).
void page_full_collect(Heap* h, Page* pg) {
  const unsigned got = page_collect_thread_free(pg);  // used was the stored 1; fixed below
  if (got == 0) return;
  page_unmark_full(pg, false);
  queue_remove(h->full, pg);
  pg->flags &= static_cast<uint8_t>(~kInFull);
  pg->used_minus1 = pg->capacity - static_cast<int32_t>(got) - 1;
  if (pg->used_minus1 < 0) {
    h->stats.n[kStat_pages_retired]++;
    Segment* s = segment_of(pg);
    segment_free_run(h, s, page_index(s, pg), pg->units);
    return;
  }
  PageQueue& q = h->queues[pg->cls];
  const bool was_empty = q.head == nullptr;
  queue_push_back(q, pg);
  if (was_empty) page_queue_head_changed(h, pg->cls);
}

}  // namespace

[[noreturn]] void fatal_pointer(const char* func, const char* what, const void* p) {
  char buf[160];
  char* o = buf;
  for (const char* s : {"isoalloc: ", func, ": ", what, " "}) {
    while (*s != '\0') *o++ = *s++;
  }
  o = format_hex(o, reinterpret_cast<std::uintptr_t>(p));
  *o++ = '\n';
  os_write_stderr(buf, static_cast<std::size_t>(o - buf));
  std::abort();
}

void page_queue_head_changed(Heap* h, unsigned cls) {
  if (!h->use_direct || cls >= kDirectClasses) return;
  Page* pg = h->queues[cls].head;
  direct_set(h, cls, pg != nullptr ? pg : &g_empty_page);
}

// From pg on: the first page with a free block (collecting remote frees,
// carving more), moving full pages to the full list on the way.
Page* page_with_free(Heap* h, Page* pg) {
  while (pg != nullptr) {
    if (pg->free == nullptr) {
      page_collect(pg);
      if (pg->free == nullptr && pg->capacity < pg->reserved) page_extend(pg);
    }
    if (pg->free != nullptr) break;
    Page* next = pg->next;
    if (!page_to_full(h, pg)) continue;  // remote frees arrived: look at it again
    pg = next;
  }
  return pg;
}

// The generic path's page search: the queue head if it has (or can get) a
// free block, else the next such page (full ones move to the full list on
// the way), else a new page.
Page* page_find(Heap* h, unsigned cls) {
  PageQueue& q = h->queues[cls];
  Page* const old_head = q.head;
  Page* pg = page_with_free(h, q.head);
  // Before a new page, when that would take a new segment: one that an
  // ended thread left with room in this class (mimalloc reclaims there too).
  if (pg == nullptr && heap_is_full(h) && segment_reclaim_for_class(h, cls)) pg = page_with_free(h, q.head);
  if (pg == nullptr) {
    pg = page_new(h, cls);
    if (pg == nullptr) {
      if (q.head != old_head) page_queue_head_changed(h, cls);
      return nullptr;
    }
  } else if (pg != q.head) {
    queue_remove(q, pg);
    queue_push_front(q, pg);
  }
  if (q.head != old_head) page_queue_head_changed(h, cls);
  return pg;
}

void checked_block_alloc(Page* pg, Block* b) {
  if (pg->free != nullptr && !block_in_page(pg, pg->free)) {
    fatal_pointer("malloc()", "free list corrupted (write after free?) next to", b);
  }
  b->cookie = 0;
}

void free_local(Page* pg, Block* b) {
  Block*& list = local_list(pg);
  b->next = list;
  list = b;
  if (--pg->used_minus1 < 0) free_local_slow(pg, b);
}

// The free fast path pushed b onto pg and its use count went negative: pg is
// a sentinel (a wrong pointer, or an interior unit of a multi-unit page), a
// full page getting a block back, a page that became empty, or the count was
// already empty (double free).
void free_local_slow(Page* pg, Block* b) {
  Segment* const s = segment_of(b);
  if (ISO_UNLIKELY(!(pg->flags & kInUse))) {
    local_list(pg) = b->next;  // undo the push
    pg->used_minus1 = 0;
    if (pg->flags & kInterior) {
      Page* head = &s->pages[pg->head];
      if (g_options.checks && !block_in_page(head, b)) fatal_pointer("free()", "invalid pointer", b);
      return free_local(head, b);
    }
    fatal_pointer("free()", "invalid pointer or double free", b);
  }
  if (ISO_UNLIKELY(pg->used_minus1 < -1)) fatal_pointer("free()", "double free", b);
  Heap* const h = s->heap.load(std::memory_order_relaxed);
  h->stats.n[kStat_free_local_slow]++;
  if (pg->flags & kInFull) {
    page_unfull(h, pg);
    if (pg->used_minus1 >= 0) return;
  }
  if (pg->flags & kLarge) {  // unfull left it in no queue
    h->stats.n[kStat_pages_retired]++;
    segment_free_run(h, s, page_index(s, pg), pg->units);
    return;
  }
  if (h->queues[pg->cls].head == pg) return;  // keep the current page of the class
  page_retire(h, pg);
}

// Frees that the fast path does not handle: NULL, foreign pointers, huge
// blocks, blocks of other threads' pages it does not keep, and every free
// in checks mode.
void free_other(Segment* s, void* p) {
  if (p == nullptr) return;
  if (!maybe_ours(p) || !segment_known(s)) fatal_pointer("free()", "invalid pointer", p);
  const std::uintptr_t owner = s->owner.load(std::memory_order_acquire);
  if (owner == kOwnerHuge) return huge_free(s, p);
  Page* pg = page_of(s, p);
  if (pg->flags & kInterior) pg = &s->pages[pg->head];
  Block* const b = static_cast<Block*>(p);
  if (!(pg->flags & kInUse)) fatal_pointer("free()", "invalid pointer or double free", p);
  if (g_options.checks) {
    if (!block_in_page(pg, b)) fatal_pointer("free()", "invalid pointer", p);
    if (b->cookie == (reinterpret_cast<std::uintptr_t>(b) ^ g_cookie))
      fatal_pointer("free()", "double free", p);
    b->cookie = reinterpret_cast<std::uintptr_t>(b) ^ g_cookie;
    if (owner != kOwnerAbandoned && (owner & ~kOwnerTagMask) == thread_id()) return free_local(pg, b);
  }
  free_to_page(s, pg, b, owner);
}

// A free by a thread that does not own the block's segment (or an ended
// thread's), which this thread does not keep: back to the page's thread_free,
// or, for an ended thread's segment, maybe the segment itself.
void free_to_page(Segment* s, Page* pg, Block* b, std::uintptr_t owner) {
  if (owner == kOwnerAbandoned) {
    // Take the segment over if it was this heap's before (heaps are reused:
    // a thread that starts after one ended has its heap and, as in the
    // larson shape, often its blocks) or this heap has no free unit of its
    // own; otherwise the block waits in the page and the segment goes to a
    // heap that allocates in its classes (segment_reclaim_for_class). Taking
    // over whatever one frees into gave the last thread of a pair every
    // segment, half empty: 1.5x mimalloc's RSS on the mstress shape.
    Heap* h = tls_heap != &g_exited_heap ? heap_get() : nullptr;
    const bool take = h != nullptr && (s->last_heap.load(std::memory_order_relaxed) == h || heap_is_full(h));
    if (take && segment_try_reclaim(h, s)) return free_local(pg, b);
    if (pg->cls != kLargeClass) s->room_classes.fetch_or(uint64_t{1} << pg->cls, std::memory_order_relaxed);
  }
  free_remote(s, pg, b);
}

// Remote frees into full pages, handed over by free_remote: free them here.
void heap_drain_delayed(Heap* h) {
  Block* b = h->delayed.exchange(nullptr, std::memory_order_acquire);
  while (b != nullptr) {
    Block* const next = b->next;
    Segment* s = segment_of(b);
    Page* pg = page_of(s, b);
    if (pg->flags & kInterior) pg = &s->pages[pg->head];
    // The freer still writes the page's tag after pushing: let it finish.
    while ((pg->thread_free.load(std::memory_order_acquire) & kTfTagMask) == kTfNotifying) sched_yield();
    h->stats.n[kStat_delayed_frees]++;
    free_local(pg, b);
    b = next;
  }
}

// Collects remote frees everywhere and retires empty pages (the queue heads
// too if retire_current): iso_collect() and thread exit.
void page_collect_all(Heap* h, bool retire_current) {
  heap_drain_delayed(h);
  for (unsigned cls = 0; cls < kNumClasses; ++cls) {
    for (Page* pg = h->queues[cls].head; pg != nullptr;) {
      Page* const next = pg->next;
      page_collect_thread_free(pg);
      if ((retire_current || pg != h->queues[cls].head) && page_is_empty(pg)) page_retire(h, pg);
      pg = next;
    }
  }
  for (Page* pg = h->full.head; pg != nullptr;) {
    Page* const next = pg->next;
    page_full_collect(h, pg);
    pg = next;
  }
}

// Thread exit, before the segments are abandoned: no notification may be in
// flight or pending, every empty page is retired, and the pages left behind
// carry their real `used`.
void page_abandon_prepare(Heap* h) {
  heap_drain_delayed(h);
  for (Page* pg = h->full.head; pg != nullptr; pg = pg->next) page_unmark_full(pg, true);
  heap_drain_delayed(h);
  page_collect_all(h, true);
  for (Page* pg = h->full.head; pg != nullptr;) {
    Page* const next = pg->next;
    pg->flags &= static_cast<uint8_t>(~kInFull);
    pg->used_minus1 = pg->capacity - 1;
    pg->next = pg->prev = nullptr;
    pg = next;
  }
  h->full = PageQueue{};
  for (unsigned cls = 0; cls < kNumClasses; ++cls) {
    for (Page* pg = h->queues[cls].head; pg != nullptr;) {
      Page* const next = pg->next;
      pg->next = pg->prev = nullptr;
      pg = next;
    }
    h->queues[cls] = PageQueue{};
  }
  for (Page*& d : h->direct) d = &g_empty_page;
}

// A heap takes over an abandoned segment: each page is collected, then freed
// (empty), queued (has free blocks) or put in the full list.
void segment_pages_adopt(Heap* h, Segment* s) {
  for (unsigned idx = 1; idx < kUnitsPerSegment; ++idx) {
    Page* pg = &s->pages[idx];
    if (!(pg->flags & kInUse)) continue;
    pg->next = pg->prev = nullptr;
    for (;;) {
      page_collect_thread_free(pg);
      if (page_is_empty(pg)) {
        segment_free_run(h, s, idx, pg->units);
        break;
      }
      if (pg->flags & kLarge) {
        if (!page_mark_full(pg)) continue;
        pg->flags |= kInFull;
        pg->used_minus1 = 0;
        queue_push_back(h->full, pg);
        break;
      }
      PageQueue& q = h->queues[pg->cls];
      const bool was_empty = q.head == nullptr;
      queue_push_back(q, pg);
      if (was_empty) page_queue_head_changed(h, pg->cls);
      if (local_list(pg) == nullptr && pg->free == nullptr && pg->capacity == pg->reserved) {
        page_to_full(h, pg);  // on failure remote frees arrived; page_find collects them
      }
      break;
    }
  }
}

// One block of `units` units, the first unit index a multiple of align_units.
void* large_alloc(Heap* h, std::size_t n, unsigned align_units) {
  // n == 0 comes from an aligned request (posix_memalign(&p, 1 MiB, 0)).
  const unsigned units = n == 0 ? 1 : static_cast<unsigned>((n + kUnitSize - 1) >> kUnitShift);
  unsigned idx = 0;
  Segment* s = segment_alloc_run(h, units, align_units, &idx);
  if (s == nullptr) return nullptr;
  Page* pg = &s->pages[idx];
  pg->free = nullptr;
  pg->local_free = nullptr;
  pg->bsize = static_cast<uint32_t>(std::size_t{units} << kUnitShift);
  pg->thread_free.store(kTfNotify, std::memory_order_relaxed);
  pg->capacity = pg->reserved = 1;
  pg->cls = kLargeClass;
  pg->flags = kInUse | kLarge | kInFull;
  pg->units = static_cast<uint8_t>(units);
  pg->head = static_cast<uint8_t>(idx);
  pg->start = unit_address(s, idx);
  pg->used_minus1 = 0;
  queue_push_back(h->full, pg);
  h->stats.n[kStat_large_allocs]++;
  if (g_options.checks) reinterpret_cast<Block*>(pg->start)->cookie = 0;
  return pg->start;
}

}  // namespace iso::alloc
