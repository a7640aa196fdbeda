// family_large: large, zero-initialised blocks replaced at random (the shape
// of the malloc-large benchmark).
//
//   family_large [--iters N] [--slots K] [--min-mib A] [--max-mib B] [--seed S]
//
// Defaults: N 100, K 20, A 5, B 25, seed 42. N is 100 because with glibc an
// iteration costs ~40 ms on the 2-core VM the benchmarks were tuned on
// (fresh pages for most blocks, and a page fault costs ~10 us there).
//
// K slots, empty at first. Per iteration, on the main thread: r =
// xorshift64, slot = r % K, size uniform in [A MiB, B MiB] (in bytes, from a
// second draw); delete[] the slot's block and put `new char[size]()` there.
// The "()" value-initialises the array, so the program itself zero-fills every
// byte (as std::make_unique<char[]> does); an allocator gains nothing from
// handing out untouched or pre-zeroed pages. One byte of each new block,
// picked by the same draw, is read into a checksum. At the end the slots are
// freed. The timed region is all iterations and the final frees.
// Output, one line on stdout:
//   family_large iters=N slots=K min_mib=A max_mib=B seed=S gib=G time_s=S rate=N/S peak_rss_kib=P
// where G is the GiB allocated (and zeroed) in total.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <vector>

#include "family_common.h"

namespace {

constexpr const char* kProg = "family_large";
constexpr const char* kUsage =
    "usage: family_large [--iters N] [--slots K] [--min-mib A] [--max-mib B] [--seed S]\n"
    "  N iterations (default 100): replace a random one of K slots (default 20) with\n"
    "  new char[size]() of a random size in [A, B] MiB (default 5..25).\n"
    "  Prints: family_large ... gib=G time_s=S rate=R(iters/s) peak_rss_kib=P\n";

}  // namespace

int main(int argc, char** argv) {
  family::Cli cli(argc, argv, kProg, kUsage);
  const std::uint64_t iters = cli.u64("--iters", 100, 1, 1ull << 40);
  const std::uint64_t nslots = cli.u64("--slots", 20, 1, 1 << 20);
  const std::uint64_t min_mib = cli.u64("--min-mib", 5, 1, 1 << 20);
  const std::uint64_t max_mib = cli.u64("--max-mib", 25, 1, 1 << 20);
  const std::uint64_t seed = cli.u64("--seed", 42, 0, ~0ull);
  cli.finish();
  if (max_mib < min_mib)
    cli.fail("--max-mib (%llu) is below --min-mib (%llu)", static_cast<unsigned long long>(max_mib),
             static_cast<unsigned long long>(min_mib));

  std::vector<char*> slots(nslots, nullptr);
  std::uint64_t rng = family::derive_seed(seed, 0);
  std::uint64_t bytes = 0;
  std::uint64_t sum = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (std::uint64_t i = 0; i < iters; ++i) {
    const std::uint64_t slot = family::xorshift64(rng) % nslots;
    const std::uint64_t size = family::uniform(rng, min_mib << 20, max_mib << 20);
    delete[] slots[slot];
    char* p = new char[size]();
    slots[slot] = p;
    sum += static_cast<unsigned char>(p[rng % size]);
    bytes += size;
  }
  for (char* p : slots) delete[] p;
  const double secs = family::seconds_since(t0);

  family::g_sink = sum;
  std::printf(
      "family_large iters=%llu slots=%llu min_mib=%llu max_mib=%llu seed=%llu gib=%.2f time_s=%.6f rate=%.1f "
      "peak_rss_kib=%ld\n",
      static_cast<unsigned long long>(iters), static_cast<unsigned long long>(nslots),
      static_cast<unsigned long long>(min_mib), static_cast<unsigned long long>(max_mib),
      static_cast<unsigned long long>(seed), static_cast<double>(bytes) / (1 << 30), secs,
      static_cast<double>(iters) / secs, family::peak_rss_kib());
  return 0;
}
