// Counters. Each heap counts its own slow-path events in plain fields (no
// atomics, nothing on the fast paths); a heap that ends adds its counters to
// the retired totals here. ISO_ALLOC_STATS=1 prints the sum at exit.
#include "internal.h"

namespace iso::alloc {

namespace {

std::atomic<uint64_t> g_retired[kStatCount];

constexpr const char* kStatNames[kStatCount] = {
#define ISO_X(name) #name,
    ISO_ALLOC_STAT_LIST(ISO_X)
#undef ISO_X
};

}  // namespace

char* format_u64(char* out, uint64_t v) {
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0) *out++ = tmp[--n];
  return out;
}

char* format_hex(char* out, std::uintptr_t v) {
  *out++ = '0';
  *out++ = 'x';
  int shift = 60;
  while (shift > 0 && ((v >> shift) & 0xF) == 0) shift -= 4;
  for (; shift >= 0; shift -= 4) *out++ = "0123456789abcdef"[(v >> shift) & 0xF];
  return out;
}

void stats_retire_heap(const Stats& s) {
  for (unsigned i = 0; i < kStatCount; ++i) {
    if (s.n[i] != 0) g_retired[i].fetch_add(s.n[i], std::memory_order_relaxed);
  }
}

// Counts an event against the calling thread's heap. A thread without one
// (a consumer that only frees what others allocate) counts into the shared
// totals only when they will be printed (ISO_ALLOC_STATS=1): an atomic add
// per remote free was 14% of such a consumer's time.
void stats_add_current(Stat s, uint64_t n) {
  Heap* h = tls_heap;
  if (h->initialized) {
    h->stats.n[s] += n;
  } else if (g_options.stats) {
    g_retired[s].fetch_add(n, std::memory_order_relaxed);
  }
}

void stats_print_all() {
  Stats total;
  heaps_sum_stats(total);
  for (unsigned i = 0; i < kStatCount; ++i) total.n[i] += g_retired[i].load(std::memory_order_relaxed);
  char buf[2048];
  char* p = buf;
  auto put = [&](const char* s) {
    while (*s != '\0' && p < buf + sizeof buf - 1) *p++ = *s++;
  };
  auto num = [&](uint64_t v) {
    if (p + 24 < buf + sizeof buf) p = format_u64(p, v);
  };
  put("isoalloc: stats");
  for (unsigned i = 0; i < kStatCount; ++i) {
    put(i % 6 == 0 ? "\n  " : " ");
    put(kStatNames[i]);
    put("=");
    num(total.n[i]);
  }
  put("\n  mapped_bytes=");
  num(os_mapped_bytes());
  put(" mapped_peak_bytes=");
  num(os_mapped_peak());
  put("\n");
  os_write_stderr(buf, static_cast<std::size_t>(p - buf));
}

}  // namespace iso::alloc
