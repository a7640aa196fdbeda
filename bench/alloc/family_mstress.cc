// family_mstress: a multi-threaded stress run in rounds of fresh threads (the
// shape of the mstress benchmark).
//
//   family_mstress [--threads T] [--rounds R] [--iters I] [--slots S] [--transfer X] [--seed N]
//
// Defaults: T 2, R 10, I 200000 per thread and round, S 50000 slots per
// thread, X 4096 transfer slots, seed 42.
//
// There are T slot arrays of S pointers, one per thread index, and one
// transfer array of X atomic pointers shared by all threads. Each round starts
// T fresh threads and joins them; the thread with index i works on array i,
// which starts empty in round 0 and which the next round's index-i thread
// inherits, with its live blocks, after this one has exited. So
// allocators must cope with blocks outliving the thread that made them, and
// with threads freeing blocks that other (possibly exited) threads allocated.
// Per iteration a thread draws r = xorshift64 and acts on a random slot s of
// its array, by r % 1000:
//   [0, 500)    allocate: free what s holds, put a new random-size block in s;
//   [500, 600)  realloc s to a new random size (s empty: realloc(nullptr, n));
//   [600, 850)  free s (nothing if it is empty);
//   [850, 1000) exchange s with a random transfer slot (atomic exchange; the
//               block then lives on, to be freed by whichever thread takes it).
// Sizes: 0.1% uniform in 4097 B .. 256 KiB, 1% in 257 B .. 4 KiB, the rest in
// 8 .. 256 B (mean ~285 B). The live set settles near 70% of the slots, some
// 20 MB with the defaults. Every block holds its size in bytes 0-3 and a tag
// (a hash of the size) in byte 4 and in its last byte; they are checked before
// every free and realloc, and after a realloc the old size must still be in
// bytes 0-3. A mismatch prints the block and exits 1.
// At the end the main thread frees everything left in the arrays and the
// transfer array (checked too). The timed region is all rounds, thread
// creation and joining included, plus that final free. Each thread's choices
// come from xorshift64 seeded with a hash of (seed, round, index), so the
// sequence of operations per thread is fixed by the seed; what the transfer
// exchanges return depends on how the threads interleave.
// Output, one line on stdout:
//   family_mstress threads=T rounds=R iters=I slots=S transfer=X seed=N ops=O time_s=S rate=O/S
//   peak_rss_kib=P

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "family_common.h"

namespace {

constexpr const char* kProg = "family_mstress";
constexpr const char* kUsage =
    "usage: family_mstress [--threads T] [--rounds R] [--iters I] [--slots S] [--transfer X] [--seed N]\n"
    "  R rounds (default 10) of T fresh threads (default 2); each does I random ops (default 200000)\n"
    "  on its index's array of S slots (default 50000): 50% allocate, 10% realloc, 25% free,\n"
    "  15% exchange with a shared transfer array of X slots (default 4096). Sizes 8..256 B,\n"
    "  1% up to 4 KiB, 0.1% up to 256 KiB. Blocks are checked before each free.\n"
    "  Prints: family_mstress ... ops=O time_s=S rate=R(ops/s) peak_rss_kib=P\n";

constexpr std::uint32_t kMinSize = 8;  // room for the size and the tag
constexpr std::uint32_t kMaxSize = 256 * 1024;

struct Config {
  int threads;
  std::uint64_t rounds;
  std::uint64_t iters;
  std::uint64_t slots;
  std::uint64_t transfer;
  std::uint64_t seed;
};

std::uint32_t random_size(std::uint64_t& rng) {
  const std::uint64_t r = family::xorshift64(rng);
  const std::uint64_t bucket = r % 10000;
  const std::uint64_t r2 = family::xorshift64(rng);
  if (bucket < 10) return static_cast<std::uint32_t>(4097 + r2 % (kMaxSize - 4097 + 1));
  if (bucket < 110) return static_cast<std::uint32_t>(257 + r2 % (4096 - 257 + 1));
  return static_cast<std::uint32_t>(kMinSize + r2 % (256 - kMinSize + 1));
}

char tag_of(std::uint32_t size) {
  return static_cast<char>((size * 0x9E3779B1u) >> 24);
}

void stamp(char* p, std::uint32_t size) {
  std::memcpy(p, &size, sizeof size);
  p[4] = tag_of(size);
  p[size - 1] = tag_of(size);
}

// Returns the block's size, from its own header; exits on a bad header.
std::uint32_t check(const char* p, const char* what) {
  std::uint32_t size;
  std::memcpy(&size, p, sizeof size);
  if (size < kMinSize || size > kMaxSize || p[4] != tag_of(size) || p[size - 1] != tag_of(size)) {
    family::die(kProg, "CORRUPT block %p before %s: header size %u, byte 4 0x%02x, expected tag 0x%02x",
                static_cast<const void*>(p), what, size,
                static_cast<unsigned>(static_cast<unsigned char>(p[4])),
                static_cast<unsigned>(static_cast<unsigned char>(tag_of(size))));
  }
  return size;
}

void check_free(char* p) {
  if (p == nullptr) return;
  check(p, "free");
  std::free(p);
}

char* fresh(std::uint64_t& rng) {
  const std::uint32_t size = random_size(rng);
  char* p = static_cast<char*>(std::malloc(size));
  if (p == nullptr) family::die(kProg, "malloc(%u) failed", size);
  stamp(p, size);
  return p;
}

struct Shared {
  std::vector<std::unique_ptr<char*[]>> arrays;  // one per thread index, kept across rounds
  std::unique_ptr<std::atomic<char*>[]> transfer;
};

void work(const Config& c, Shared& sh, std::uint64_t round, int index) {
  std::uint64_t rng = family::derive_seed(c.seed, round, static_cast<std::uint64_t>(index));
  char** slots = sh.arrays[index].get();
  std::atomic<char*>* transfer = sh.transfer.get();
  for (std::uint64_t n = 0; n < c.iters; ++n) {
    const std::uint64_t r = family::xorshift64(rng);
    const std::uint64_t op = r % 1000;
    char*& s = slots[(r >> 10) % c.slots];
    if (op < 500) {
      check_free(s);
      s = fresh(rng);
    } else if (op < 600) {
      const std::uint32_t size = random_size(rng);
      std::uint32_t old = 0;
      if (s != nullptr) old = check(s, "realloc");
      char* p = static_cast<char*>(std::realloc(s, size));
      if (p == nullptr) family::die(kProg, "realloc(%u) failed", size);
      if (old != 0) {
        std::uint32_t kept;
        std::memcpy(&kept, p, sizeof kept);
        if (kept != old) {
          family::die(kProg, "CORRUPT block %p after realloc %u -> %u: bytes 0-3 hold %u",
                      static_cast<void*>(p), old, size, kept);
        }
      }
      stamp(p, size);
      s = p;
    } else if (op < 850) {
      check_free(s);
      s = nullptr;
    } else {
      const std::uint64_t j = family::xorshift64(rng) % c.transfer;
      s = transfer[j].exchange(s, std::memory_order_acq_rel);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  family::Cli cli(argc, argv, kProg, kUsage);
  Config c;
  c.threads = static_cast<int>(cli.u64("--threads", 2, 1, 1024));
  c.rounds = cli.u64("--rounds", 10, 1, 1000000);
  c.iters = cli.u64("--iters", 200000, 1, 1ull << 40);
  c.slots = cli.u64("--slots", 50000, 1, 1ull << 28);
  c.transfer = cli.u64("--transfer", 4096, 1, 1ull << 28);
  c.seed = cli.u64("--seed", 42, 0, ~0ull);
  cli.finish();

  Shared sh;
  for (int i = 0; i < c.threads; ++i) sh.arrays.emplace_back(std::make_unique<char*[]>(c.slots));
  sh.transfer = std::make_unique<std::atomic<char*>[]>(c.transfer);
  for (std::uint64_t j = 0; j < c.transfer; ++j) sh.transfer[j].store(nullptr, std::memory_order_relaxed);

  const auto t0 = std::chrono::steady_clock::now();
  for (std::uint64_t round = 0; round < c.rounds; ++round) {
    std::vector<std::thread> threads;
    for (int i = 0; i < c.threads; ++i) threads.emplace_back(work, std::cref(c), std::ref(sh), round, i);
    for (auto& th : threads) th.join();
  }
  for (int i = 0; i < c.threads; ++i) {
    for (std::uint64_t k = 0; k < c.slots; ++k) check_free(sh.arrays[i][k]);
  }
  for (std::uint64_t j = 0; j < c.transfer; ++j) check_free(sh.transfer[j].load(std::memory_order_relaxed));
  const double secs = family::seconds_since(t0);

  const std::uint64_t ops = static_cast<std::uint64_t>(c.threads) * c.rounds * c.iters;
  family::g_sink = ops;
  std::printf(
      "family_mstress threads=%d rounds=%llu iters=%llu slots=%llu transfer=%llu seed=%llu ops=%llu "
      "time_s=%.6f "
      "rate=%.0f peak_rss_kib=%ld\n",
      c.threads, static_cast<unsigned long long>(c.rounds), static_cast<unsigned long long>(c.iters),
      static_cast<unsigned long long>(c.slots), static_cast<unsigned long long>(c.transfer),
      static_cast<unsigned long long>(c.seed), static_cast<unsigned long long>(ops), secs,
      static_cast<double>(ops) / secs, family::peak_rss_kib());
  return 0;
}
