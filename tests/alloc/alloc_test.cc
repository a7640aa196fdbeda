// isoalloc through its iso_* API (the static library, beside glibc's malloc,
// which GoogleTest itself keeps using). Each ctest case runs in its own
// process, so process-wide measurements (RSS) start from a clean allocator.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "internal.h"
#include "isolate/alloc.h"

namespace {

using iso::alloc::g_classes;
using iso::alloc::kNumClasses;

// ------------------------------------------------------------ helpers
uint8_t pattern_byte(std::uintptr_t seed, std::size_t i) {
  return static_cast<uint8_t>((seed * 0x9E3779B1u + i * 131u + (i >> 8)) >> 3);
}

// Fills every byte of small blocks; big ones at the head, the tail and every
// 4 KiB, so that a 1 MiB block costs little.
template <typename F>
void for_pattern_bytes(std::size_t n, F f) {
  if (n <= 4096) {
    for (std::size_t i = 0; i < n; ++i) f(i);
    return;
  }
  for (std::size_t i = 0; i < 256; ++i) f(i);
  for (std::size_t i = n - 256; i < n; ++i) f(i);
  for (std::size_t i = 4096; i + 16 < n; i += 4096) {
    for (std::size_t k = 0; k < 16; ++k) f(i + k);
  }
}

void fill(void* p, std::size_t n, std::uintptr_t seed) {
  auto* b = static_cast<uint8_t*>(p);
  for_pattern_bytes(n, [&](std::size_t i) { b[i] = pattern_byte(seed, i); });
}

bool check(const void* p, std::size_t n, std::uintptr_t seed) {
  const auto* b = static_cast<const uint8_t*>(p);
  bool ok = true;
  for_pattern_bytes(n, [&](std::size_t i) { ok = ok && b[i] == pattern_byte(seed, i); });
  return ok;
}

bool aligned(const void* p, std::size_t a) {
  return (reinterpret_cast<std::uintptr_t>(p) & (a - 1)) == 0;
}

std::size_t rss_bytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long size = 0, resident = 0;
  if (std::fscanf(f, "%lu %lu", &size, &resident) != 2) resident = 0;
  std::fclose(f);
  return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

// Sizes 1 B .. max, log-uniform: most small, some large and huge.
std::size_t random_size(std::mt19937_64& rng, std::size_t max) {
  const unsigned max_bits = 64 - static_cast<unsigned>(__builtin_clzll(max));
  const unsigned bits = static_cast<unsigned>(rng() % max_bits);
  std::size_t n = (std::size_t{1} << bits) + (rng() & ((std::size_t{1} << bits) - 1));
  return n > max ? max : n;
}

struct Slot {
  void* p = nullptr;
  std::size_t n = 0;
  std::uintptr_t seed = 0;
};

constexpr std::size_t MiB = std::size_t{1} << 20;

// The allocator is never instrumented, so ThreadSanitizer cannot see the
// synchronisation that hands a block from one thread to another and would
// report every reuse as a race.
#if defined(__SANITIZE_THREAD__)
#define SKIP_UNDER_TSAN() GTEST_SKIP() << "isoalloc is not instrumented for ThreadSanitizer"
#else
#define SKIP_UNDER_TSAN() (void)0
#endif

// ------------------------------------------------------------ size classes
TEST(IsoallocClasses, CoverEverySizeWithBoundedWaste) {
  for (std::size_t n = 0; n <= iso::alloc::kMediumMax; ++n) {
    const unsigned c = iso::alloc::size_class(n == 0 ? 1 : n);
    ASSERT_LT(c, kNumClasses) << n;
    ASSERT_GE(g_classes.size[c], n) << n;
    if (c > 0) {  // the smallest class that fits
      ASSERT_LT(g_classes.size[c - 1], n == 0 ? 1 : n) << n;
    }
    ASSERT_EQ(g_classes.size[c] % 16, 0u);
    if (n > 128) {  // < 25 % internal fragmentation
      ASSERT_LE(g_classes.size[c], n + n / 4 + 1) << n;
    }
  }
  EXPECT_EQ(g_classes.size[iso::alloc::size_class(1039)], 1280u);
  EXPECT_EQ(g_classes.size[iso::alloc::size_class(1040)], 1280u);
}

TEST(IsoallocClasses, DirectSlotsMatchClasses) {
  for (unsigned s = 0; s < iso::alloc::kDirectSlots; ++s) {
    const unsigned c = g_classes.slot_class[s];
    EXPECT_GE(s, g_classes.slot_first[c]);
    EXPECT_LE(s, g_classes.slot_last[c]);
  }
}

// ------------------------------------------------------------ API edge cases
TEST(IsoallocApi, FreeNullIsANoOp) {
  iso_free(nullptr);
  iso_free_sized(nullptr, 10);
  iso_free_aligned(nullptr, 64);
}

TEST(IsoallocApi, MallocZeroGivesUniqueBlocks) {
  void* a = iso_malloc(0);
  void* b = iso_malloc(0);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(a, b);
  EXPECT_GE(iso_malloc_usable_size(a), 16u);
  iso_free(a);
  iso_free(b);
}

TEST(IsoallocApi, ReallocNullIsMalloc) {
  void* p = iso_realloc(nullptr, 100);
  ASSERT_NE(p, nullptr);
  EXPECT_GE(iso_malloc_usable_size(p), 100u);
  std::memset(p, 1, 100);
  iso_free(p);
}

// Documented choice: glibc's. realloc(p, 0) frees p and returns NULL.
TEST(IsoallocApi, ReallocZeroFreesAndReturnsNull) {
  void* p = iso_malloc(48);
  ASSERT_NE(p, nullptr);
  errno = 0;
  EXPECT_EQ(iso_realloc(p, 0), nullptr);
  EXPECT_EQ(errno, 0);
  void* q = iso_malloc(48);
#if !ISO_ALLOC_LOCAL_FREE_LIST
  EXPECT_EQ(q, p);  // it was freed: the page's list is LIFO, so it comes back first
#endif
  iso_free(q);
}

TEST(IsoallocApi, CallocOverflowFailsWithEnomem) {
  // volatile: the compiler would reject the overflow at compile time
  volatile std::size_t half = SIZE_MAX / 2, big = std::size_t{1} << 33;
  errno = 0;
  EXPECT_EQ(iso_calloc(half, 3), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  errno = 0;
  EXPECT_EQ(iso_calloc(big, big), nullptr);
  EXPECT_EQ(errno, ENOMEM);
}

TEST(IsoallocApi, CallocZeroesReusedAndHugeBlocks) {
  for (std::size_t n : {1ul, 16ul, 100ul, 1039ul, 5000ul, 70000ul, 300000ul, 3 * MiB, 20 * MiB}) {
    void* dirty = iso_malloc(n);
    ASSERT_NE(dirty, nullptr);
    std::memset(dirty, 0xAB, n);
    iso_free(dirty);
    auto* p = static_cast<uint8_t*>(iso_calloc(1, n));
    ASSERT_NE(p, nullptr);
    for (std::size_t i = 0; i < n; i += (n > 65536 ? 4093 : 1)) ASSERT_EQ(p[i], 0) << n << " at " << i;
    ASSERT_EQ(p[n - 1], 0);
    iso_free(p);
  }
}

TEST(IsoallocApi, ReallocarrayOverflowKeepsTheBlock) {
  auto* p = static_cast<char*>(iso_malloc(32));
  ASSERT_NE(p, nullptr);
  std::memcpy(p, "kept", 5);
  volatile std::size_t quarter = SIZE_MAX / 4;
  errno = 0;
  EXPECT_EQ(iso_reallocarray(p, quarter, 8), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_STREQ(p, "kept");
  p = static_cast<char*>(iso_reallocarray(p, 100, 10));
  ASSERT_NE(p, nullptr);
  EXPECT_STREQ(p, "kept");
  EXPECT_GE(iso_malloc_usable_size(p), 1000u);
  iso_free(p);
}

TEST(IsoallocApi, EveryBlockIs16ByteAligned) {
  std::vector<void*> blocks;
  for (std::size_t n = 0; n <= 20000; n += (n < 300 ? 1 : 97)) {
    void* p = iso_malloc(n);
    ASSERT_NE(p, nullptr);
    ASSERT_TRUE(aligned(p, 16)) << n;
    blocks.push_back(p);
  }
  for (std::size_t n : {100000ul, 200000ul, MiB, MiB + 1, 5 * MiB}) {
    void* p = iso_malloc(n);
    ASSERT_TRUE(aligned(p, 16)) << n;
    blocks.push_back(p);
  }
  for (void* p : blocks) iso_free(p);
}

TEST(IsoallocApi, PosixMemalignEveryPowerOfTwoTo1MiB) {
  for (std::size_t align = sizeof(void*); align <= MiB; align *= 2) {
    // n == 0 with an alignment above 64 KiB once gave a run of size 0 (found by fuzz_alloc).
    for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{100}, align - 1, align, align + 1,
                          3 * align, 2 * MiB}) {
      void* p = nullptr;
      ASSERT_EQ(iso_posix_memalign(&p, align, n), 0) << align << " " << n;
      ASSERT_NE(p, nullptr);
      ASSERT_TRUE(aligned(p, align)) << align << " " << n;
      ASSERT_GE(iso_malloc_usable_size(p), n);
      fill(p, n, n);
      ASSERT_TRUE(check(p, n, n));
      iso_free(p);
    }
  }
  void* p = reinterpret_cast<void*>(0x1);
  EXPECT_EQ(iso_posix_memalign(&p, 0, 16), EINVAL);
  EXPECT_EQ(iso_posix_memalign(&p, 4, 16), EINVAL);  // not a multiple of sizeof(void*)
  EXPECT_EQ(iso_posix_memalign(&p, 24, 16), EINVAL);
  EXPECT_EQ(iso_posix_memalign(&p, 4096 + 8, 16), EINVAL);
  EXPECT_EQ(p, reinterpret_cast<void*>(0x1));                           // untouched on failure
  EXPECT_EQ(iso_posix_memalign(&p, std::size_t{1} << 62, 16), ENOMEM);  // more than the address space
  EXPECT_EQ(p, reinterpret_cast<void*>(0x1));
}

// A freed huge block kept for reuse goes back to the OS once its time is up
// (ISO_ALLOC_HUGE_CACHE_MS, 100 ms), seen by later slow-path mallocs of any size.
TEST(IsoallocMemory, CachedHugeBlocksExpire) {
  void* p = iso_malloc(24 * MiB);
  std::memset(p, 1, 24 * MiB);
  iso_free(p);
  const uint64_t cached = iso::alloc::os_mapped_bytes();
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  std::vector<void*> small;
  for (int i = 0; i < 64; ++i) small.push_back(iso_malloc(4096 + 16 * i));  // > 2 KiB: the slow path
  for (void* q : small) iso_free(q);
  EXPECT_LE(iso::alloc::os_mapped_bytes() + 24 * MiB, cached + 4 * MiB);
}

// Alignments of a segment (4 MiB) and more once returned ENOMEM: such a
// block starts on a segment boundary, one segment past its header.
TEST(IsoallocApi, AlignmentsOfFourMiBAndBeyond) {
  for (std::size_t align = 2 * MiB; align <= 256 * MiB; align *= 2) {
    for (std::size_t n : {std::size_t{0}, std::size_t{100}, MiB, 5 * MiB + 3}) {
      void* p = nullptr;
      ASSERT_EQ(iso_posix_memalign(&p, align, n), 0) << align << " " << n;
      ASSERT_TRUE(aligned(p, align)) << align << " " << n;
      ASSERT_GE(iso_malloc_usable_size(p), n);
      fill(p, n, n + 7);
      void* q = iso_aligned_alloc(align, n);  // a second one beside it
      ASSERT_NE(q, nullptr);
      ASSERT_TRUE(aligned(q, align));
      fill(q, n, n + 9);
      ASSERT_TRUE(check(p, n, n + 7));
      void* r = iso_realloc(q, n + 3 * MiB);  // grows in place or moves, contents kept
      ASSERT_NE(r, nullptr);
      ASSERT_TRUE(check(r, n, n + 9));
      iso_free(p);
      iso_free(r);
    }
  }
}

TEST(IsoallocApi, AlignedAllocMemalignVallocPvalloc) {
  const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  for (std::size_t align = 1; align <= 65536; align *= 2) {
    void* p = iso_aligned_alloc(align, 3 * align + 5);
    ASSERT_NE(p, nullptr);
    EXPECT_TRUE(aligned(p, align < 16 ? 16 : align));
    iso_free(p);
  }
  errno = 0;
  EXPECT_EQ(iso_aligned_alloc(48, 100), nullptr);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(iso_aligned_alloc(0, 100), nullptr);

  void* m = iso_memalign(48, 100);  // rounded up to 64, as glibc does
  ASSERT_NE(m, nullptr);
  EXPECT_TRUE(aligned(m, 64));
  iso_free(m);

  void* v = iso_valloc(10);
  ASSERT_NE(v, nullptr);
  EXPECT_TRUE(aligned(v, page));
  iso_free(v);

  void* pv = iso_pvalloc(page + 1);
  ASSERT_NE(pv, nullptr);
  EXPECT_TRUE(aligned(pv, page));
  EXPECT_GE(iso_malloc_usable_size(pv), 2 * page);
  iso_free(pv);
  void* pv0 = iso_pvalloc(0);
  ASSERT_NE(pv0, nullptr);
  EXPECT_GE(iso_malloc_usable_size(pv0), page);
  iso_free(pv0);
  errno = 0;
  EXPECT_EQ(iso_pvalloc(SIZE_MAX - 10), nullptr);
  EXPECT_EQ(errno, ENOMEM);
}

TEST(IsoallocApi, UsableSizeCoversTheRequestAndIsWritable) {
  EXPECT_EQ(iso_malloc_usable_size(nullptr), 0u);
  for (std::size_t n = 1; n < 3 * MiB; n = n * 5 / 4 + 1) {
    auto* p = static_cast<uint8_t*>(iso_malloc(n));
    ASSERT_NE(p, nullptr);
    const std::size_t u = iso_malloc_usable_size(p);
    ASSERT_GE(u, n);
    p[0] = 1;
    p[u - 1] = 2;  // all of it is ours
    iso_free(p);
  }
}

TEST(IsoallocApi, ReallocPreservesContentsAcrossClassesLargeAndHuge) {
  const std::size_t sizes[] = {1,       15,       16,      17,     100,    1000,   1039,   1040, 2048,
                               2049,    8192,     8193,    100000, 131072, 131073, 500000, MiB,  MiB + 1,
                               5 * MiB, 64 * MiB, 3 * MiB, 200000, 70000,  5000,   1024,   48,   1};
  void* p = nullptr;
  std::size_t have = 0;
  for (std::size_t n : sizes) {
    p = iso_realloc(p, n);
    ASSERT_NE(p, nullptr) << n;
    ASSERT_TRUE(aligned(p, 16));
    const std::size_t keep = have < n ? have : n;
    // the first `keep` bytes still hold the pattern written for the old size
    auto* b = static_cast<uint8_t*>(p);
    for (std::size_t i = 0; i < keep; i += (keep > 65536 ? 4093 : 1))
      ASSERT_EQ(b[i], pattern_byte(7, i)) << n;
    for (std::size_t i = 0; i < n; i += (n > 65536 ? 4093 : 1)) b[i] = pattern_byte(7, i);
    have = n > 65536 ? 0 : n;  // only dense patterns are compared
    if (n > 65536) {
      for (std::size_t i = 0; i < 65536; ++i) b[i] = pattern_byte(7, i);
      have = 65536;
    }
  }
  iso_free(p);
}

TEST(IsoallocApi, HugeReallocGrowsInPlaceWhenItCan) {
  auto* p = static_cast<uint8_t*>(iso_malloc(8 * MiB));
  ASSERT_NE(p, nullptr);
  p[0] = 41;
  p[8 * MiB - 1] = 42;
  auto* q = static_cast<uint8_t*>(iso_realloc(p, 12 * MiB));
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q[8 * MiB - 1], 42);
  q[12 * MiB - 1] = 43;
  EXPECT_EQ(q[12 * MiB - 1], 43);
  q = static_cast<uint8_t*>(iso_realloc(q, 5 * MiB));  // shrinks (in place)
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q[0], 41);
  EXPECT_GE(iso_malloc_usable_size(q), 5 * MiB);
  iso_free(q);
}

// ------------------------------------------------------------ stress
TEST(IsoallocStress, SingleThreadRandomWithPatterns) {
  std::mt19937_64 rng(12345);
  std::vector<Slot> slots(4096);
  for (int op = 0; op < 400000; ++op) {
    Slot& s = slots[rng() % slots.size()];
    const unsigned what = static_cast<unsigned>(rng() % 16);
    if (s.p != nullptr && what < 7) {
      ASSERT_TRUE(check(s.p, s.n, s.seed)) << "op " << op;
      iso_free(s.p);
      s.p = nullptr;
    } else if (s.p != nullptr && what < 9) {
      ASSERT_TRUE(check(s.p, s.n, s.seed));
      const std::size_t n = (rng() % 8 == 0) ? random_size(rng, 2 * MiB) : random_size(rng, 4096);
      void* q = iso_realloc(s.p, n);
      ASSERT_NE(q, nullptr);
      // the prefix that was fully patterned (all of small blocks, 256 B of big ones) survived
      ASSERT_TRUE(check(q, std::min(n, s.n <= 4096 ? s.n : std::size_t{256}), s.seed)) << s.n << " -> " << n;
      s.p = q;
      s.n = n;
      s.seed = static_cast<std::uintptr_t>(rng());
      fill(s.p, s.n, s.seed);
    } else if (s.p == nullptr) {
      s.n = (rng() % 64 == 0) ? random_size(rng, 4 * MiB) : random_size(rng, 2048);
      s.seed = static_cast<std::uintptr_t>(rng());
      s.p = (what == 15) ? iso_calloc(1, s.n) : iso_malloc(s.n);
      ASSERT_NE(s.p, nullptr);
      ASSERT_TRUE(aligned(s.p, 16));
      fill(s.p, s.n, s.seed);
    }
  }
  for (Slot& s : slots) {
    if (s.p == nullptr) continue;
    ASSERT_TRUE(check(s.p, s.n, s.seed));
    iso_free(s.p);
  }
}

// Threads allocate, grow, shrink and free huge blocks (1-12 MiB) at once,
// half of them freed by a thread other than their own: the huge cache hands
// mappings between threads, trims, and moves them, and no block may lose a
// byte or be handed out twice.
TEST(IsoallocThreads, HugeBlocksThroughTheCacheFromManyThreads) {
  SKIP_UNDER_TSAN();
  constexpr int kThreads = 4;
  constexpr int kRounds = 150;
  std::atomic<int> bad{0};
  std::vector<std::atomic<void*>> handoff(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(100 + t);
      Slot slots[4] = {};
      for (int r = 0; r < kRounds; ++r) {
        Slot& s = slots[rng() % 4];
        if (s.p != nullptr) {
          if (!check(s.p, s.n, s.seed)) bad++;
          if (rng() % 2 == 0) {
            iso_free(s.p);
          } else {  // to a neighbour, which frees it
            void* old = handoff[(t + 1) % kThreads].exchange(s.p);
            if (old != nullptr) iso_free(old);  // the one before it, from this thread's neighbour
          }
          s.p = nullptr;
        }
        s.n = MiB + rng() % (11 * MiB);
        s.seed = static_cast<std::uintptr_t>(t) * 1000003u + static_cast<std::uintptr_t>(r);
        s.p = iso_malloc(s.n);
        if (s.p == nullptr) {
          bad++;
          continue;
        }
        fill(s.p, s.n, s.seed);
        if (rng() % 4 == 0) {  // grow or shrink, contents kept
          const std::size_t n2 = MiB + rng() % (11 * MiB);
          const std::size_t kept = std::min(s.n, n2);
          fill(s.p, kept, s.seed + 1);  // the pattern of the part that survives
          void* q = iso_realloc(s.p, n2);
          if (q == nullptr) {
            bad++;  // s.p is still the old block
            continue;
          }
          if (!check(q, kept, s.seed + 1)) bad++;
          s.p = q;
          s.n = n2;
          fill(s.p, s.n, s.seed);
        }
      }
      for (Slot& s : slots) {
        if (s.p == nullptr) continue;
        if (!check(s.p, s.n, s.seed)) bad++;
        iso_free(s.p);
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (auto& h : handoff) iso_free(h.exchange(nullptr));
  EXPECT_EQ(bad.load(), 0);
}

// One thread allocates, another frees: every block crosses threads.
TEST(IsoallocThreads, ProducerConsumerCrossThreadFrees) {
  SKIP_UNDER_TSAN();
  constexpr std::size_t kRing = 1024;
  constexpr int kItems = 300000;
  std::vector<Slot> ring(kRing);
  std::atomic<std::size_t> head{0}, tail{0};
  std::atomic<bool> bad{false};
  std::thread producer([&] {
    std::mt19937_64 rng(99);
    for (int i = 0; i < kItems; ++i) {
      const std::size_t h = head.load(std::memory_order_relaxed);
      while (h - tail.load(std::memory_order_acquire) == kRing) std::this_thread::yield();
      Slot& s = ring[h % kRing];
      s.n = (i % 97 == 0) ? random_size(rng, 2 * MiB) : 1 + rng() % 1500;
      s.seed = static_cast<std::uintptr_t>(i);
      s.p = iso_malloc(s.n);
      if (s.p == nullptr) {
        bad = true;
        return;
      }
      fill(s.p, s.n, s.seed);
      head.store(h + 1, std::memory_order_release);
    }
  });
  std::thread consumer([&] {
    for (int i = 0; i < kItems; ++i) {
      const std::size_t t = tail.load(std::memory_order_relaxed);
      while (head.load(std::memory_order_acquire) == t) std::this_thread::yield();
      Slot& s = ring[t % kRing];
      if (!check(s.p, s.n, s.seed)) bad = true;
      iso_free(s.p);
      tail.store(t + 1, std::memory_order_release);
    }
  });
  producer.join();
  consumer.join();
  EXPECT_FALSE(bad.load());
}

// N threads, random sizes 1 B .. 1 MiB, and a shared exchange so that a good
// share of the frees happen on another thread than the malloc. Afterwards
// (all threads ended, everything freed) the RSS is back near where it began.
TEST(IsoallocThreads, ChurnRandomSizesWithPatternsAndRss) {
  SKIP_UNDER_TSAN();
  constexpr int kThreads = 4;
  constexpr int kOps = 60000;
  constexpr std::size_t kExchange = 256;
  {  // glibc's side first: thread stacks and malloc arenas, cached once created
    std::vector<std::thread> warm;
    for (int t = 0; t < kThreads; ++t) {
      warm.emplace_back([] {
        std::vector<Slot*> v(512, nullptr);
        std::mt19937_64 rng(1);
        v[rng() % v.size()] = nullptr;
      });
    }
    for (auto& th : warm) th.join();
  }
  const std::size_t rss_before = rss_bytes();
  std::vector<std::atomic<Slot*>> exchange(kExchange);
  for (auto& e : exchange) e.store(nullptr);
  std::atomic<bool> bad{false};
  std::atomic<std::size_t> peak{0};
  auto run = [&](int t) {
    std::mt19937_64 rng(1000 + t);
    std::vector<Slot*> mine(512, nullptr);
    for (int op = 0; op < kOps; ++op) {
      Slot*& s = mine[rng() % mine.size()];
      if (s == nullptr) {
        s = static_cast<Slot*>(iso_malloc(sizeof(Slot)));
        s->n = random_size(rng, MiB);
        s->seed = static_cast<std::uintptr_t>(rng());
        s->p = iso_malloc(s->n);
        if (s->p == nullptr) {
          bad = true;
          return;
        }
        fill(s->p, s->n, s->seed);
      } else if (rng() % 3 == 0) {  // swap it with whatever another thread left
        s = exchange[rng() % kExchange].exchange(s);
      } else {
        if (!check(s->p, s->n, s->seed)) bad = true;
        iso_free(s->p);
        iso_free(s);
        s = nullptr;
      }
      if (op == kOps / 2 && t == 0) peak = rss_bytes();
    }
    for (Slot* s : mine) {
      if (s == nullptr) continue;
      if (!check(s->p, s->n, s->seed)) bad = true;
      iso_free(s->p);
      iso_free(s);
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(run, t);
  for (auto& th : threads) th.join();
  for (auto& e : exchange) {
    Slot* s = e.exchange(nullptr);
    if (s == nullptr) continue;
    EXPECT_TRUE(check(s->p, s->n, s->seed));
    iso_free(s->p);
    iso_free(s);
  }
  EXPECT_FALSE(bad.load());
  iso_collect(1);
  const std::size_t rss_after = rss_bytes();
  // Bound: the ended threads' heaps gave everything back (their empty
  // segments are unmapped or cached purged); the main thread's heap keeps at
  // most its spare segment and ISO_ALLOC_PURGE_KIB (4 MiB) of unpurged units.
  EXPECT_LT(rss_after, rss_before + 8 * MiB)
      << "before " << rss_before << " peak " << peak << " after " << rss_after;
  EXPECT_GT(peak.load(), rss_before + 16 * MiB);  // the test did hold a lot of memory
  std::printf("RSS MiB: before %.1f, peak %.1f, after %.1f\n", rss_before / 1048576.0,
              peak.load() / 1048576.0, rss_after / 1048576.0);
}

// Memory comes back once everything is freed, without iso_collect: the bound
// is ISO_ALLOC_PURGE_KIB (4 MiB) of unpurged free units, one empty current
// page per size class (<= 24 x 64 KiB + 24 x 512 KiB), the spare segment's
// header, and page tables. With iso_collect(1), only the metadata remains.
TEST(IsoallocMemory, RssReturnsAfterFreeingEverything) {
  const std::size_t rss_before = rss_bytes();
  std::mt19937_64 rng(5);
  std::vector<Slot> blocks;
  std::size_t total = 0;
  while (total < 256 * MiB) {
    Slot s;
    s.n = random_size(rng, 256 * 1024);
    s.p = iso_malloc(s.n);
    ASSERT_NE(s.p, nullptr);
    std::memset(s.p, 0x5A, s.n);
    total += s.n;
    blocks.push_back(s);
  }
  const std::size_t rss_full = rss_bytes();
  EXPECT_GT(rss_full, rss_before + 200 * MiB);
  std::shuffle(blocks.begin(), blocks.end(), rng);
  for (Slot& s : blocks) iso_free(s.p);
  const std::size_t rss_freed = rss_bytes();
  EXPECT_LT(rss_freed, rss_before + 24 * MiB) << "before " << rss_before << " freed " << rss_freed;
  iso_collect(1);
  const std::size_t rss_collected = rss_bytes();
  EXPECT_LT(rss_collected, rss_before + 2 * MiB) << "before " << rss_before << " collected " << rss_collected;
  std::printf("RSS MiB: before %.1f, full %.1f, after freeing %.1f, after iso_collect(1) %.1f\n",
              rss_before / 1048576.0, rss_full / 1048576.0, rss_freed / 1048576.0, rss_collected / 1048576.0);
}

// Freed huge blocks stay committed for a while (huge.cc): the next one,
// smaller or larger, faults in at most the part that is new. Without the
// cache each of these would fault every page (3,072 and 5,120 faults).
TEST(IsoallocMemory, HugeBlocksComeBackWithoutFaultingAgain) {
  const auto faults = [] {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<std::size_t>(u.ru_minflt);
  };
  // Faults are counted per 4 KiB page by x86-64 kernels and by qemu-user
  // however large the guest's pages (the 64 KiB run of test-aarch64).
  const std::size_t pages_per_mib = MiB / 4096;
  void* p = iso_malloc(16 * MiB);
  std::memset(p, 1, 16 * MiB);
  iso_free(p);
  const std::size_t before = faults();
  void* q = iso_malloc(12 * MiB);  // takes the 16 MiB mapping and gives back its last 4 MiB
  std::memset(q, 2, 12 * MiB);
  const std::size_t smaller = faults() - before;
  EXPECT_LE(smaller, 12 * pages_per_mib / 8 + 64);
  iso_free(q);
  void* r = iso_malloc(20 * MiB);  // moves the 12 MiB to a 20 MiB mapping: 8 MiB are new
  std::memset(r, 3, 20 * MiB);
  const std::size_t larger = faults() - before - smaller;
  // The eighth is for ASan's shadow of the moved mapping, the 64 for the
  // process's own faults meanwhile.
  EXPECT_LE(larger, 8 * pages_per_mib + 20 * pages_per_mib / 8 + 64);
  iso_free(r);
  iso_collect(1);  // gives the cached mapping back
  std::printf("faults: 12 MiB after 16 MiB %zu, 20 MiB after 12 MiB %zu\n", smaller, larger);
}

// A thread ends with live blocks: its segments are abandoned, the main thread
// frees some of the blocks (remote frees into abandoned pages), a new thread
// adopts the segments, and everything is still intact.
TEST(IsoallocThreads, ThreadExitAbandonsAndOthersAdopt) {
  SKIP_UNDER_TSAN();
  std::vector<Slot> live(20000);
  std::thread([&] {
    std::mt19937_64 rng(3);
    for (std::size_t i = 0; i < live.size(); ++i) {
      live[i].n = 1 + rng() % 3000;
      live[i].seed = i;
      live[i].p = iso_malloc(live[i].n);
      fill(live[i].p, live[i].n, i);
    }
  }).join();
  for (std::size_t i = 0; i < live.size(); i += 2) {
    ASSERT_TRUE(check(live[i].p, live[i].n, live[i].seed));
    iso_free(live[i].p);
  }
  std::thread([&] {  // allocates, adopting the abandoned segments on the way
    std::vector<void*> mine;
    for (int i = 0; i < 50000; ++i) {
      void* p = iso_malloc(1 + i % 3000);
      std::memset(p, 0x77, 1 + i % 3000);
      mine.push_back(p);
    }
    for (std::size_t i = 1; i < live.size(); i += 2) {  // local frees once adopted
      if (!check(live[i].p, live[i].n, live[i].seed)) std::abort();
      iso_free(live[i].p);
    }
    for (void* p : mine) iso_free(p);
  })
      .join();
}

// Blocks that a living thread with room of its own frees into an ended
// thread's segment wait there; the next thread to allocate in their size
// class takes the segment over instead of mapping memory of its own.
// (Before, the freeing thread took every such segment over, whether it
// allocated in it or not: the mstress shape's RSS was 1.5x mimalloc's.)
TEST(IsoallocThreads, FreesIntoAnEndedThreadsSegmentAreReusedByTheNextAllocator) {
  SKIP_UNDER_TSAN();
  iso_free(iso_malloc(64));       // this thread has a heap and room of its own
  constexpr int kBlocks = 20000;  // 64 B each: ~1.3 MB, many pages of one class
  std::vector<void*> blocks(kBlocks);
  std::thread([&] {
    for (void*& p : blocks) {
      p = iso_malloc(64);
      std::memset(p, 0x21, 64);
    }
  }).join();
  for (void* p : blocks) iso_free(p);  // remote frees into the abandoned segment
  const uint64_t mapped_before = iso::alloc::os_mapped_bytes();
  std::thread([&] {
    for (void*& p : blocks) {
      p = iso_malloc(64);
      std::memset(p, 0x43, 64);
    }
    for (void* p : blocks) iso_free(p);
  }).join();
  EXPECT_LE(iso::alloc::os_mapped_bytes(), mapped_before);
}

// Blocks of a live thread's pages that this thread frees serve this
// thread's next mallocs of the class (Heap::foreign), up to the class's
// limit; the rest, and all of them at iso_collect, go back to their page.
TEST(IsoallocThreads, ForeignBlocksServeTheFreeingThreadUpToTheLimit) {
  SKIP_UNDER_TSAN();
  using iso::alloc::tls_heap;
  iso_free(iso_malloc(64));  // this thread has a heap
  const unsigned cls = iso::alloc::size_class(64);
  const unsigned limit = tls_heap->foreign_limit[cls];
  if (iso::alloc::g_options.checks) {  // every free takes the checked path: nothing is kept
    EXPECT_EQ(limit, 0u);
    return;
  }
  ASSERT_EQ(limit, iso::alloc::g_options.foreign_kib * 1024 / 64);
  ASSERT_GT(limit, 0u);
  const std::size_t kBlocks = limit + 300;
  std::vector<void*> theirs(kBlocks);
  std::atomic<bool> made{false}, done{false};
  std::thread owner([&] {
    for (void*& p : theirs) p = iso_malloc(64);
    made.store(true, std::memory_order_release);
    while (!done.load(std::memory_order_acquire)) std::this_thread::yield();  // alive: not abandoned
  });
  while (!made.load(std::memory_order_acquire)) std::this_thread::yield();
  for (std::size_t i = 0; i < limit; ++i) iso_free(theirs[i]);
  const iso::alloc::Page& kept = tls_heap->foreign[cls];
  EXPECT_EQ(-kept.used_minus1, static_cast<int32_t>(limit));
  for (std::size_t i = limit; i < kBlocks; ++i) iso_free(theirs[i]);  // past the limit: remote frees
  EXPECT_EQ(-kept.used_minus1, static_cast<int32_t>(limit));
  // This thread's page serves first; when its free list runs out, the kept
  // blocks do, newest first (before the page is extended or another made).
  std::vector<void*> own;
  void* p = iso_malloc(64);
  for (; iso::alloc::segment_of(p)->owner.load() == iso::alloc::thread_id() && own.size() < 100000;
       p = iso_malloc(64)) {
    own.push_back(p);
  }
  std::vector<void*> mine{p};
  while (mine.size() < limit) mine.push_back(iso_malloc(64));
  for (std::size_t i = 0; i < limit; ++i) {
    EXPECT_EQ(mine[i], theirs[limit - 1 - i]) << i;
    std::memset(mine[i], 0x5A, 64);
  }
  EXPECT_EQ(kept.free, nullptr);
  void* after = iso_malloc(64);  // back on this thread's own page
  EXPECT_EQ(iso::alloc::segment_of(after)->owner.load(), iso::alloc::thread_id());
  iso_free(after);
  for (void* q : own) iso_free(q);
  for (void* q : mine) iso_free(q);
  EXPECT_EQ(-kept.used_minus1, static_cast<int32_t>(limit));
  iso_collect(0);  // every kept block back to its page
  EXPECT_EQ(kept.free, nullptr);
  EXPECT_EQ(kept.used_minus1, 0);
  done.store(true, std::memory_order_release);
  owner.join();
}

// Two threads that both allocate and free each other's blocks (the
// xmalloc ring): most frees are kept by the freeing thread and its next
// mallocs are served from them, while the owner frees its own blocks that
// come back. Every block is filled and checked; nothing may be lost.
TEST(IsoallocThreads, RingOfCrossThreadFreesKeepsEveryBlockIntact) {
  SKIP_UNDER_TSAN();
  constexpr std::size_t kRing = 512;
  constexpr int kItems = 200000;
  struct Channel {
    std::vector<Slot> ring = std::vector<Slot>(kRing);
    std::atomic<std::size_t> head{0}, tail{0};
  };
  Channel to[2];
  std::atomic<bool> bad{false};
  auto worker = [&](int me) {
    Channel& out = to[1 - me];
    Channel& in = to[me];
    std::mt19937_64 rng(static_cast<unsigned>(7 + me));
    int sent = 0, received = 0;
    while (sent < kItems || received < kItems) {
      const std::size_t h = out.head.load(std::memory_order_relaxed);
      if (sent < kItems && h - out.tail.load(std::memory_order_acquire) < kRing) {
        Slot& s = out.ring[h % kRing];
        s.n = 1 + rng() % (sent % 50 == 0 ? 4000 : 300);
        s.seed = static_cast<std::uintptr_t>(me * kItems + sent);
        s.p = iso_malloc(s.n);
        if (s.p == nullptr)
          bad = true;
        else
          fill(s.p, s.n, s.seed);
        out.head.store(h + 1, std::memory_order_release);
        ++sent;
      }
      const std::size_t t = in.tail.load(std::memory_order_relaxed);
      if (received < kItems && in.head.load(std::memory_order_acquire) != t) {
        Slot& s = in.ring[t % kRing];
        if (s.p != nullptr && !check(s.p, s.n, s.seed)) bad = true;
        iso_free(s.p);
        in.tail.store(t + 1, std::memory_order_release);
        ++received;
      }
    }
  };
  std::thread a(worker, 0), b(worker, 1);
  a.join();
  b.join();
  EXPECT_FALSE(bad.load());
}

// Counts the blocks on a page's list of remote frees.
std::size_t remote_frees_on(const iso::alloc::Page* pg) {
  std::size_t n = 0;
  auto* b = reinterpret_cast<const iso::alloc::Block*>(pg->thread_free.load() & ~iso::alloc::kTfTagMask);
  for (; b != nullptr; b = b->next) ++n;
  return n;
}

// A thread that ends gives the blocks it kept back to their pages.
TEST(IsoallocThreads, ForeignBlocksGoBackWhenTheKeeperEnds) {
  SKIP_UNDER_TSAN();
  constexpr std::size_t kBlocks = 200;  // under the limit, on one page
  std::vector<void*> blocks(kBlocks);
  for (void*& p : blocks) p = iso_malloc(48);
  const iso::alloc::Page* pg = iso::alloc::page_of(iso::alloc::segment_of(blocks[0]), blocks[0]);
  for (void* p : blocks) ASSERT_EQ(iso::alloc::page_of(iso::alloc::segment_of(p), p), pg);
  const std::size_t before = remote_frees_on(pg);
  std::thread keeper([&] {
    iso_free(iso_malloc(48));  // a heap of its own, so that it keeps what it frees
    for (void* p : blocks) iso_free(p);
    // Kept, not returned yet (checks mode keeps nothing).
    EXPECT_EQ(remote_frees_on(pg), before + (iso::alloc::g_options.checks ? kBlocks : 0));
  });
  keeper.join();
  EXPECT_EQ(remote_frees_on(pg), before + kBlocks);
}

// 160 threads, 8 at a time: a thread that ends gives its heap back, and the
// next thread takes it instead of a new one.
TEST(IsoallocThreads, ManyShortLivedThreadsReuseHeaps) {
  SKIP_UNDER_TSAN();
  const std::size_t heaps_before = iso::alloc::heaps_made();
  for (int round = 0; round < 20; ++round) {
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([t] {
        std::vector<void*> v;
        for (int i = 0; i < 2000; ++i)
          v.push_back(iso_malloc(static_cast<std::size_t>(16 + (i * 7 + t) % 2000)));
        for (void* p : v) iso_free(p);
      });
    }
    for (auto& th : threads) th.join();
  }
  EXPECT_LE(iso::alloc::heaps_made() - heaps_before, 8u);
}

// fork() from one thread while two others allocate; the child allocates
// (also from a new thread) and exits cleanly.
TEST(IsoallocThreads, ForkWhileOthersAllocate) {
  SKIP_UNDER_TSAN();
  std::atomic<bool> stop{false};
  auto churn = [&](int seed) {
    std::mt19937_64 rng(seed);
    std::vector<void*> v(256, nullptr);
    while (!stop.load(std::memory_order_relaxed)) {
      void*& p = v[rng() % v.size()];
      if (p != nullptr) {
        iso_free(p);
        p = nullptr;
      } else {
        p = iso_malloc(random_size(rng, 300000));
      }
    }
    for (void* p : v) iso_free(p);
  };
  std::thread a(churn, 1), b(churn, 2);
  int statuses[5] = {};
  std::thread forker([&] {
    for (int& status : statuses) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      const pid_t pid = fork();
      if (pid == 0) {
        std::mt19937_64 rng(7);
        std::vector<Slot> v(1000);
        for (Slot& s : v) {
          s.n = random_size(rng, 2 * MiB);
          s.seed = rng();
          s.p = iso_malloc(s.n);
          if (s.p == nullptr) _exit(3);
          fill(s.p, s.n, s.seed);
        }
        std::thread child_thread([] {
          for (int i = 0; i < 10000; ++i) iso_free(iso_malloc(static_cast<std::size_t>(i % 5000)));
        });
        child_thread.join();
        for (Slot& s : v) {
          if (!check(s.p, s.n, s.seed)) _exit(4);
          iso_free(s.p);
        }
        _exit(0);
      }
      ASSERT_GT(pid, 0);
      ASSERT_EQ(waitpid(pid, &status, 0), pid);
    }
  });
  forker.join();
  stop = true;
  a.join();
  b.join();
  for (int status : statuses) {
    ASSERT_TRUE(WIFEXITED(status)) << status;
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
}

// ------------------------------------------------------------ invalid frees
class IsoallocDeathTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(IsoallocDeathTest, ForeignPointerAbortsWithAClearMessage) {
  // A mapping that is not isoalloc's, with its 4 MiB-aligned part readable.
  void* region = mmap(nullptr, 12 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(region, MAP_FAILED);
  const std::uintptr_t base = (reinterpret_cast<std::uintptr_t>(region) + 4 * MiB - 1) & ~(4 * MiB - 1);
  void* foreign = reinterpret_cast<void*>(base + 4096 + 16);
  EXPECT_DEATH(iso_free(foreign), "isoalloc: free\\(\\): invalid pointer 0x[0-9a-f]+");
  EXPECT_DEATH(iso_free(reinterpret_cast<void*>(0x1000)), "isoalloc: free\\(\\): invalid pointer 0x1000");
  EXPECT_DEATH((void)iso_realloc(foreign, 10), "isoalloc: realloc\\(\\): invalid pointer");
  munmap(region, 12 * MiB);
}

TEST_F(IsoallocDeathTest, DoubleFreeOfTheLastBlockIsCaught) {
  // Release builds catch it from the page's use count, no checks needed.
  EXPECT_DEATH(
      {
        void* p = iso_malloc(4000);
        iso_free(p);
        iso_free(p);
      },
      "isoalloc: free\\(\\): double free 0x");
  EXPECT_DEATH(
      {
        void* p = iso_malloc(300000);  // a large block: its run is free after the first free
        iso_free(p);
        iso_free(p);
      },
      "isoalloc: free\\(\\): invalid pointer or double free 0x");
}

TEST_F(IsoallocDeathTest, ChecksModeCatchesDoubleAndInteriorFrees) {
  setenv("ISO_ALLOC_CHECKS", "1", 1);  // read at start-up by the re-executed child
  EXPECT_DEATH(
      {
        void* keep = iso_malloc(32);
        void* p = iso_malloc(32);
        iso_free(p);
        iso_free(p);
        iso_free(keep);
      },
      "isoalloc: free\\(\\): double free 0x");
  EXPECT_DEATH(
      {
        char* p = static_cast<char*>(iso_malloc(64));
        iso_free(p + 16);
      },
      "isoalloc: free\\(\\): invalid pointer 0x");
  unsetenv("ISO_ALLOC_CHECKS");
}

TEST_F(IsoallocDeathTest, StatsArePrintedAtExit) {
  setenv("ISO_ALLOC_STATS", "1", 1);
  EXPECT_EXIT(
      {
        iso_free(iso_malloc(10));
        std::exit(0);
      },
      ::testing::ExitedWithCode(0), "isoalloc: stats[^\n]*\n.*malloc_generic=[1-9]");
  unsetenv("ISO_ALLOC_STATS");
}

}  // namespace
