// family_larson: a server-like churn where each worker's blocks are freed by
// the thread that replaces it (the shape of the larson benchmark).
//
//   family_larson [--threads T] [--slots K] [--min A] [--max B] [--ops N] [--rounds-ops M] [--seed S]
//
// Defaults: T 2, K 1000, A 16, B 512, N 10000000 per thread, M 100000, seed 42.
//
// There are T slot arrays of K blocks. Before the timed region the main
// thread fills them with blocks of random size uniform in [A, B] bytes. Then
// each array i is worked on by a chain of threads: a thread does M ops (fewer
// for the last one, to make N in all) and exits, and a new thread takes over
// the same array, so most blocks are freed by a thread other than the one that
// allocated them, often one that has already exited. (A small controller
// thread per array starts each link of the chain and joins it; it allocates
// nothing itself apart from what std::thread does.) One op: r = xorshift64,
// slot = r % K; read the first 8 bytes of the slot's block into a checksum,
// free it, malloc a new block of random size in [A, B] and write its first 8
// bytes. The generator state of array i lives with the array, seeded from a
// hash of (seed, i), so the op sequence per array is fixed by the seed.
// The timed region runs from releasing the controllers to joining them; the
// initial fill and the final frees (by the main thread) are not timed.
// Output, one line on stdout:
//   family_larson threads=T slots=K min=A max=B ops=N rounds_ops=M seed=S total_ops=O time_s=S rate=O/S
//   peak_rss_kib=P
// (on one line) where O = T * N and one op is one free plus one malloc.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "family_common.h"

namespace {

constexpr const char* kProg = "family_larson";
constexpr const char* kUsage =
    "usage: family_larson [--threads T] [--slots K] [--min A] [--max B] [--ops N] [--rounds-ops M] [--seed "
    "S]\n"
    "  T arrays (default 2) of K blocks (default 1000) of random size in [A, B] bytes (default\n"
    "  16..512); per op a random block is freed and replaced. N ops per array (default 10000000),\n"
    "  done by a chain of threads of M ops each (default 100000).\n"
    "  Prints: family_larson ... total_ops=O time_s=S rate=R(ops/s) peak_rss_kib=P\n";

struct Config {
  int threads;
  std::uint64_t slots;
  std::uint64_t min;
  std::uint64_t max;
  std::uint64_t ops;
  std::uint64_t rounds_ops;
  std::uint64_t seed;
};

// Its own cache line: the chain's current thread updates rng and sum per op.
struct alignas(64) Array {
  std::vector<char*> blocks;
  std::uint64_t rng = 1;
  std::uint64_t sum = 0;
};

char* fresh(const Config& c, std::uint64_t& rng) {
  const std::size_t size = family::uniform(rng, c.min, c.max);
  char* p = static_cast<char*>(std::malloc(size));
  if (p == nullptr) family::die(kProg, "malloc(%zu) failed", size);
  std::memcpy(p, &rng, 8);
  return p;
}

void run_link(const Config& c, Array& a, std::uint64_t ops) {
  std::uint64_t rng = a.rng;
  std::uint64_t sum = a.sum;
  char** blocks = a.blocks.data();
  for (std::uint64_t n = 0; n < ops; ++n) {
    char*& b = blocks[family::xorshift64(rng) % c.slots];
    std::uint64_t v;
    std::memcpy(&v, b, 8);
    sum += v;
    std::free(b);
    b = fresh(c, rng);
  }
  a.rng = rng;
  a.sum = sum;
}

void controller(const Config& c, Array& a, const std::atomic<bool>& go) {
  while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
  for (std::uint64_t done = 0; done < c.ops;) {
    const std::uint64_t n = c.ops - done < c.rounds_ops ? c.ops - done : c.rounds_ops;
    std::thread(run_link, std::cref(c), std::ref(a), n).join();
    done += n;
  }
}

}  // namespace

int main(int argc, char** argv) {
  family::Cli cli(argc, argv, kProg, kUsage);
  Config c;
  c.threads = static_cast<int>(cli.u64("--threads", 2, 1, 1024));
  c.slots = cli.u64("--slots", 1000, 1, 1ull << 28);
  c.min = cli.u64("--min", 16, 8, 1ull << 30);
  c.max = cli.u64("--max", 512, 8, 1ull << 30);
  c.ops = cli.u64("--ops", 10000000, 1, 1ull << 40);
  c.rounds_ops = cli.u64("--rounds-ops", 100000, 1, 1ull << 40);
  c.seed = cli.u64("--seed", 42, 0, ~0ull);
  cli.finish();
  if (c.max < c.min) {
    cli.fail("--max (%llu) is below --min (%llu)", static_cast<unsigned long long>(c.max),
             static_cast<unsigned long long>(c.min));
  }

  std::vector<Array> arrays(c.threads);
  for (int i = 0; i < c.threads; ++i) {
    Array& a = arrays[i];
    a.rng = family::derive_seed(c.seed, static_cast<std::uint64_t>(i));
    a.blocks.resize(c.slots);
    for (char*& b : a.blocks) b = fresh(c, a.rng);
  }

  std::atomic<bool> go{false};
  std::vector<std::thread> controllers;
  for (int i = 0; i < c.threads; ++i) {
    controllers.emplace_back(controller, std::cref(c), std::ref(arrays[i]), std::cref(go));
  }
  const auto t0 = std::chrono::steady_clock::now();
  go.store(true, std::memory_order_release);
  for (auto& th : controllers) th.join();
  const double secs = family::seconds_since(t0);

  std::uint64_t sum = 0;
  for (Array& a : arrays) {
    sum += a.sum;
    for (char* b : a.blocks) std::free(b);
  }
  family::g_sink = sum;
  const std::uint64_t total = c.ops * static_cast<std::uint64_t>(c.threads);
  std::printf(
      "family_larson threads=%d slots=%llu min=%llu max=%llu ops=%llu rounds_ops=%llu seed=%llu "
      "total_ops=%llu "
      "time_s=%.6f rate=%.0f peak_rss_kib=%ld\n",
      c.threads, static_cast<unsigned long long>(c.slots), static_cast<unsigned long long>(c.min),
      static_cast<unsigned long long>(c.max), static_cast<unsigned long long>(c.ops),
      static_cast<unsigned long long>(c.rounds_ops), static_cast<unsigned long long>(c.seed),
      static_cast<unsigned long long>(total), secs, static_cast<double>(total) / secs,
      family::peak_rss_kib());
  return 0;
}
