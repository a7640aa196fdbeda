// exec_busy_work: the reference executor benchmark (docs/BENCHMARKS.md, issue 4), with TBB
// and OpenMP beside iso::parallel_for in the same program.
//
// Item i of a batch of n computes out[i] = busy_work(i + offset, iters):
//   acc = (int32)x; repeat iters: acc = (acc * 7 + 13) % 997   (wrapping int32)
// with iters 512 ("heavy", ~2.4 µs here) or 8 ("light", ~15 ns). Every
// iteration's output is summed outside the timed region and checked against a
// closed form: busy_work(x) depends on x mod 997 only (x*7+13 never wraps for
// these x), so the sum is a 997-entry table times how often each residue
// occurs. The offset alternates between 0 and 1, so an item left unwritten
// keeps the other offset's value and (almost surely) breaks the sum. Timing is
// manual, around the loop only.
//
// Names: <body>/<variant>/<n>[/<chunk>]
//   seq_direct     plain loop                runtime_seq   ThreadPool(1), automatic
//   dyn            parallel_for_dyn, fixed(1) fnptr         parallel_for, fixed(1)
//   sweep_dyn/C    parallel_for_dyn, fixed(C) sweep_fnptr/C parallel_for, fixed(C)
//   auto_chunked   parallel_for, automatic   cursor_*      the same on the shared-cursor schedule
//   tbb_auto, tbb_static    tbb::parallel_for, auto_partitioner / static_partitioner
//   omp_static, omp_guided  #pragma omp parallel for schedule(static) / schedule(guided)
// dispatch/<variant>/2: a loop over 2 items whose body stores one int (the
// cost of a call; dispatch/clock_pair/2 is two clock reads instead); small/<variant>/<n>: light batches
// around the inline limit. bench/exec/run_exec_bench.py runs the groups interleaved and prints medians.
#include <benchmark/benchmark.h>
#include <omp.h>
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/partitioner.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "exec/variants.h"
#include "isolate/exec.h"

namespace {

constexpr int kHeavy = 512;
constexpr int kLight = 8;
constexpr std::int32_t kModulus = 997;

inline std::int32_t busy_work(std::int32_t x, int iters) {
  std::int32_t acc = x;
  for (int k = 0; k < iters; ++k) {
    acc = static_cast<std::int32_t>(static_cast<std::uint32_t>(acc) * 7u + 13u) % kModulus;
  }
  return acc;
}

// Σ busy_work(i + offset) for i in [0, n), from the residues mod 997.
std::int64_t expected_sum(std::size_t n, std::size_t offset, int iters) {
  std::array<std::int64_t, kModulus> table{};
  for (std::int32_t r = 0; r < kModulus; ++r) table[static_cast<std::size_t>(r)] = busy_work(r, iters);
  const std::size_t m = kModulus;
  std::int64_t sum = 0;
  for (std::size_t r = 0; r < m; ++r) {
    // i in [0, n) with (i + offset) % m == r: i = (r - offset) mod m, + k*m.
    const std::size_t first = (r + m - offset % m) % m;
    const std::size_t count = first < n ? (n - first - 1) / m + 1 : 0;
    sum += table[r] * static_cast<std::int64_t>(count);
  }
  return sum;
}

struct Batch {
  std::vector<std::int32_t> out;
  std::array<std::int64_t, 2> expected{};
  explicit Batch(std::size_t n, int iters) : out(n) {
    expected = {expected_sum(n, 0, iters), expected_sum(n, 1, iters)};
  }
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Runs `loop(out, n, offset)` timed, checks each result.
template <int Iters, class Loop>
void measure(benchmark::State& state, std::size_t n, Loop loop) {
  Batch batch(n, Iters);
  std::int32_t* out = batch.out.data();
  loop(out, n, 0);  // untimed: thread start, learning the call site
  std::size_t offset = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    loop(out, n, offset);
    state.SetIterationTime(seconds_since(t0));
    std::int64_t sum = 0;
    for (std::size_t i = 0; i < n; ++i) sum += out[i];
    if (sum != batch.expected[offset]) {
      state.SkipWithError("wrong sum: an item was skipped or repeated");
      break;
    }
    offset ^= 1;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

// One process-wide pool per schedule, like a program's default pool.
iso::ThreadPool& cursor_pool() {
  static const std::unique_ptr<iso::ThreadPool> pool =
      iso::exec_detail::make_pool(0, iso::exec_detail::Schedule::shared_cursor);
  return *pool;
}
iso::ThreadPool& single_pool() {
  static iso::ThreadPool pool(1);
  return pool;
}

// The loop bodies, each its own lambda type (so its own call site).
template <int Iters>
struct Variants {
  static void seq_direct(std::int32_t* out, std::size_t n, std::size_t off) {
    for (std::size_t i = 0; i < n; ++i) out[i] = busy_work(static_cast<std::int32_t>(i + off), Iters);
  }
  static void runtime_seq(std::int32_t* out, std::size_t n, std::size_t off) {
    single_pool().parallel_for(
        0, n, [=](std::size_t i) { out[i] = busy_work(static_cast<std::int32_t>(i + off), Iters); });
  }
  static void fnptr(std::int32_t* out, std::size_t n, std::size_t off, iso::Chunking chunking) {
    iso::parallel_for(
        0, n, [=](std::size_t i) { out[i] = busy_work(static_cast<std::int32_t>(i + off), Iters); },
        chunking);
  }
  static void dyn(std::int32_t* out, std::size_t n, std::size_t off, iso::Chunking chunking) {
    const std::function<void(std::size_t)> body = [=](std::size_t i) {
      out[i] = busy_work(static_cast<std::int32_t>(i + off), Iters);
    };
    iso::exec_detail::parallel_for_dyn(0, n, body, chunking);
  }
  static void auto_chunked(std::int32_t* out, std::size_t n, std::size_t off) {
    iso::parallel_for(0, n,
                      [=](std::size_t i) { out[i] = busy_work(static_cast<std::int32_t>(i + off), Iters); });
  }
  static void cursor(std::int32_t* out, std::size_t n, std::size_t off, iso::Chunking chunking) {
    cursor_pool().parallel_for(
        0, n, [=](std::size_t i) { out[i] = busy_work(static_cast<std::int32_t>(i + off), Iters); },
        chunking);
  }
  static void tbb_auto(std::int32_t* out, std::size_t n, std::size_t off) {
    tbb::parallel_for(
        tbb::blocked_range<std::size_t>(0, n),
        [=](const tbb::blocked_range<std::size_t>& r) {
          for (std::size_t i = r.begin(); i < r.end(); ++i) {
            out[i] = busy_work(static_cast<std::int32_t>(i + off), Iters);
          }
        },
        tbb::auto_partitioner());
  }
  static void tbb_static(std::int32_t* out, std::size_t n, std::size_t off) {
    tbb::parallel_for(
        tbb::blocked_range<std::size_t>(0, n),
        [=](const tbb::blocked_range<std::size_t>& r) {
          for (std::size_t i = r.begin(); i < r.end(); ++i) {
            out[i] = busy_work(static_cast<std::int32_t>(i + off), Iters);
          }
        },
        tbb::static_partitioner());
  }
  static void omp_static(std::int32_t* out, std::size_t n, std::size_t off) {
    const auto count = static_cast<std::int64_t>(n);
#pragma omp parallel for schedule(static)
    for (std::int64_t i = 0; i < count; ++i) {
      out[i] = busy_work(static_cast<std::int32_t>(static_cast<std::size_t>(i) + off), Iters);
    }
  }
  static void omp_guided(std::int32_t* out, std::size_t n, std::size_t off) {
    const auto count = static_cast<std::int64_t>(n);
#pragma omp parallel for schedule(guided)
    for (std::int64_t i = 0; i < count; ++i) {
      out[i] = busy_work(static_cast<std::int32_t>(static_cast<std::size_t>(i) + off), Iters);
    }
  }
};

// Names by appending only: GCC 12 at -O3 warns falsely (-Wrestrict, GCC bug
// 105329) on `"literal" + std::string`.
std::string join(std::initializer_list<std::string_view> parts) {
  std::string s;
  for (std::string_view p : parts) s.append(p);
  return s;
}

template <class F>
void add(const std::string& name, F f) {
  benchmark::RegisterBenchmark(name.c_str(), f)->UseManualTime()->Unit(benchmark::kMicrosecond);
}

template <int Iters>
void register_body(const char* body) {
  using V = Variants<Iters>;
  for (std::size_t n : {10000, 50000, 100000}) {
    const std::string count = std::to_string(n);
    auto name = [&](const char* variant) { return join({body, "/", variant, "/", count}); };
    add(name("seq_direct"), [n](benchmark::State& s) { measure<Iters>(s, n, V::seq_direct); });
    add(name("runtime_seq"), [n](benchmark::State& s) { measure<Iters>(s, n, V::runtime_seq); });
    add(name("dyn"), [n](benchmark::State& s) {
      measure<Iters>(s, n, [](auto* o, auto k, auto off) { V::dyn(o, k, off, iso::Chunking::fixed(1)); });
    });
    add(name("fnptr"), [n](benchmark::State& s) {
      measure<Iters>(s, n, [](auto* o, auto k, auto off) { V::fnptr(o, k, off, iso::Chunking::fixed(1)); });
    });
    add(name("auto_chunked"), [n](benchmark::State& s) { measure<Iters>(s, n, V::auto_chunked); });
    for (std::size_t chunk : {250, 500, 1000, 2000, 4000}) {
      const std::string c = std::to_string(chunk);
      add(join({name("sweep_fnptr"), "/", c}), [n, chunk](benchmark::State& s) {
        measure<Iters>(
            s, n, [chunk](auto* o, auto k, auto off) { V::fnptr(o, k, off, iso::Chunking::fixed(chunk)); });
      });
      add(join({name("sweep_dyn"), "/", c}), [n, chunk](benchmark::State& s) {
        measure<Iters>(
            s, n, [chunk](auto* o, auto k, auto off) { V::dyn(o, k, off, iso::Chunking::fixed(chunk)); });
      });
    }
    add(name("cursor_auto"), [n](benchmark::State& s) {
      measure<Iters>(s, n,
                     [](auto* o, auto k, auto off) { V::cursor(o, k, off, iso::Chunking::automatic()); });
    });
    add(name("cursor_fnptr"), [n](benchmark::State& s) {
      measure<Iters>(s, n, [](auto* o, auto k, auto off) { V::cursor(o, k, off, iso::Chunking::fixed(1)); });
    });
    add(join({name("cursor_sweep_fnptr"), "/250"}), [n](benchmark::State& s) {
      measure<Iters>(s, n,
                     [](auto* o, auto k, auto off) { V::cursor(o, k, off, iso::Chunking::fixed(250)); });
    });
    add(name("tbb_auto"), [n](benchmark::State& s) { measure<Iters>(s, n, V::tbb_auto); });
    add(name("tbb_static"), [n](benchmark::State& s) { measure<Iters>(s, n, V::tbb_static); });
    add(name("omp_static"), [n](benchmark::State& s) { measure<Iters>(s, n, V::omp_static); });
    add(name("omp_guided"), [n](benchmark::State& s) { measure<Iters>(s, n, V::omp_guided); });
  }
}

// The cost of one call: 2 items, each storing one int; kCalls calls per timed
// iteration, so the clock's own cost is spread out (per call: time / kCalls).
constexpr int kCalls = 256;

template <class Call>
void dispatch(benchmark::State& state, Call call) {
  std::array<std::int32_t, 2> out{};
  call(out.data());
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int k = 0; k < kCalls; ++k) call(out.data());
    state.SetIterationTime(seconds_since(t0));
    if (out[0] + out[1] != 3) {
      state.SkipWithError("wrong result");
      break;
    }
  }
  state.counters["calls_per_iteration"] = kCalls;
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kCalls);
}

void register_dispatch() {
  add("dispatch/seq_direct/2", [](benchmark::State& s) {
    dispatch(s, [](std::int32_t* out) {
      for (std::size_t i = 0; i < 2; ++i) out[i] = static_cast<std::int32_t>(i + 1);
      benchmark::ClobberMemory();
    });
  });
  // The two clock reads a measuring call makes (none in the lite build).
  add("dispatch/clock_pair/2", [](benchmark::State& s) {
    dispatch(s, [](std::int32_t* out) {
      const auto t0 = std::chrono::steady_clock::now();
      const auto t1 = std::chrono::steady_clock::now();
      out[0] = 1;
      out[1] = t1 < t0 ? 0 : 2;
    });
  });
  add("dispatch/auto_chunked/2", [](benchmark::State& s) {
    dispatch(s, [](std::int32_t* out) {
      iso::parallel_for(0, 2, [out](std::size_t i) { out[i] = static_cast<std::int32_t>(i + 1); });
    });
  });
  add("dispatch/fnptr/2", [](benchmark::State& s) {  // forced through the threads
    dispatch(s, [](std::int32_t* out) {
      iso::parallel_for(
          0, 2, [out](std::size_t i) { out[i] = static_cast<std::int32_t>(i + 1); }, iso::Chunking::fixed(1));
    });
  });
  add("dispatch/tbb_auto/2", [](benchmark::State& s) {
    dispatch(s, [](std::int32_t* out) {
      tbb::parallel_for(
          tbb::blocked_range<std::size_t>(0, 2),
          [out](const tbb::blocked_range<std::size_t>& r) {
            for (std::size_t i = r.begin(); i < r.end(); ++i) out[i] = static_cast<std::int32_t>(i + 1);
          },
          tbb::auto_partitioner());
    });
  });
  add("dispatch/omp_static/2", [](benchmark::State& s) {
    dispatch(s, [](std::int32_t* out) {
#pragma omp parallel for schedule(static)
      for (int i = 0; i < 2; ++i) out[i] = i + 1;
    });
  });
}

// Light batches around the inline limit: automatic chunking against the plain loop.
void register_small() {
  using V = Variants<kLight>;
  for (std::size_t n : {64, 256, 1024, 4096}) {
    const std::string count = std::to_string(n);
    add(join({"small/seq_direct/", count}),
        [n](benchmark::State& s) { measure<kLight>(s, n, V::seq_direct); });
    add(join({"small/auto_chunked/", count}),
        [n](benchmark::State& s) { measure<kLight>(s, n, V::auto_chunked); });
    add(join({"small/tbb_auto/", count}), [n](benchmark::State& s) { measure<kLight>(s, n, V::tbb_auto); });
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_body<kHeavy>("heavy");
  register_body<kLight>("light");
  register_dispatch();
  register_small();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("pool_threads", std::to_string(iso::default_pool().size()));
  benchmark::AddCustomContext("omp_threads", std::to_string(omp_get_max_threads()));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
