// family_cache_scratch: does the allocator give different threads small
// blocks on the same cache line (the shape of the cache-scratch benchmark)?
//
//   family_cache_scratch [--threads T] [--iters N] [--writes W] [--size B]
//
// Defaults: T 2, N 500000, W 1000, B 8. A 1-thread run takes ~0.5 s on the
// 2-core VM the benchmarks were tuned on; W is large so that cache-line
// placement, not the malloc/free pair, decides the time.
//
// The main thread mallocs T blocks of B bytes, one after the other (so with
// most allocators they are neighbours, on one cache line), and writes each
// once. Then T threads start; thread t frees block t (a block it did not
// allocate, next to its siblings' blocks) and then N times: mallocs B bytes,
// increments bytes 0, 1, .., B-1, 0, 1, .. through a volatile pointer (a read
// and a write each) W times in all, and frees the block. An allocator that hands the freed block (or its
// neighbour) back to the thread that freed it makes the threads write to one
// cache line, and every write then waits for the line to come back from the
// other core: the run is many times slower than with separate lines. With
// T = 1 there is no sharing, which makes it the baseline.
// There is no randomness. The timed region runs from releasing the (already
// started) threads, before their first free, to the last join.
// Output, one line on stdout:
//   family_cache_scratch threads=T iters=N writes=W size=B time_s=S rate=R shared_line_threads=K
//   peak_rss_kib=P
// (on one line) where R = T * N * W / S, writes per second, and K is the
// number of threads whose last block was on the same 64-byte line as another
// thread's last block (0 is what a good allocator gets).

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

constexpr const char* kProg = "family_cache_scratch";
constexpr const char* kUsage =
    "usage: family_cache_scratch [--threads T] [--iters N] [--writes W] [--size B]\n"
    "  T threads (default 2) each free one B-byte block (default 8) the main thread allocated,\n"
    "  then N times (default 500000): malloc B bytes, make W byte writes to it (default 1000), free.\n"
    "  Prints: family_cache_scratch ... time_s=S rate=R(writes/s) peak_rss_kib=P\n";

struct Config {
  int threads;
  std::uint64_t iters;
  std::uint64_t writes;
  std::size_t size;
};

struct Start {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
};

void worker(const Config& c, char* given, Start& start, std::uintptr_t& last) {
  start.ready.fetch_add(1, std::memory_order_release);
  while (!start.go.load(std::memory_order_acquire)) std::this_thread::yield();
  std::free(given);
  for (std::uint64_t i = 0; i < c.iters; ++i) {
    char* p = static_cast<char*>(std::malloc(c.size));
    if (p == nullptr) family::die(kProg, "malloc(%zu) failed", c.size);
    std::memset(p, 0, c.size);  // what the writes below add to must be defined
    // volatile: every access must reach the cache line, or there is nothing to
    // share. Read-modify-write rather than plain stores: a core's store buffer
    // would otherwise soak up many stores per visit of the line and hide most
    // of the ping-pong.
    volatile char* v = p;
    std::size_t j = 0;
    for (std::uint64_t w = 0; w < c.writes; ++w) {
      v[j] = static_cast<char>(v[j] + 1);
      if (++j == c.size) j = 0;
    }
    last = reinterpret_cast<std::uintptr_t>(p);
    std::free(p);
  }
}

}  // namespace

int main(int argc, char** argv) {
  family::Cli cli(argc, argv, kProg, kUsage);
  Config c;
  c.threads = static_cast<int>(cli.u64("--threads", 2, 1, 1024));
  c.iters = cli.u64("--iters", 500000, 1, 1ull << 40);
  c.writes = cli.u64("--writes", 1000, 1, 1ull << 40);
  c.size = cli.u64("--size", 8, 1, 1 << 20);
  cli.finish();

  std::vector<char*> given(c.threads);
  for (char*& p : given) {
    p = static_cast<char*>(std::malloc(c.size));
    if (p == nullptr) family::die(kProg, "malloc(%zu) failed", c.size);
    p[0] = 1;
  }
  Start start;
  std::vector<std::thread> threads;
  std::vector<std::uintptr_t> last(c.threads);
  for (int t = 0; t < c.threads; ++t) {
    threads.emplace_back(worker, std::cref(c), given[t], std::ref(start), std::ref(last[t]));
  }
  while (start.ready.load(std::memory_order_acquire) < c.threads) std::this_thread::yield();
  const auto t0 = std::chrono::steady_clock::now();
  start.go.store(true, std::memory_order_release);
  for (auto& th : threads) th.join();
  const double secs = family::seconds_since(t0);

  // Explains a slow run without a profiler: how many threads' last blocks
  // share a 64-byte line with another thread's.
  int shared = 0;
  for (int t = 0; t < c.threads; ++t) {
    for (int u = 0; u < c.threads; ++u) {
      if (u != t && (last[t] >> 6) == (last[u] >> 6)) {
        ++shared;
        break;
      }
    }
  }
  const double writes = static_cast<double>(c.iters) * static_cast<double>(c.writes) * c.threads;
  family::g_sink = c.iters;
  std::printf(
      "family_cache_scratch threads=%d iters=%llu writes=%llu size=%zu time_s=%.6f rate=%.0f "
      "shared_line_threads=%d peak_rss_kib=%ld\n",
      c.threads, static_cast<unsigned long long>(c.iters), static_cast<unsigned long long>(c.writes), c.size,
      secs, writes / secs, shared, family::peak_rss_kib());
  return 0;
}
