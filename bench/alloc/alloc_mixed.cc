// The reference allocator benchmark, "Mixed 16-1024B" (docs/BENCHMARKS.md).
//
//   alloc_mixed [ops ws seed min max] [--mode mixed|replace|churn] [--threads N]
//
// Defaults: 20000000 400 1234567 16 1040 (churn: 2000000 ops).
//
// mode mixed (the reference): a slot array of `ws` pointers; per op
//   r = xorshift32(state), i = r % ws;
//   if slot i is full, free it; else slot i = malloc(min + (r & 0x3FF)) and
//   write its byte 0. One op is one malloc or one free.
// With the defaults the sizes are exactly 16 + (r & 0x3FF), i.e. 16..1039 B.
// Other ranges: the low bits of r are taken with the mask of the next power of
// two >= max - min, and a size that reaches max is reduced modulo (max - min).
//
// mode replace: the slots are filled first (untimed), then per op slot i is
// freed and refilled with a new size: one op is one free plus one malloc.
//
// Each run has an untimed warm-up of ops/10 ops with seed + 0xDEADBEEF (which
// also frees what it leaves), then the timed run; the timed region includes
// freeing what is left. --threads N runs N independent copies (thread t uses
// seed + t), started together; the rate printed is all ops / wall time.
//
// mode churn (not the reference; a stress + memory test): each thread has
//   `ws` slots of {pointer, size}; per op r = xorshift32(state), i = r % ws;
//   if slot i is full, its block is checked and freed, else slot i gets a new
//   block. One op is one malloc or one free (a hand-off counts as the free).
//   min and max are ignored. Details:
//   - Sizes, 1 B .. 1 MiB, log-uniform by octave: two more draws,
//     k = r2 % 20 and size = 2^k + r3 % (2^k + 1), i.e. the octave
//     [2^k, 2^(k+1)] is picked with probability 1/20 each and the size is
//     uniform inside it. Half the blocks are <= 1 KiB, 5% are 512 KiB..1 MiB;
//     the mean is ~78 KiB.
//   - Contents: byte o of a block is (tag + o + (o >> 12)) mod 256 with tag
//     a hash of (thread, slot, size). Blocks <= 256 B are written whole;
//     bigger ones get bytes [0, 64), [size - 64, size) and byte 4096 * j for
//     every j >= 1 in between. That touches every 4 KiB page of the block (so
//     RSS is the footprint of a program that uses its memory, and the page
//     faults of an allocator that returns memory to the OS are paid) but
//     bounds the writing to 128 bytes + 1 byte per 4 KiB (<= 384 bytes for
//     1 MiB), the same for every allocator. Before its free, a block is checked at the same bytes; a
//     mismatch prints the block and exits 1.
//   - Cross-thread frees: threads 2p and 2p+1 form a pair (an odd last thread
//     has none; 1 thread means no hand-off). Thread 2p hands every 4th block
//     it would free to thread 2p+1 through a single-producer single-consumer
//     ring of 256 entries (atomic head/tail; the producer waits, yielding,
//     while it is full); thread 2p+1 checks the ring every 16 of its ops, and
//     checks and frees what it finds. Its remote frees are not counted as
//     ops. After its loop (and freeing its own slots) a consumer keeps
//     draining until its producer is done.
//   The output adds peak_rss_kib (getrusage ru_maxrss: the whole process,
//   warm-up included) and rss_after_kib (/proc/self/statm resident, after
//   every block is freed and the threads are joined), and handed_off (blocks
//   freed by the other thread in the timed run).
//
// It calls plain malloc/free: the allocator is whatever the process has,
// chosen with LD_PRELOAD or by linking (alloc_mixed_isoalloc).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>

namespace {

struct Config {
  std::uint64_t ops = 20000000;
  std::uint32_t ws = 400;
  std::uint32_t seed = 1234567;
  std::uint32_t min = 16;
  std::uint32_t max = 1040;
  bool replace = false;
  bool churn = false;
  int threads = 1;
};

inline std::uint32_t xorshift32(std::uint32_t& x) {
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return x;
}

struct Sizer {
  std::uint32_t min, span, mask;
  explicit Sizer(const Config& c) : min(c.min), span(c.max - c.min), mask(1) {
    while (mask < span) mask <<= 1;
    mask -= 1;  // 0x3FF for the defaults
  }
  std::size_t operator()(std::uint32_t r) const {
    std::uint32_t off = r & mask;
    if (off >= span) off %= span;
    return min + off;
  }
};

// Keeps the compiler from dropping the malloc/free pairs.
void* volatile g_sink;

void drain(void** slots, std::uint32_t ws) {
  for (std::uint32_t i = 0; i < ws; ++i) {
    if (slots[i] != nullptr) {
      std::free(slots[i]);
      slots[i] = nullptr;
    }
  }
}

// The reference loop, exactly as the reference report defined it.
__attribute__((noinline)) void run_mixed(void** slots, const Config& c, const Sizer& size, std::uint64_t ops,
                                         std::uint32_t seed) {
  std::uint32_t state = seed;
  const std::uint32_t ws = c.ws;
  for (std::uint64_t n = 0; n < ops; ++n) {
    const std::uint32_t r = xorshift32(state);
    const std::uint32_t i = r % ws;
    if (slots[i] != nullptr) {
      std::free(slots[i]);
      slots[i] = nullptr;
    } else {
      char* p = static_cast<char*>(std::malloc(size(r)));
      p[0] = static_cast<char>(r);
      slots[i] = p;
    }
  }
  drain(slots, ws);
}

__attribute__((noinline)) void run_replace(void** slots, const Config& c, const Sizer& size,
                                           std::uint64_t ops, std::uint32_t seed) {
  std::uint32_t state = seed;
  const std::uint32_t ws = c.ws;
  for (std::uint64_t n = 0; n < ops; ++n) {
    const std::uint32_t r = xorshift32(state);
    const std::uint32_t i = r % ws;
    std::free(slots[i]);
    char* p = static_cast<char*>(std::malloc(size(r)));
    p[0] = static_cast<char>(r);
    slots[i] = p;
  }
  drain(slots, ws);
}

void fill(void** slots, const Config& c, const Sizer& size, std::uint32_t seed) {
  std::uint32_t state = seed;
  for (std::uint32_t i = 0; i < c.ws; ++i) {
    char* p = static_cast<char*>(std::malloc(size(xorshift32(state))));
    p[0] = 1;
    slots[i] = p;
  }
}

// ---- mode churn -------------------------------------------------------------

constexpr std::uint64_t kChurnDefaultOps = 2000000;
constexpr std::uint32_t kChurnOctaves = 20;  // sizes 1 .. 2^20 B
constexpr std::size_t kWholeMax = 256;       // blocks up to this are written whole
constexpr std::size_t kEdge = 64;            // else: first and last 64 B ...
constexpr std::size_t kStride = 4096;        // ... and one byte per 4 KiB
constexpr std::uint32_t kHandoffEvery = 4;   // producer: every 4th free is remote
constexpr std::uint64_t kDrainEvery = 16;    // consumer: looks at the ring every 16 ops

struct ChurnSlot {
  char* p;
  std::uint32_t size;
};

struct Block {
  char* p;
  std::uint32_t size;
  std::uint32_t slot;
};

// Single producer (thread 2p), single consumer (thread 2p+1).
struct Handoff {
  static constexpr std::uint32_t kCap = 256;       // a power of two
  alignas(64) std::atomic<std::uint32_t> head{0};  // written by the consumer
  alignas(64) std::atomic<std::uint32_t> tail{0};  // written by the producer
  alignas(64) std::atomic<int> done_phase{0};      // last phase the producer finished
  Block ring[kCap];
};

std::unique_ptr<Handoff[]> g_handoffs;  // one per pair, made before any thread starts

std::size_t churn_size(std::uint32_t& state) {
  const std::uint32_t k = xorshift32(state) % kChurnOctaves;
  const std::uint32_t base = 1u << k;
  return base + xorshift32(state) % (base + 1);
}

std::uint32_t block_tag(int t, std::uint32_t slot, std::uint32_t size) {
  std::uint32_t h = static_cast<std::uint32_t>(t) * 0x9E3779B1u;
  h ^= slot * 0x85EBCA6Bu;
  h ^= size * 0xC2B2AE35u;
  h ^= h >> 15;
  h *= 0x2C1B3C6Du;
  h ^= h >> 13;
  return h;
}

inline char pattern(std::uint32_t tag, std::size_t o) {
  return static_cast<char>(tag + static_cast<std::uint32_t>(o) + static_cast<std::uint32_t>(o >> 12));
}

// Calls f(offset) for every byte of a block of n bytes that churn writes/checks.
template <class F>
inline void for_each_touched(std::size_t n, F&& f) {
  if (n <= kWholeMax) {
    for (std::size_t o = 0; o < n; ++o) f(o);
    return;
  }
  for (std::size_t o = 0; o < kEdge; ++o) f(o);
  for (std::size_t o = kStride; o < n - kEdge; o += kStride) f(o);
  for (std::size_t o = n - kEdge; o < n; ++o) f(o);
}

void paint(char* p, std::uint32_t size, std::uint32_t tag) {
  for_each_touched(size, [&](std::size_t o) { p[o] = pattern(tag, o); });
}

[[noreturn]] void mismatch(const char* p, std::uint32_t size, int owner, std::uint32_t slot, int freer,
                           std::size_t o, char want) {
  std::fprintf(stderr,
               "alloc_mixed churn: PATTERN MISMATCH in block %p (size %u, allocated by thread %d for slot "
               "%u, checked by thread %d): byte %zu is 0x%02x, expected 0x%02x\n",
               static_cast<const void*>(p), size, owner, slot, freer, o,
               static_cast<unsigned>(static_cast<unsigned char>(p[o])),
               static_cast<unsigned>(static_cast<unsigned char>(want)));
  std::fflush(nullptr);
  std::_Exit(1);  // other threads may still be running: no exit handlers
}

void check_free(char* p, std::uint32_t size, int owner, std::uint32_t slot, int freer) {
  const std::uint32_t tag = block_tag(owner, slot, size);
  for_each_touched(size, [&](std::size_t o) {
    if (p[o] != pattern(tag, o)) mismatch(p, size, owner, slot, freer, o, pattern(tag, o));
  });
  std::free(p);
}

struct ChurnThread {
  int t = 0;
  ChurnSlot* slots = nullptr;
  Handoff* out = nullptr;  // set on the producer of a pair
  Handoff* in = nullptr;   // set on the consumer of a pair
  std::uint32_t seed = 0;
  std::uint64_t handed_off = 0;  // timed run only
};

void push(Handoff& h, const Block& b) {
  const std::uint32_t tail = h.tail.load(std::memory_order_relaxed);
  while (tail - h.head.load(std::memory_order_acquire) >= Handoff::kCap) std::this_thread::yield();
  h.ring[tail & (Handoff::kCap - 1)] = b;
  h.tail.store(tail + 1, std::memory_order_release);
}

void drain_in(Handoff& h, int producer, int me) {
  std::uint32_t head = h.head.load(std::memory_order_relaxed);
  const std::uint32_t tail = h.tail.load(std::memory_order_acquire);
  if (head == tail) return;
  for (; head != tail; ++head) {
    const Block& b = h.ring[head & (Handoff::kCap - 1)];
    check_free(b.p, b.size, producer, b.slot, me);
  }
  h.head.store(head, std::memory_order_release);
}

// One run of `ops` ops; frees everything it has made before it returns (a
// consumer also waits for and frees everything its producer hands over).
__attribute__((noinline)) std::uint64_t run_churn(ChurnThread& ct, std::uint32_t ws, std::uint64_t ops,
                                                  std::uint32_t seed, int phase) {
  std::uint32_t state = seed;
  std::uint32_t frees = 0;
  std::uint64_t handed = 0;
  ChurnSlot* const slots = ct.slots;
  const int t = ct.t;
  for (std::uint64_t n = 0; n < ops; ++n) {
    const std::uint32_t r = xorshift32(state);
    const std::uint32_t i = r % ws;
    ChurnSlot& s = slots[i];
    if (s.p != nullptr) {
      if (ct.out != nullptr && ++frees % kHandoffEvery == 0) {
        push(*ct.out, Block{s.p, s.size, i});
        ++handed;
      } else {
        check_free(s.p, s.size, t, i, t);
      }
      s.p = nullptr;
    } else {
      const std::uint32_t size = static_cast<std::uint32_t>(churn_size(state));
      char* p = static_cast<char*>(std::malloc(size));
      if (p == nullptr) {
        std::fprintf(stderr, "alloc_mixed churn: malloc(%u) failed\n", size);
        std::fflush(nullptr);
        std::_Exit(1);
      }
      paint(p, size, block_tag(t, i, size));
      s.p = p;
      s.size = size;
    }
    if (ct.in != nullptr && n % kDrainEvery == 0) drain_in(*ct.in, t - 1, t);
  }
  for (std::uint32_t i = 0; i < ws; ++i) {
    if (slots[i].p != nullptr) {
      check_free(slots[i].p, slots[i].size, t, i, t);
      slots[i].p = nullptr;
    }
  }
  if (ct.out != nullptr) ct.out->done_phase.store(phase, std::memory_order_release);
  if (ct.in != nullptr) {
    for (;;) {
      // Everything pushed before done_phase was stored is visible after this load.
      const bool producer_done = ct.in->done_phase.load(std::memory_order_acquire) >= phase;
      drain_in(*ct.in, t - 1, t);
      if (producer_done) break;
      std::this_thread::yield();
    }
  }
  return handed;
}

// Untimed: the slot array, the pair's ring, the warm-up (phase 1).
ChurnThread prepare_churn(const Config& c, int t) {
  ChurnThread ct;
  ct.t = t;
  ct.slots = static_cast<ChurnSlot*>(std::calloc(c.ws, sizeof(ChurnSlot)));
  const int pair = t / 2;
  if (t % 2 == 0 && t + 1 < c.threads) ct.out = &g_handoffs[pair];
  if (t % 2 == 1) ct.in = &g_handoffs[pair];
  ct.seed = c.seed + static_cast<std::uint32_t>(t);
  run_churn(ct, c.ws, c.ops / 10, ct.seed + 0xDEADBEEFu, 1);
  return ct;
}

void timed_churn(const Config& c, ChurnThread& ct) {
  ct.handed_off = run_churn(ct, c.ws, c.ops, ct.seed, 2);
  std::free(ct.slots);
}

std::atomic<std::uint64_t> g_handed_off{0};

long rss_now_kib() {
  long size = 0, resident = 0;
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return -1;
  const int got = std::fscanf(f, "%ld %ld", &size, &resident);
  std::fclose(f);
  if (got != 2) return -1;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

long peak_rss_kib() {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return -1;
  return ru.ru_maxrss;  // KiB on Linux
}

// ---- threads -----------------------------------------------------------------

struct Shared {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::atomic<int> done{0};
};

struct Slots {
  void** slots;
  std::uint32_t seed;
};

// Untimed: allocates the slot array and runs the warm-up.
Slots prepare(const Config& c, int t) {
  const Sizer size(c);
  void** slots = static_cast<void**>(std::calloc(c.ws, sizeof(void*)));
  const std::uint32_t seed = c.seed + static_cast<std::uint32_t>(t);
  const std::uint32_t warm_seed = seed + 0xDEADBEEFu;
  if (c.replace) {
    fill(slots, c, size, warm_seed);
    run_replace(slots, c, size, c.ops / 10, warm_seed);
    fill(slots, c, size, seed ^ 0x5bd1e995u);
  } else {
    run_mixed(slots, c, size, c.ops / 10, warm_seed);
  }
  return {slots, seed};
}

void timed(const Config& c, Slots s) {
  const Sizer size(c);
  if (c.replace) {
    run_replace(s.slots, c, size, c.ops, s.seed);
  } else {
    run_mixed(s.slots, c, size, c.ops, s.seed);
  }
  g_sink = s.slots;
  std::free(s.slots);
}

// Threads 1..N-1; thread 0 is the main thread, so a 1-thread run creates no
// thread at all and uses the main thread's heap.
void worker(const Config& c, int t, Shared& shared) {
  if (c.churn) {
    ChurnThread ct = prepare_churn(c, t);
    shared.ready.fetch_add(1, std::memory_order_release);
    while (!shared.go.load(std::memory_order_acquire)) {
    }
    timed_churn(c, ct);
    g_handed_off.fetch_add(ct.handed_off, std::memory_order_relaxed);
    shared.done.fetch_add(1, std::memory_order_release);
    return;
  }
  const Slots s = prepare(c, t);
  shared.ready.fetch_add(1, std::memory_order_release);
  while (!shared.go.load(std::memory_order_acquire)) {
  }
  timed(c, s);
  shared.done.fetch_add(1, std::memory_order_release);
}

// mode churn, from main: the same start/stop protocol as the other modes.
int main_churn(const Config& c) {
  g_handoffs = std::make_unique<Handoff[]>(static_cast<std::size_t>(c.threads / 2 + 1));
  Shared shared;
  std::vector<std::thread> threads;
  for (int t = 1; t < c.threads; ++t) threads.emplace_back(worker, std::cref(c), t, std::ref(shared));
  ChurnThread mine = prepare_churn(c, 0);
  while (shared.ready.load(std::memory_order_acquire) < c.threads - 1) {
  }
  const auto start = std::chrono::steady_clock::now();
  shared.go.store(true, std::memory_order_release);
  timed_churn(c, mine);
  while (shared.done.load(std::memory_order_acquire) < c.threads - 1) {
  }
  const auto end = std::chrono::steady_clock::now();
  for (auto& th : threads) th.join();
  g_handed_off.fetch_add(mine.handed_off, std::memory_order_relaxed);
  g_handoffs.reset();
  const long peak = peak_rss_kib();
  const long after = rss_now_kib();

  const double secs = std::chrono::duration<double>(end - start).count();
  const double total = static_cast<double>(c.ops) * c.threads;
  std::printf(
      "alloc_mixed mode=churn ops=%llu ws=%u seed=%u sizes=1..%u threads=%d time_s=%.4f Mops_s=%.3f "
      "peak_rss_kib=%ld rss_after_kib=%ld handed_off=%llu\n",
      static_cast<unsigned long long>(c.ops), c.ws, c.seed, 1u << kChurnOctaves, c.threads, secs,
      total / secs / 1e6, peak, after, static_cast<unsigned long long>(g_handed_off.load()));
  return 0;
}

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: alloc_mixed [ops ws seed min max] [--mode mixed|replace|churn] [--threads N]\n"
               "defaults: 20000000 400 1234567 16 1040, mode mixed, 1 thread (churn: 2000000 ops)\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  Config c;
  std::vector<std::string> pos;
  for (int a = 1; a < argc; ++a) {
    const std::string arg = argv[a];
    if (arg == "--mode" && a + 1 < argc) {
      const std::string m = argv[++a];
      if (m == "replace") {
        c.replace = true;
      } else if (m == "churn") {
        c.churn = true;
      } else if (m != "mixed") {
        usage();
      }
    } else if (arg == "--threads" && a + 1 < argc) {
      c.threads = std::atoi(argv[++a]);
    } else if (arg == "-h" || arg == "--help") {
      usage();
    } else {
      pos.push_back(arg);
    }
  }
  if (pos.size() > 5) usage();
  if (pos.size() > 0) c.ops = std::strtoull(pos[0].c_str(), nullptr, 10);
  if (pos.size() > 1) c.ws = static_cast<std::uint32_t>(std::strtoul(pos[1].c_str(), nullptr, 10));
  if (pos.size() > 2) c.seed = static_cast<std::uint32_t>(std::strtoul(pos[2].c_str(), nullptr, 10));
  if (pos.size() > 3) c.min = static_cast<std::uint32_t>(std::strtoul(pos[3].c_str(), nullptr, 10));
  if (pos.size() > 4) c.max = static_cast<std::uint32_t>(std::strtoul(pos[4].c_str(), nullptr, 10));
  if (c.ws == 0 || c.max <= c.min || c.threads < 1 || c.seed == 0) usage();
  if (c.churn) {
    if (pos.empty()) c.ops = kChurnDefaultOps;
    return main_churn(c);
  }

  Shared shared;
  std::vector<std::thread> threads;
  for (int t = 1; t < c.threads; ++t) threads.emplace_back(worker, std::cref(c), t, std::ref(shared));
  const Slots mine = prepare(c, 0);
  while (shared.ready.load(std::memory_order_acquire) < c.threads - 1) {
  }
  const auto start = std::chrono::steady_clock::now();
  shared.go.store(true, std::memory_order_release);
  timed(c, mine);
  while (shared.done.load(std::memory_order_acquire) < c.threads - 1) {
  }
  const auto end = std::chrono::steady_clock::now();
  for (auto& th : threads) th.join();

  const double secs = std::chrono::duration<double>(end - start).count();
  const double total = static_cast<double>(c.ops) * c.threads;
  std::printf("alloc_mixed mode=%s ops=%llu ws=%u seed=%u min=%u max=%u threads=%d time_s=%.4f Mops_s=%.2f\n",
              c.replace ? "replace" : "mixed", static_cast<unsigned long long>(c.ops), c.ws, c.seed, c.min,
              c.max, c.threads, secs, total / secs / 1e6);
  return 0;
}
