// family_simple: the single-thread malloc/free fast path at each size class
// (the shape of glibc's bench-malloc-simple).
//
//   family_simple [--sizes LIST] [--counts LIST] [--pairs P] [--verbose]
//
// Defaults: sizes 16,32,48,64,96,128,256,512,1024,2048,4096; counts
// 25,100,400,1600; P 50000 malloc+free pairs per combination. P is that
// small because of glibc: it trims its heap top after every pass whose blocks
// add up to more than 128 KiB, and on the 2-core VM the benchmarks were tuned
// on a page fault costs ~10 us, so its run takes ~2-3 s at P 50000 (about 9
// of the 44 combinations cost 0.3-12 us per pair) where the others take
// ~20-50 ms. Without glibc in the comparison, raise P.
//
// For every (size, count) combination, sizes outer: an untimed warm-up pass,
// then ceil(P / count) timed passes, one pass being: malloc `count` blocks of
// `size` bytes, writing byte 0 of each, then read byte 0 of each into a
// checksum and free them all, in allocation order. Everything runs on the
// main thread; there is no randomness. The warm-up keeps the first-touch page
// faults and size-class set-up of a new combination out of a number that is
// about the steady-state fast path.
// Output on stdout: with --verbose first one line per combination,
//   family_simple_combo size=B count=C pairs=N time_s=S ns_per_pair=X
// then always one summary line,
//   family_simple combos=K pairs=N time_s=S ns_per_pair=X rate=R peak_rss_kib=P
// where S is the sum of the timed passes, N the pairs they did (each
// combination does P rounded up to a multiple of count), R = N / S.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "family_common.h"

namespace {

constexpr const char* kProg = "family_simple";
constexpr const char* kUsage =
    "usage: family_simple [--sizes LIST] [--counts LIST] [--pairs P] [--verbose]\n"
    "  For each size (default 16,32,48,64,96,128,256,512,1024,2048,4096) and count (default\n"
    "  25,100,400,1600): repeat {malloc count blocks, write 1 byte each, free them in order}\n"
    "  for about P pairs (default 50000). Comma-separated lists.\n"
    "  Prints: family_simple combos=K pairs=N time_s=S ns_per_pair=X rate=R(pairs/s) peak_rss_kib=P\n";

// noinline: one copy of the loop for every combination, so no size gets a
// constant-folded special version.
__attribute__((noinline)) std::uint64_t pass(char** blocks, std::size_t count, std::size_t size) {
  for (std::size_t k = 0; k < count; ++k) {
    char* p = static_cast<char*>(std::malloc(size));
    if (p == nullptr) family::die(kProg, "malloc(%zu) failed", size);
    p[0] = static_cast<char>(k);
    blocks[k] = p;
  }
  // Reading back what was written keeps the stores (and so the blocks) live.
  std::uint64_t sum = 0;
  for (std::size_t k = 0; k < count; ++k) {
    sum += static_cast<unsigned char>(blocks[k][0]);
    std::free(blocks[k]);
  }
  return sum;
}

}  // namespace

int main(int argc, char** argv) {
  family::Cli cli(argc, argv, kProg, kUsage);
  const std::vector<std::uint64_t> sizes =
      cli.list("--sizes", {16, 32, 48, 64, 96, 128, 256, 512, 1024, 2048, 4096}, 1, 1ull << 30);
  const std::vector<std::uint64_t> counts = cli.list("--counts", {25, 100, 400, 1600}, 1, 1ull << 24);
  const std::uint64_t pairs = cli.u64("--pairs", 50000, 1, 1ull << 40);
  const bool verbose = cli.flag("--verbose");
  cli.finish();

  std::uint64_t max_count = 0;
  for (std::uint64_t c : counts) max_count = c > max_count ? c : max_count;
  std::vector<char*> blocks(max_count);

  double total = 0;
  std::uint64_t total_pairs = 0;
  std::uint64_t sum = 0;
  for (std::uint64_t size : sizes) {
    for (std::uint64_t count : counts) {
      const std::uint64_t passes = (pairs + count - 1) / count;
      sum += pass(blocks.data(), count, size);
      const auto t0 = std::chrono::steady_clock::now();
      for (std::uint64_t i = 0; i < passes; ++i) sum += pass(blocks.data(), count, size);
      const double secs = family::seconds_since(t0);
      total += secs;
      total_pairs += passes * count;
      if (verbose) {
        std::printf("family_simple_combo size=%llu count=%llu pairs=%llu time_s=%.6f ns_per_pair=%.2f\n",
                    static_cast<unsigned long long>(size), static_cast<unsigned long long>(count),
                    static_cast<unsigned long long>(passes * count), secs,
                    secs * 1e9 / static_cast<double>(passes * count));
      }
    }
  }
  family::g_sink = sum;
  std::printf("family_simple combos=%zu pairs=%llu time_s=%.6f ns_per_pair=%.2f rate=%.0f peak_rss_kib=%ld\n",
              sizes.size() * counts.size(), static_cast<unsigned long long>(total_pairs), total,
              total * 1e9 / static_cast<double>(total_pairs), static_cast<double>(total_pairs) / total,
              family::peak_rss_kib());
  return 0;
}
