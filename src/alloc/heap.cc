// Thread-local heaps: the direct page table the malloc fast path reads, the
// generic path for everything else, heap creation on a thread's first
// allocation, abandonment at thread exit, fork handlers, process start-up.
//
// A thread's first malloc finds tls_heap pointing at g_empty_heap, whose
// direct table is all &g_empty_page (no free block), so it reaches
// malloc_generic, which sees the heap is not initialised and gives the thread
// its own. No flag is tested on the fast path for that.
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <new>

#include "internal.h"

namespace iso::alloc {

constinit Page g_empty_page{};
constinit Heap g_empty_heap{};
constinit Heap g_exited_heap{};
__thread Heap* tls_heap __attribute__((tls_model("initial-exec"))) = &g_empty_heap;

namespace {

// ------------------------------------------------------------ heap registry
// Every heap ever made, live or pooled for reuse; heaps are never unmapped.
SpinLock g_heaps_lock;
Heap* g_heaps = nullptr;
alignas(64) unsigned char g_first_heap_storage[sizeof(Heap)];
bool g_first_heap_used = false;
unsigned char* g_heap_chunk = nullptr;  // carved into heaps for later threads
std::size_t g_heap_chunk_left = 0;

pthread_key_t g_heap_key;
std::atomic<int> g_init_state{0};  // 0 none, 1 running, 2 done
bool g_options_pending = false;    // environ was not there yet at the first malloc

Heap* heap_acquire() {
  LockGuard guard(g_heaps_lock);
  for (Heap* h = g_heaps; h != nullptr; h = h->next_all) {
    if (h->pooled) {
      h->pooled = false;
      return h;
    }
  }
  void* mem = nullptr;
  if (!g_first_heap_used) {
    g_first_heap_used = true;
    mem = g_first_heap_storage;
  } else {
    constexpr std::size_t kStride = (sizeof(Heap) + 63) & ~std::size_t{63};
    if (g_heap_chunk_left < kStride) {
      constexpr std::size_t kChunk = 64 * 1024;
      g_heap_chunk = static_cast<unsigned char*>(os_map(kChunk));
      if (g_heap_chunk == nullptr) return nullptr;
      g_heap_chunk_left = kChunk;
    }
    mem = g_heap_chunk;
    g_heap_chunk += kStride;
    g_heap_chunk_left -= kStride;
  }
  Heap* h = new (mem) Heap();
  h->next_all = g_heaps;
  g_heaps = h;
  return h;
}

void heap_setup(Heap* h) {
  for (Page*& d : h->direct) d = &g_empty_page;
  h->tid = thread_id();
  h->owner_word = h->tid | (g_options.checks ? kOwnerChecked : 0);
  h->use_direct = g_options.direct && !g_options.checks;
  h->delayed.store(nullptr, std::memory_order_relaxed);
  for (PageQueue& q : h->queues) q = PageQueue{};
  h->full = PageQueue{};
  h->segments = nullptr;
  h->dirty_units = 0;
  h->used_units = 0;
  h->free_streak = 0;
  h->empty_segments = 0;
  h->purge_polls = 0;
  h->purge_deadline = 0;
  h->pinned = nullptr;
  h->keep_units = 0;
  h->purged_recent = 0;
  h->peak_units = 0;
  foreign_setup(h);
  h->stats = Stats{};
  h->stats.n[kStat_threads] = 1;
  h->initialized = true;
  h->in_use.store(true, std::memory_order_relaxed);
}

Heap* heap_init_current() {
  process_init();
  Heap* h = heap_acquire();
  if (h == nullptr) return nullptr;
  heap_setup(h);
  tls_heap = h;
  pthread_setspecific(g_heap_key, h);  // for the exit destructor; may allocate (served by h)
  return h;
}

// pthread key destructor: the thread is ending.
void heap_thread_done(void* arg) {
  Heap* h = static_cast<Heap*>(arg);
  if (h == nullptr || !h->initialized || h != tls_heap) return;
  foreign_close(h);
  page_abandon_prepare(h);
  heap_segments_abandon(h);
  tls_heap = &g_exited_heap;  // frees after this take the remote path
  stats_retire_heap(h->stats);
  LockGuard guard(g_heaps_lock);
  h->initialized = false;
  h->in_use.store(false, std::memory_order_relaxed);
  h->stats = Stats{};
  h->pooled = true;
}

void* page_malloc(Heap* h, unsigned cls) {
  Page* pg = h->queues[cls].head;
  if (pg == nullptr || pg->free == nullptr) {
    if (cls < kDirectClasses) {
      if (void* b = foreign_pop(h, cls)) return b;
    }
    pg = page_find(h, cls);
    if (pg == nullptr) {
      errno = ENOMEM;
      return nullptr;
    }
  }
  if (cls < kDirectClasses) foreign_serve_queue(h, cls);  // the kept blocks ran out
  Block* b = pg->free;
  pg->free = b->next;
#if !ISO_ALLOC_LOCAL_FREE_LIST
  pg->used_minus1++;
#endif
  if (g_options.checks) checked_block_alloc(pg, b);
  return b;
}

// ------------------------------------------------------------ fork
void fork_prepare() {
  g_heaps_lock.lock();
  segment_fork_prepare();
  huge_fork_prepare();
}

void fork_parent() {
  huge_fork_parent();
  segment_fork_parent();
  g_heaps_lock.unlock();
}

// The child has only the forking thread. A remote free that was delivering a
// notification into one of its pages will never finish: clear those tags.
void fork_child() {
  huge_fork_child();
  segment_fork_child();
  g_heaps_lock.reset();
  Heap* h = tls_heap;
  if (!h->initialized) return;
  for (Page* pg = h->full.head; pg != nullptr; pg = pg->next) {
    std::uintptr_t tf = pg->thread_free.load(std::memory_order_relaxed);
    if ((tf & kTfTagMask) == kTfNotifying) pg->thread_free.store(tf & ~kTfTagMask, std::memory_order_relaxed);
  }
}

}  // namespace

void process_init() {
  if (ISO_LIKELY(g_init_state.load(std::memory_order_acquire) == 2)) return;
  int expected = 0;
  if (!g_init_state.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) {
    while (g_init_state.load(std::memory_order_acquire) != 2) sched_yield();
    return;
  }
  g_options_pending = ::environ == nullptr;
  options_init();
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  g_cookie ^=
      reinterpret_cast<std::uintptr_t>(&ts) * 0x9e3779b97f4a7c15u ^ static_cast<std::uintptr_t>(ts.tv_nsec);
  pthread_key_create(&g_heap_key, heap_thread_done);
  g_init_state.store(2, std::memory_order_release);
  if (g_options.verbose) options_print();
}

Heap* heap_get() {
  Heap* h = tls_heap;
  if (ISO_UNLIKELY(!h->initialized)) h = heap_init_current();
  return h;
}

// Everything malloc_fast does not serve: first call of a thread, empty direct
// page, sizes above 2 KiB, and every call in checks mode.
void* malloc_generic(std::size_t n, Heap* h) {
  if (ISO_UNLIKELY(!h->initialized)) {
    h = heap_init_current();
    if (h == nullptr) {
      errno = ENOMEM;
      return nullptr;
    }
  }
  h->stats.n[kStat_malloc_generic]++;
  if (h->delayed.load(std::memory_order_relaxed) != nullptr) heap_drain_delayed(h);
  if ((++h->purge_polls & 15) == 0) {  // every 16th: the clocks of purging and of the huge cache
    if (h->purge_deadline != 0) {
      heap_purge_poll(h);
    } else {
      huge_cache_trim(false);
    }
  }
  if (ISO_LIKELY(n <= kMediumMax)) return page_malloc(h, size_class(n));
  if (n <= kLargeMax) return large_alloc(h, n, 1);
  return huge_alloc(n, 0);
}

// align: a power of two > 16. Classes whose size is a multiple of align
// serve align <= 64 KiB (their blocks are aligned, see size_class.cc); larger
// alignments place a large run or a huge block's start on the boundary (a
// huge block from 4 MiB up: no run of a segment is aligned to more).
void* malloc_aligned(std::size_t n, std::size_t align) {
  Heap* h = heap_get();
  if (h == nullptr) {
    errno = ENOMEM;
    return nullptr;
  }
  if (h->delayed.load(std::memory_order_relaxed) != nullptr) heap_drain_delayed(h);
  if (align <= kUnitSize && n <= kMediumMax) {
    unsigned cls = size_class(n > align ? n : align);
    while (g_classes.size[cls] % align != 0) ++cls;  // stops at the power of two >= max(n, align)
    return page_malloc(h, cls);
  }
  if (n <= kLargeMax && align < kSegmentSize) {
    const std::size_t units = align > kUnitSize ? align >> kUnitShift : 1;
    return large_alloc(h, n, static_cast<unsigned>(units));
  }
  return huge_alloc(n, align);
}

void heap_collect(Heap* h, bool force) {
  if (!h->initialized) return;
  if (force) heap_adopt_abandoned(h);
  foreign_flush(h);
  page_collect_all(h, force);
  heap_purge(h);
  heap_release_empty(h, !force);
  huge_cache_trim(force);
}

std::size_t heaps_made() {
  LockGuard guard(g_heaps_lock);
  std::size_t count = 0;
  for (Heap* h = g_heaps; h != nullptr; h = h->next_all) ++count;
  return count;
}

void heaps_sum_stats(Stats& out) {
  out = Stats{};
  LockGuard guard(g_heaps_lock);
  for (Heap* h = g_heaps; h != nullptr; h = h->next_all) {
    if (!h->initialized) continue;
    for (unsigned i = 0; i < kStatCount; ++i) out.n[i] += h->stats.n[i];
  }
}

namespace {

__attribute__((constructor)) void isoalloc_init() {
  process_init();
  if (g_options_pending) {  // the first malloc ran before libc set environ
    g_options_pending = false;
    options_init();
    if (g_options.verbose) options_print();
    Heap* h = tls_heap;
    if (h->initialized) {
      h->owner_word = h->tid | (g_options.checks ? kOwnerChecked : 0);
      h->use_direct = g_options.direct && !g_options.checks;
      if (!h->use_direct) {
        for (Page*& d : h->direct) d = &g_empty_page;
      }
      foreign_setup(h);  // one thread so far: it has kept nothing
    }
  }
  pthread_atfork(fork_prepare, fork_parent, fork_child);
}

__attribute__((destructor)) void isoalloc_fini() {
  if (g_options.stats) stats_print_all();
}

}  // namespace

}  // namespace iso::alloc
