// Automatic chunking. The per-item cost t of a call site is measured on its
// first items (a probe of doubling batches until 2 µs have been timed), then
// refreshed on every call from the first chunk the calling thread runs (a
// moving average, see learn_cost). From t, a batch of n
// items on P threads:
//   - runs inline when n·t is under kInlineNs: waking threads would cost more
//     than they save;
//   - else uses chunks of c = sqrt(2·n·o / (P·t)) items, o the cost of one
//     chunk (claim, call, loop set-up). That c minimises the sum of the two
//     losses: n/(c·P)·o of claiming, and ~c·t/2 of the last chunk finishing
//     after the others. Heavy items get small chunks (balance), light ones long
//     chunks (overhead); docs/BENCHMARKS.md has the sweep it was checked on.
#include "chunking.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>

#include "futex.h"

namespace iso::exec_detail {
namespace {

constexpr double kChunkOverheadNs = 50;
constexpr std::uint64_t kInlineNs = 10000;
constexpr std::uint64_t kProbeNs = 2000;
constexpr std::uint64_t kMinSampleNs = 200;

void set_cost(Site& site, std::uint64_t ps) noexcept {
  site.ps_per_item.store(ps, std::memory_order_relaxed);
  site.inline_below.store(static_cast<std::size_t>(kInlineNs * 1000 / ps), std::memory_order_relaxed);
}

void store_cost(Site& site, std::uint64_t ns, std::size_t items) noexcept {
  if (items == 0) return;
  set_cost(site, std::max<std::uint64_t>(1, ns * 1000 / items));
}

// The probe: runs items from `begin` in batches of 1, 2, 4, ... until 2 µs
// have been timed; returns the first item not run. The cost kept is the
// lowest per-item rate of the batches, not their total: one preemption in
// the probe would otherwise make a light site look heavy for its next calls
// (and send batches that should run inline to the threads).
std::size_t probe(const Loop& loop, std::size_t begin, std::size_t end) {
  std::uint64_t ns = 0;
  std::uint64_t best_ps = UINT64_MAX;
  std::size_t batch = 1;
  while (begin < end && ns < kProbeNs) {
    const std::size_t last = end - begin > batch ? begin + batch : end;
    const std::uint64_t t0 = now_ns();
    loop.fn(loop.ctx, begin, last);
    const std::uint64_t took = now_ns() - t0;
    ns += took;
    best_ps = std::min<std::uint64_t>(best_ps, took * 1000 / (last - begin));
    begin = last;
    batch *= 2;
  }
  set_cost(*loop.site, std::max<std::uint64_t>(1, best_ps));
  return begin;
}

// Timed: the templates run most small batches themselves (run_here in
// exec.h) and send one in 16 here.
void run_inline(const Loop& loop, std::size_t begin, std::size_t end) {
  const std::uint64_t t0 = now_ns();
  loop.fn(loop.ctx, begin, end);
  learn_cost(*loop.site, now_ns() - t0, end - begin);
}

}  // namespace

void learn_cost(Site& site, std::uint64_t ns, std::size_t items) noexcept {
  if (items == 0) return;
  const std::uint64_t old = site.ps_per_item.load(std::memory_order_relaxed);
  if (old == 0) return store_cost(site, ns, items);
  if (ns < kMinSampleNs) return;  // mostly the clock's own cost
  // Interruptions (preemption, page faults) only ever lengthen a sample, so
  // a shorter one is trusted more: it gets 3/4 of the weight, a longer 1/4.
  const std::uint64_t sample = std::max<std::uint64_t>(1, ns * 1000 / items);
  set_cost(site, sample < old ? (old + 3 * sample) / 4 : (3 * old + sample) / 4);
}

Plan plan_automatic(const Loop& loop, std::size_t begin, std::size_t end, std::size_t participants) {
  if constexpr (!kLearnsCosts) {
    const std::size_t pieces = 8 * participants;
    return {begin, std::max<std::size_t>(1, (end - begin + pieces - 1) / pieces)};
  }
  if (loop.site->ps_per_item.load(std::memory_order_relaxed) == 0) {
    begin = probe(loop, begin, end);
    if (begin == end) return {end, 0};
  }
  const double ps = static_cast<double>(loop.site->ps_per_item.load(std::memory_order_relaxed));
  const double items = static_cast<double>(end - begin);
  if (end - begin < loop.site->inline_below.load(std::memory_order_relaxed)) {
    run_inline(loop, begin, end);
    return {end, 0};
  }
  const double p = static_cast<double>(participants);
  const double best = std::sqrt(2 * items * kChunkOverheadNs * 1000 / (p * ps));
  const double share = std::ceil(items / p);
  return {begin, static_cast<std::size_t>(std::clamp(std::round(best), 1.0, share))};
}

// Open addressing over a fixed table: a site is never removed, and a program
// has few boxed call sites; past the table they share the last slot.
Site& dyn_site(const std::type_info& callable) noexcept {
  constexpr std::size_t kSlots = 128;
  struct Slot {
    std::atomic<const std::type_info*> key{nullptr};
    Site site;
  };
  static std::array<Slot, kSlots> table;
  static Site overflow;
  std::size_t i = callable.hash_code() % kSlots;
  for (std::size_t probes = 0; probes < kSlots; ++probes, i = (i + 1) % kSlots) {
    const std::type_info* key = table[i].key.load(std::memory_order_acquire);
    if (key == nullptr && table[i].key.compare_exchange_strong(key, &callable, std::memory_order_acq_rel)) {
      return table[i].site;
    }
    if (key != nullptr && *key == callable) return table[i].site;
  }
  return overflow;
}

}  // namespace iso::exec_detail
