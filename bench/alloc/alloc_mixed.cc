// The reference allocator benchmark of DESIGN.md §2 ("Mixed 16-1024B").
//
//   alloc_mixed [ops ws seed min max] [--mode mixed|replace] [--threads N]
//
// Defaults: 20000000 400 1234567 16 1040.
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
// It calls plain malloc/free: the allocator is whatever the process has,
// chosen with LD_PRELOAD or by linking (alloc_mixed_isoalloc).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Config {
  std::uint64_t ops = 20000000;
  std::uint32_t ws = 400;
  std::uint32_t seed = 1234567;
  std::uint32_t min = 16;
  std::uint32_t max = 1040;
  bool replace = false;
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

// The reference loop: exactly DESIGN.md §2.
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
  const Slots s = prepare(c, t);
  shared.ready.fetch_add(1, std::memory_order_release);
  while (!shared.go.load(std::memory_order_acquire)) {
  }
  timed(c, s);
  shared.done.fetch_add(1, std::memory_order_release);
}

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: alloc_mixed [ops ws seed min max] [--mode mixed|replace] [--threads N]\n"
               "defaults: 20000000 400 1234567 16 1040, mode mixed, 1 thread\n");
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
