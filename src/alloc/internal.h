// isoalloc internals: every type, the geometry, and the two inline fast paths.
//
// Layers ("boxes"), each one file with one entry point:
//   front    alloc.cc / override.cc   malloc_fast, free_fast (this header)
//   heap     heap.cc      thread-local heap, direct page table, generic path
//   page     page.cc      per-page free lists, full/unfull, retire, remote frees
//            foreign.cc   other threads' blocks a heap keeps for its own mallocs
//   segment  segment.cc   4 MiB aligned segments of 64 KiB units, huge blocks
//   os       os.cc        mmap / munmap / madvise
// plus size_class.cc (class tables), options.cc (ISO_ALLOC_* snapshot) and
// stats.cc (counters, ISO_ALLOC_STATS=1).
//
// Memory layout. A segment is 4 MiB, aligned to 4 MiB, so `ptr & ~(4 MiB - 1)`
// is its header. It is cut into 64 units of 64 KiB; unit 0 holds the header
// and the array of 64 page descriptors (64 bytes each), so the descriptor of
// the unit a pointer lies in is `segment + 64 + ((ptr >> 10) & 0xFC0)`.
// A "page" is a run of units holding blocks of one size class (one unit for
// classes <= 8 KiB, up to 8 units for classes <= 128 KiB), or one large block
// (<= 1 MiB). Bigger blocks get their own mapping ("huge" segment, huge.cc).
//
// The descriptors of units that do not start a page (unit 0, free units, the
// interior units of a multi-unit page) are sentinels whose `used_minus1` is 0,
// so a free that lands on one drives it negative and takes the slow path,
// which undoes the push and redirects or reports the pointer. That keeps the
// free fast path free of any flag test.
//
// Page accounting. `used_minus1` is the number of blocks in use minus one, so
// "the page became empty" is "the decrement went negative", which the free
// fast path tests with the flags of the decrement itself (`subl; js`). Blocks
// in use are
//   single list (default):  allocated + in thread_free
//   split lists:            allocated + in free + in thread_free
// (remote frees cannot touch the counter; the owner subtracts them when it
// collects thread_free). A page in the heap's full list stores the count of
// one block instead of its real count (= capacity), so the first local free
// into it takes the slow path and moves it back.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#if !defined(ISO_ALLOC_DEBUG)
#if defined(NDEBUG)
#define ISO_ALLOC_DEBUG 0
#else
#define ISO_ALLOC_DEBUG 1
#endif
#endif

// 0: one owner-side free list (local frees push onto `free`, malloc pops it).
// 1: mimalloc's split: local frees go to `local_free`, which malloc's slow
//    path swaps in when `free` runs out; malloc then needs no counter update.
// Compile-time, because it changes both fast paths. Measured on alloc_mixed
// (2M ops, ws 400, callgrind, whole process): 0 = 94.5 M instructions
// (47.2/op), 1 = 97.5 M (48.8/op: the generic path runs every ~21 mallocs to
// swap the lists); wall time 1-4 % lower with 0.
#if !defined(ISO_ALLOC_LOCAL_FREE_LIST)
#define ISO_ALLOC_LOCAL_FREE_LIST 0
#endif

#define ISO_LIKELY(x) __builtin_expect(!!(x), 1)
#define ISO_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define ISO_INLINE inline __attribute__((always_inline))
#define ISO_NOINLINE __attribute__((noinline))
#define ISO_COLD __attribute__((noinline, cold))

namespace iso::alloc {

// ---------------------------------------------------------------- geometry
inline constexpr unsigned kSegmentShift = 22;
inline constexpr std::size_t kSegmentSize = std::size_t{1} << kSegmentShift;  // 4 MiB
inline constexpr std::uintptr_t kSegmentMask = kSegmentSize - 1;
inline constexpr unsigned kUnitShift = 16;
inline constexpr std::size_t kUnitSize = std::size_t{1} << kUnitShift;  // 64 KiB
inline constexpr unsigned kUnitsPerSegment = kSegmentSize / kUnitSize;  // 64
inline constexpr std::size_t kPagesOffset = 64;                         // descriptors start here

inline constexpr std::size_t kSmallMax = 8 * 1024;     // classes in one-unit pages
inline constexpr std::size_t kMediumMax = 128 * 1024;  // largest size class
inline constexpr unsigned kMediumMaxUnits = 8;         // medium page: <= 8 units
inline constexpr unsigned kLargeMaxUnits = 16;
inline constexpr std::size_t kLargeMax = kLargeMaxUnits * kUnitSize;  // 1 MiB: one block per run

inline constexpr std::size_t kDirectMax = 2048;                // malloc fast path covers 0..2048 B
inline constexpr unsigned kDirectSlots = kDirectMax / 16 + 1;  // slot = (n + 15) / 16
inline constexpr unsigned kNumClasses = 48;                    // 16 B .. 128 KiB
inline constexpr unsigned kDirectClasses = 24;                 // classes that have direct slots (<= 2048 B)
inline constexpr std::uint8_t kLargeClass = 0xFF;

// ---------------------------------------------------------------- blocks, pages
struct Block {
  Block* next;
  std::uintptr_t cookie;  // written on free in checks mode (double-free detection)
};

enum PageFlags : std::uint8_t {
  kInUse = 1,     // this descriptor starts an allocated run
  kInFull = 2,    // the page is in its heap's full list (used holds 1)
  kInterior = 4,  // sentinel: an interior unit of a multi-unit page; see `head`
  kLarge = 8,     // one large block
};

// thread_free's low two bits: whether the owner wants to hear of remote frees.
inline constexpr std::uintptr_t kTfNone = 0;       // remote frees push onto thread_free
inline constexpr std::uintptr_t kTfNotify = 1;     // page is full: the next remote free goes to heap->delayed
inline constexpr std::uintptr_t kTfNotifying = 2;  // a remote free is pushing onto heap->delayed right now
inline constexpr std::uintptr_t kTfTagMask = 3;

struct alignas(64) Page {
  Block* free = nullptr;                       // owner-only pop list (and push list, single-list variant)
  int32_t used_minus1 = 0;                     // blocks in use - 1: "page empty" is "went negative"
  uint32_t bsize = 0;                          // block size in bytes (run size for a large block)
  std::atomic<std::uintptr_t> thread_free{0};  // frees from other threads | tag
  uint16_t capacity = 0;                       // blocks carved so far
  uint16_t reserved = 0;                       // blocks that fit
  uint8_t cls = 0;
  uint8_t flags = 0;
  uint8_t units = 0;     // run length in units
  uint8_t head = 0;      // interior sentinel: index of the run's first unit
  Page* next = nullptr;  // heap queue links
  Page* prev = nullptr;
  uint8_t* start = nullptr;     // first block
  Block* local_free = nullptr;  // split-list variant only
};
static_assert(sizeof(Page) == 64);

// The list a local free pushes onto.
ISO_INLINE Block*& local_list(Page* pg) {
#if ISO_ALLOC_LOCAL_FREE_LIST
  return pg->local_free;
#else
  return pg->free;
#endif
}

// ---------------------------------------------------------------- segments
struct Heap;

// Segment owner word: the owning thread's thread pointer (a multiple of 64), or
// one of these. Checks mode stores tid | kOwnerChecked so the fast path never
// matches and every free takes the checked slow path.
inline constexpr std::uintptr_t kOwnerAbandoned = 0;
inline constexpr std::uintptr_t kOwnerHuge = 1;
inline constexpr std::uintptr_t kOwnerChecked = 2;
inline constexpr std::uintptr_t kOwnerTagMask = 3;

enum SegmentKind : uint32_t { kSegmentNormal = 1, kSegmentHuge = 2 };

struct alignas(64) Segment {
  std::atomic<std::uintptr_t> owner{0};  // offset 0: the fast path reads it
  std::atomic<Heap*> heap{nullptr};
  uint64_t free_units = 0;   // bit i: unit i is free
  uint64_t dirty_units = 0;  // free units whose memory is still committed
  Segment* next = nullptr;   // heap's segment list / cache / abandoned list
  Segment* prev = nullptr;
  uint32_t used_units = 0;
  SegmentKind kind = kSegmentNormal;
  std::size_t mapped = 0;         // bytes mapped at this address
  Page pages[kUnitsPerSegment];   // offset 64: pages[i] describes unit i
  uint8_t* huge_block = nullptr;  // huge segments: the block and its usable size
  std::size_t huge_size = 0;
  uint64_t aged_units = 0;    // dirty units already dirty at the heap's last purge tick (a subset)
  bool huge_zeroed = false;   // the huge block's memory is known to be zero
  bool in_abandoned = false;  // on the global abandoned list (guarded by its lock)
  bool run_freed = false;     // a run was freed since the heap's last purge tick: its purge waits
  std::atomic<uint64_t> room_classes{0};  // abandoned: classes with room in its pages (bit per class)
  std::atomic<Heap*> last_heap{nullptr};  // abandoned: the heap it belonged to
};
static_assert(sizeof(Page) * kUnitsPerSegment + kPagesOffset + 64 <= kUnitSize);

// Masks p - 1, not p: no block starts at its segment's first byte (unit 0
// is the header), but a huge block aligned to 4 MiB or more starts exactly
// one segment after its header (huge.cc). NULL maps to the top of the
// address space and pointers up to 4 MiB to 0: see maybe_ours.
ISO_INLINE Segment* segment_of(const void* p) {
  return reinterpret_cast<Segment*>((reinterpret_cast<std::uintptr_t>(p) - 1) & ~kSegmentMask);
}
// False for the pointers whose segment_of is not a segment (NULL, and up to
// 4 MiB, where nothing of ours lies).
ISO_INLINE bool maybe_ours(const void* p) {
  return reinterpret_cast<std::uintptr_t>(p) > kSegmentSize;
}
ISO_INLINE Page* page_of(Segment* s, const void* p) {
  const std::uintptr_t off =
      (reinterpret_cast<std::uintptr_t>(p) >> (kUnitShift - 6)) & ((kUnitsPerSegment - 1) << 6);
  return reinterpret_cast<Page*>(reinterpret_cast<char*>(s) + kPagesOffset + off);
}
ISO_INLINE unsigned page_index(const Segment* s, const Page* pg) {
  return static_cast<unsigned>(pg - s->pages);
}
ISO_INLINE uint8_t* unit_address(Segment* s, unsigned idx) {
  return reinterpret_cast<uint8_t*>(s) + (std::size_t{idx} << kUnitShift);
}

// The calling thread's identity: its thread pointer (one instruction on x86-64).
ISO_INLINE std::uintptr_t thread_id() {
  return reinterpret_cast<std::uintptr_t>(__builtin_thread_pointer());
}

// ---------------------------------------------------------------- statistics
// clang-format off
#define ISO_ALLOC_STAT_LIST(X) \
  X(malloc_generic) \
  X(free_local_slow) \
  X(free_remote) \
  X(foreign_kept) \
  X(foreign_returned) \
  X(delayed_frees) \
  X(pages_new) \
  X(pages_retired) \
  X(pages_full) \
  X(pages_unfull) \
  X(page_extends) \
  X(large_allocs) \
  X(huge_allocs) \
  X(huge_frees) \
  X(huge_reused) \
  X(segments_new) \
  X(segments_from_cache) \
  X(segments_to_cache) \
  X(segments_unmapped) \
  X(segments_abandoned) \
  X(segments_adopted) \
  X(purges) \
  X(purged_bytes) \
  X(threads)
// clang-format on

enum Stat : unsigned {
#define ISO_X(name) kStat_##name,
  ISO_ALLOC_STAT_LIST(ISO_X)
#undef ISO_X
      kStatCount
};

struct Stats {
  uint64_t n[kStatCount] = {};
};

// ---------------------------------------------------------------- heaps
struct PageQueue {
  Page* head = nullptr;
  Page* tail = nullptr;
};

extern constinit Page g_empty_page;  // free == nullptr: the fast path falls through

struct Heap {
  // direct[(n + 15) / 16] is the page that serves malloc(n) for n <= kDirectMax
  // (the head of that class's queue), or &g_empty_page.
  Page* direct[kDirectSlots];
  std::uintptr_t tid = 0;
  std::uintptr_t owner_word = 0;  // what this heap's segments hold in `owner`
  bool initialized = false;
  bool use_direct = false;
  std::atomic<Block*> delayed{nullptr};  // remote frees into full pages
  PageQueue queues[kNumClasses];
  PageQueue full;               // full pages and large blocks
  Segment* segments = nullptr;  // those with free units first
  uint32_t dirty_units = 0;     // free but committed units over all segments
  uint32_t used_units = 0;      // units in pages over all segments (what the purge limit scales with)
  uint32_t free_streak = 0;     // units of runs freed since the last run was taken
  uint32_t keep_units = 0;      // learned: free units a shrinking heap keeps (it took them back before)
  uint32_t purged_recent = 0;   // units the size limit purged since the last purge tick
  uint32_t peak_units = 0;      // most units in use since the last purge tick
  uint32_t empty_segments = 0;  // segments with no page, kept as spares
  uint32_t purge_polls = 0;     // generic mallocs (the clocks are read at every 16th)
  Segment* pinned = nullptr;    // being adopted: not released while its pages are sorted
  uint64_t purge_deadline = 0;  // ns (CLOCK_MONOTONIC_COARSE) of the next purge tick; 0: nothing dirty
  Heap* next_all = nullptr;     // all heaps (statistics, pool)
  bool pooled = false;
  std::atomic<bool> in_use{false};  // a thread has it (read by other threads' reclaims)
  // Blocks of other live threads' pages that this thread freed, kept to
  // serve its own mallocs of the class: the block is warm in this core's
  // cache, and its page never learns of the round trip. One pseudo page per
  // direct class; the fast path pops it like any page when direct[] points
  // at it (page_malloc). Its pages still count the blocks in use.
  // used_minus1 is minus the number held (a pop adds one, like the fast
  // path's; with ISO_ALLOC_LOCAL_FREE_LIST=1 the fast path does not count,
  // so a heap keeps at most the limit between flushes); at most
  // foreign_limit[cls]; foreign_flush gives them back.
  Page foreign[kDirectClasses];
  uint16_t foreign_limit[kDirectClasses] = {};
  Stats stats;

  constexpr Heap() {
    for (Page*& d : direct) d = &g_empty_page;
  }
};

// Every thread starts on the shared, never-initialised empty heap; its first
// malloc goes to the generic path, which gives it a heap of its own.
extern constinit Heap g_empty_heap;
extern constinit Heap g_exited_heap;  // tls_heap of a thread past its heap's destructor
extern __thread Heap* tls_heap __attribute__((tls_model("initial-exec")));

// ---------------------------------------------------------------- options
struct Options {
  bool stats = false;             // ISO_ALLOC_STATS=1: print counters to stderr at exit
  bool checks = ISO_ALLOC_DEBUG;  // ISO_ALLOC_CHECKS=1 (or ISO_ALLOC_SECURE=1): checked slow paths only
  bool verbose = false;           // ISO_ALLOC_VERBOSE=1: print the options at start-up
  bool direct = true;             // ISO_ALLOC_DIRECT=0: no direct page table (A/B of the fast path)
  bool purge = true;              // ISO_ALLOC_PURGE=0: never madvise free memory
  uint32_t extend_bytes = 4096;   // ISO_ALLOC_EXTEND=bytes carved per free-list extension (0: whole page)
  uint32_t purge_units = 64;      // ISO_ALLOC_PURGE_KIB: free committed memory a heap may always keep
  uint32_t purge_percent = 300;   // ISO_ALLOC_PURGE_PERCENT: ... or this share of its units in use, if more
  uint32_t purge_delay_ms = 10;   // ISO_ALLOC_PURGE_DELAY_MS: free units older than 1-2x this are purged
  uint32_t segment_cache = 8;     // ISO_ALLOC_SEGMENT_CACHE: free 4 MiB segments kept mapped (purged)
  uint32_t huge_cache_mib = 64;   // ISO_ALLOC_HUGE_CACHE_MIB: freed huge mappings kept committed for reuse
  uint32_t huge_cache_ms = 100;   // ISO_ALLOC_HUGE_CACHE_MS: ... for this long after their free
  uint32_t foreign_kib = 64;  // ISO_ALLOC_FOREIGN_KIB: other threads' blocks a heap keeps per class (0: none)
};
extern Options g_options;
void options_init();  // reads the environment once
void options_print();

// ---------------------------------------------------------------- size classes
struct ClassTables {
  uint32_t size[kNumClasses];        // block size of each class
  uint8_t units[kNumClasses];        // units per page of each class
  uint8_t slot_class[kDirectSlots];  // direct slot (n + 15) / 16 -> class
  uint8_t slot_first[kNumClasses];   // direct slots of a class: [first, last]
  uint8_t slot_last[kNumClasses];
};
extern const ClassTables g_classes;

// Points the direct slots of class cls (< kDirectClasses) at pg.
ISO_INLINE void direct_set(Heap* h, unsigned cls, Page* pg) {
  for (unsigned s = g_classes.slot_first[cls]; s <= g_classes.slot_last[cls]; ++s) h->direct[s] = pg;
}

// Size class of 1 <= n <= kMediumMax: 16-byte steps to 128, then 4 per doubling.
ISO_INLINE unsigned size_class(std::size_t n) {
  if (n <= kDirectMax) return g_classes.slot_class[(n + 15) >> 4];
  const std::size_t m = n - 1;
  const unsigned b = 63u - static_cast<unsigned>(__builtin_clzll(m));
  return 8 + (b - 7) * 4 + static_cast<unsigned>((m >> (b - 2)) & 3);
}

// ---------------------------------------------------------------- entry points of the layers
// heap.cc
void* malloc_generic(std::size_t n, Heap* h);            // every malloc the fast path cannot serve
void* malloc_aligned(std::size_t n, std::size_t align);  // align: power of two > 16
Heap* heap_get();                                        // the calling thread's heap, initialised
void heap_collect(Heap* h, bool force);
void process_init();
void stats_add_current(Stat s, uint64_t n = 1);
void heaps_sum_stats(Stats& out);
std::size_t heaps_made();        // heaps ever made, live or pooled for the next thread
extern std::uintptr_t g_cookie;  // checks mode: freed blocks carry (address ^ g_cookie)

// page.cc
Page* page_find(Heap* h, unsigned cls);  // a page of class cls with a free block
void page_queue_head_changed(Heap* h, unsigned cls);
void free_local(Page* pg, Block* b);       // owner-side free (not inline)
void free_local_slow(Page* pg, Block* b);  // fast path's exit: the use count went negative
void free_other(Segment* s, void* p);      // owner mismatch, NULL, huge, checks mode
void heap_drain_delayed(Heap* h);
void free_to_page(Segment* s, Page* pg, Block* b, std::uintptr_t owner);  // a free by a non-owner, not kept

// foreign.cc: other threads' blocks this heap keeps (Heap::foreign)
void foreign_setup(Heap* h);                      // empty, limits from the options (none without direct)
void* foreign_pop(Heap* h, unsigned cls);         // nullptr: none held; else the fast path serves the rest
void foreign_serve_queue(Heap* h, unsigned cls);  // the direct slots back on the class's queue
void foreign_flush(Heap* h);                      // every kept block back to its page
void foreign_close(Heap* h);                      // flush, and keep none until foreign_setup (thread exit)
void page_collect_all(Heap* h, bool retire_current);
void page_abandon_prepare(Heap* h);
void segment_pages_adopt(Heap* h, Segment* s);
void* large_alloc(Heap* h, std::size_t n, unsigned align_units);
[[noreturn]] void fatal_pointer(const char* func, const char* what, const void* p);
void checked_block_alloc(Page* pg, Block* b);

// segment.cc
Segment* segment_alloc_run(Heap* h, unsigned units, unsigned align_units, unsigned* idx);
void segment_free_run(Heap* h, Segment* s, unsigned idx, unsigned units);
void heap_purge(Heap* h);
void heap_maybe_purge(Heap* h);
void heap_purge_poll(Heap* h);
void heap_release_empty(Heap* h, bool keep_spare);
void heap_segments_abandon(Heap* h);
void heap_adopt_abandoned(Heap* h);
Segment* segment_pop_abandoned();
bool segment_try_reclaim(Heap* h, Segment* s);
bool segment_reclaim_for_class(Heap* h, unsigned cls);
// No free unit in any of its segments (those with free units come first).
inline bool heap_is_full(const Heap* h) {
  return h->segments == nullptr || h->segments->free_units == 0;
}

// One bit per 4 MiB of the address space: whether a segment of ours is there.
inline constexpr unsigned kAddressBits = 47;
inline constexpr std::size_t kSegmapWords = (std::size_t{1} << (kAddressBits - kSegmentShift)) / 64;
extern std::atomic<uint64_t> g_segmap[kSegmapWords];
ISO_INLINE bool segment_known(const void* s) {
  const std::uintptr_t slot = reinterpret_cast<std::uintptr_t>(s) >> kSegmentShift;
  if (slot / 64 >= kSegmapWords) return false;
  return (g_segmap[slot / 64].load(std::memory_order_acquire) >> (slot % 64)) & 1;
}
void segmap_set(const Segment* s, bool on);
Segment* segment_map(std::size_t size, bool* zero);  // 4 MiB aligned, from the segment cache or the OS
void segment_unmap_or_cache(Segment* s);
void segment_fork_prepare();
void segment_fork_parent();
void segment_fork_child();

// huge.cc
void* huge_alloc(std::size_t n, std::size_t align);
void huge_free(Segment* s, void* p);
void huge_cache_trim(bool all);
bool huge_resize_in_place(Segment* s, std::size_t n);
bool huge_block_zeroed(const Segment* s);
void huge_fork_prepare();
void huge_fork_parent();
void huge_fork_child();

// os.cc
void* os_map(std::size_t size);
void* os_map_aligned(std::size_t size, std::size_t align,
                     std::size_t offset = 0);  // (p + offset) % align == 0
void* os_move_grow(void* p, std::size_t old_size, std::size_t new_size, std::size_t align);
void os_unmap(void* p, std::size_t size);
bool os_remap_in_place(void* p, std::size_t old_size, std::size_t new_size);
void os_purge(void* p, std::size_t size);
void os_write_stderr(const char* s, std::size_t n);
uint64_t os_clock_ns();  // CLOCK_MONOTONIC_COARSE
std::size_t os_page_size();
uint64_t os_mapped_bytes();
uint64_t os_mapped_peak();

// stats.cc
void stats_print_all();
void stats_retire_heap(const Stats& s);
char* format_u64(char* out, uint64_t v);  // decimal, returns the end
char* format_hex(char* out, std::uintptr_t v);

// A tiny spin lock for the rare global structures (segment cache, abandoned
// list, heap registry); never taken on a page or block path.
struct SpinLock {
  std::atomic<bool> locked{false};
  void lock();
  void unlock() { locked.store(false, std::memory_order_release); }
  void reset() { locked.store(false, std::memory_order_relaxed); }
};
struct LockGuard {
  SpinLock& l;
  explicit LockGuard(SpinLock& lock) : l(lock) { l.lock(); }
  ~LockGuard() { l.unlock(); }
  LockGuard(const LockGuard&) = delete;
  LockGuard& operator=(const LockGuard&) = delete;
};

// ---------------------------------------------------------------- fast paths
// malloc: TLS heap -> direct page for the size -> pop its free list.
ISO_INLINE void* malloc_fast(std::size_t n) {
  Heap* const h = tls_heap;
  if (ISO_LIKELY(n <= kDirectMax)) {
    Page* const pg = h->direct[(n + 15) >> 4];
    Block* const b = pg->free;
    if (ISO_LIKELY(b != nullptr)) {
      pg->free = b->next;
#if !ISO_ALLOC_LOCAL_FREE_LIST
      pg->used_minus1++;
#endif
      return b;
    }
  }
  return malloc_generic(n, h);
}

// A free of a block of another live thread's page (see Heap::foreign): keep
// it, unless this heap holds its class's limit (0 on heaps that keep none)
// or it is not a direct class (a large block: kLargeClass).
ISO_INLINE bool foreign_keep(Heap* h, Page* pg, Block* b) {
  const unsigned cls = pg->cls;
  if (cls >= kDirectClasses) return false;
  Page& f = h->foreign[cls];
  if (static_cast<uint32_t>(-f.used_minus1) >= h->foreign_limit[cls]) return false;
  b->next = f.free;
  f.free = b;
  f.used_minus1--;
  h->stats.n[kStat_foreign_kept]++;
  return true;
}

// free: mask to the segment -> owner check -> push onto the page's list, used--;
// another live thread's small block: keep it (foreign_keep), 22 instructions more.
ISO_INLINE void free_fast(void* p) {
  Segment* const s = segment_of(p);
#if ISO_ALLOC_DEBUG
  if (ISO_UNLIKELY(!maybe_ours(p) || !segment_known(s))) return free_other(s, p);
#endif
  if (ISO_LIKELY(maybe_ours(p))) {
    const std::uintptr_t owner = s->owner.load(std::memory_order_relaxed);
    Page* const pg = page_of(s, p);
    Block* const b = static_cast<Block*>(p);
    if (ISO_LIKELY(owner == thread_id())) {
      Block*& list = local_list(pg);
      b->next = list;
      list = b;
      if (ISO_LIKELY(--pg->used_minus1 >= 0)) return;
      return free_local_slow(pg, b);
    }
    // Another live thread's block (no tag: not huge, abandoned or checks mode).
    if ((owner & kOwnerTagMask) == 0 && owner != kOwnerAbandoned && segment_known(s) &&
        (pg->flags & kInUse) && foreign_keep(tls_heap, pg, b)) {
      return;
    }
  }
  free_other(s, p);
}

}  // namespace iso::alloc
