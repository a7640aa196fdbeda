// family_xmalloc: blocks allocated on one thread and freed on another, in
// batches (the shape of the xmalloc-test benchmark).
//
//   family_xmalloc [--threads T] [--ops N] [--size B] [--batch K] [--queue Q] [--split]
//
// Defaults: T 2, N 5000000 blocks per thread, B 64 bytes, K 64 blocks per
// batch, Q 16 batches per queue. (N 5000000: glibc takes ~1.5-4 s, depending
// on the load, on the 2-core VM the benchmarks were tuned on.)
//
// Thread i (0 <= i < T; thread 0 is the main thread) mallocs N blocks of B
// bytes, stores an 8-byte value in the first 8 bytes of each, and hands them,
// K at a time, to thread (i + 1) % T through a single-producer single-consumer
// ring of Q batches (atomic head/tail; thread i is its only producer and
// thread i + 1 its only consumer). After each batch it hands over (and while
// its outgoing ring is full, yielding if there is nothing to do), thread i
// empties its own incoming ring: it reads the first 8 bytes of every block
// into a checksum and frees it. Once it has made its N blocks it closes its
// outgoing ring and keeps emptying its incoming ring until that one is closed
// and empty. With T = 1 the thread's ring is its own: it frees its own blocks,
// and nothing crosses threads.
//
// --split (the shape of xmalloc-test itself: pure producers, pure consumers):
// threads 0 .. T/2-1 only malloc, each into the ring of its partner thread
// i + T/2, which only frees (T must be even; N blocks per producer). A
// consumer never allocates, so every free is remote and the producer's
// pages are refilled only by blocks coming back from the other thread.
//
// There is no randomness. The timed region runs from releasing the (already
// started) threads to the last join; the rings are allocated before it. The
// checksum of what was written must equal that of what was read, else it exits
// 1. Output, one line on stdout:
//   family_xmalloc threads=T ops=N size=B batch=K queue=Q split=0|1 frees=F time_s=S rate=R peak_rss_kib=P
// where F = T * N frees (T/2 * N with --split) and R = F / S (frees per second).

#include <algorithm>
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

constexpr const char* kProg = "family_xmalloc";
constexpr const char* kUsage =
    "usage: family_xmalloc [--threads T] [--ops N] [--size B] [--batch K] [--queue Q]\n"
    "  T threads (default 2); each mallocs N blocks (default 5000000) of B bytes (default 64),\n"
    "  writes their first 8 bytes and hands them K per batch (default 64) through a ring of\n"
    "  Q batches (default 16) to thread (i+1)%T, which reads and frees them.\n"
    "  --split: threads 0..T/2-1 only malloc, threads T/2..T-1 only free (T even).\n"
    "  Prints: family_xmalloc ... frees=F time_s=S rate=R(frees/s) peak_rss_kib=P\n";

struct Config {
  int threads;
  std::uint64_t ops;
  std::size_t size;
  std::uint32_t batch;
  std::uint32_t queue;
  bool split;
};

// Each hot field on its own cache line: the producer's tail and the consumer's
// head would otherwise bounce one line between the two threads on every batch.
struct Ring {
  alignas(64) std::atomic<std::uint64_t> head{0};  // batches consumed; written by the consumer
  alignas(64) std::atomic<std::uint64_t> tail{0};  // batches published; written by the producer
  alignas(64) std::atomic<bool> closed{false};     // the producer has published everything
  std::uint32_t* counts = nullptr;                 // blocks in each batch slot
  void** blocks = nullptr;                         // queue * batch pointers
};

struct alignas(64) Thread {  // its own cache line: each thread updates its counters on every block
  Ring* out = nullptr;
  Ring* in = nullptr;
  std::uint64_t written = 0;  // checksum of the values stored
  std::uint64_t read = 0;     // checksum of the values found before the free
  std::uint64_t freed = 0;
};

struct Start {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
};

// Frees everything published on `in` so far; returns the number of batches.
std::uint64_t drain(const Config& c, Ring& in, Thread& me) {
  std::uint64_t head = in.head.load(std::memory_order_relaxed);
  const std::uint64_t tail = in.tail.load(std::memory_order_acquire);
  const std::uint64_t got = tail - head;
  for (; head != tail; ++head) {
    const std::uint64_t slot = head % c.queue;
    void** batch = in.blocks + slot * c.batch;
    const std::uint32_t n = in.counts[slot];
    for (std::uint32_t j = 0; j < n; ++j) {
      std::uint64_t v;
      std::memcpy(&v, batch[j], sizeof v);
      me.read += v;
      std::free(batch[j]);
    }
    me.freed += n;
    // Per batch, not once at the end: the producer may be waiting for room.
    in.head.store(head + 1, std::memory_order_release);
  }
  return got;
}

// --split's consumer: frees what its producer publishes until it is done.
void consume(const Config& c, Thread& me) {
  Ring& in = *me.in;
  for (;;) {
    const bool closed = in.closed.load(std::memory_order_acquire);
    const std::uint64_t got = drain(c, in, me);
    if (closed) return;
    if (got == 0) std::this_thread::yield();
  }
}

void run(const Config& c, int t, Thread& me) {
  if (me.out == nullptr) return consume(c, me);
  Ring& out = *me.out;
  Ring* const in = me.in;  // nullptr: a --split producer frees nothing
  std::uint64_t made = 0;
  while (made < c.ops) {
    const std::uint64_t tail = out.tail.load(std::memory_order_relaxed);
    if (tail - out.head.load(std::memory_order_acquire) >= c.queue) {
      // Full: the consumer is behind. Emptying our own ring first is what keeps
      // a cycle of full rings (and the T = 1 case) from deadlocking.
      if (in == nullptr || drain(c, *in, me) == 0) std::this_thread::yield();
      continue;
    }
    const std::uint64_t slot = tail % c.queue;
    void** batch = out.blocks + slot * c.batch;
    const std::uint32_t n = static_cast<std::uint32_t>(std::min<std::uint64_t>(c.batch, c.ops - made));
    for (std::uint32_t j = 0; j < n; ++j) {
      void* p = std::malloc(c.size);
      if (p == nullptr) family::die(kProg, "malloc(%zu) failed", c.size);
      const std::uint64_t v = (made + j) * 0x9E3779B97F4A7C15ull + static_cast<std::uint64_t>(t);
      std::memcpy(p, &v, sizeof v);
      me.written += v;
      batch[j] = p;
    }
    out.counts[slot] = n;
    out.tail.store(tail + 1, std::memory_order_release);
    made += n;
    if (in != nullptr) drain(c, *in, me);
  }
  out.closed.store(true, std::memory_order_release);
  if (in == nullptr) return;
  for (;;) {
    // Everything published before `closed` was set is visible to the drain
    // that follows the load that saw it.
    const bool closed = in->closed.load(std::memory_order_acquire);
    const std::uint64_t got = drain(c, *in, me);
    if (closed) break;
    if (got == 0) std::this_thread::yield();
  }
}

void worker(const Config& c, int t, Thread& me, Start& start) {
  start.ready.fetch_add(1, std::memory_order_release);
  while (!start.go.load(std::memory_order_acquire)) std::this_thread::yield();
  run(c, t, me);
}

}  // namespace

int main(int argc, char** argv) {
  family::Cli cli(argc, argv, kProg, kUsage);
  Config c;
  c.threads = static_cast<int>(cli.u64("--threads", 2, 1, 1024));
  c.ops = cli.u64("--ops", 5000000, 1, 1ull << 40);
  c.size = cli.u64("--size", 64, 8, 1ull << 30);
  c.batch = static_cast<std::uint32_t>(cli.u64("--batch", 64, 1, 1 << 20));
  c.queue = static_cast<std::uint32_t>(cli.u64("--queue", 16, 1, 1 << 20));
  c.split = cli.flag("--split");
  cli.finish();
  if (c.split && c.threads % 2 != 0) family::die(kProg, "--split needs an even --threads, not %d", c.threads);

  const int n = c.threads;
  std::vector<Ring> rings(n);
  std::vector<std::uint32_t> counts(static_cast<std::size_t>(n) * c.queue);
  std::vector<void*> blocks(static_cast<std::size_t>(n) * c.queue * c.batch);
  std::vector<Thread> state(n);
  for (int i = 0; i < n; ++i) {
    rings[i].counts = counts.data() + static_cast<std::size_t>(i) * c.queue;
    rings[i].blocks = blocks.data() + static_cast<std::size_t>(i) * c.queue * c.batch;
  }
  for (int i = 0; i < n; ++i) {
    if (c.split) {
      const bool producer = i < n / 2;
      state[i].out = producer ? &rings[i + n / 2] : nullptr;
      state[i].in = producer ? nullptr : &rings[i];
    } else {
      state[i].out = &rings[(i + 1) % n];
      state[i].in = &rings[i];
    }
  }

  Start start;
  std::vector<std::thread> threads;
  for (int t = 1; t < n; ++t)
    threads.emplace_back(worker, std::cref(c), t, std::ref(state[t]), std::ref(start));
  while (start.ready.load(std::memory_order_acquire) < n - 1) std::this_thread::yield();
  const auto t0 = std::chrono::steady_clock::now();
  start.go.store(true, std::memory_order_release);
  run(c, 0, state[0]);
  for (auto& th : threads) th.join();
  const double secs = family::seconds_since(t0);

  std::uint64_t written = 0, read = 0, freed = 0;
  for (const Thread& s : state) {
    written += s.written;
    read += s.read;
    freed += s.freed;
  }
  const std::uint64_t want = c.ops * static_cast<std::uint64_t>(c.split ? n / 2 : n);
  if (written != read || freed != want) {
    family::die(kProg, "checksum mismatch: freed %llu of %llu blocks, wrote %llx, read %llx",
                static_cast<unsigned long long>(freed), static_cast<unsigned long long>(want),
                static_cast<unsigned long long>(written), static_cast<unsigned long long>(read));
  }
  family::g_sink = read;
  std::printf(
      "family_xmalloc threads=%d ops=%llu size=%zu batch=%u queue=%u split=%d frees=%llu time_s=%.6f "
      "rate=%.0f "
      "peak_rss_kib=%ld\n",
      n, static_cast<unsigned long long>(c.ops), c.size, c.batch, c.queue, c.split ? 1 : 0,
      static_cast<unsigned long long>(freed), secs, static_cast<double>(freed) / secs,
      family::peak_rss_kib());
  return 0;
}
