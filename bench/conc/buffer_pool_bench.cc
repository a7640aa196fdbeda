// BufferPool acquire + fill + release of a payload, against a fresh
// std::string each time (malloc and free), from 1, 2 and 4 threads, for a
// small payload (malloc's thread cache serves it) and large ones (malloc
// goes to the kernel for them): where the pool pays and what its one mutex
// costs when threads meet on it.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <string>

#include "isolate/conc/buffer_pool.h"

namespace {

void BM_PooledBuffer(benchmark::State& state) {
  static iso::conc::BufferPool pool(64, std::size_t{128} << 20);
  const auto bytes = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the loop variable is the API
    iso::conc::Buffer b = pool.acquire();
    b->append(bytes, 'x');
    benchmark::DoNotOptimize(b->data());
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_FreshString(benchmark::State& state) {
  const auto bytes = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the loop variable is the API
    std::string s;
    s.append(bytes, 'x');
    benchmark::DoNotOptimize(s.data());
  }
  state.SetItemsProcessed(state.iterations());
}

// The same payload sizes and thread counts for both.
void payload_cases(benchmark::internal::Benchmark* b) {
  b->Arg(300)->Arg(64 << 10)->Arg(1 << 20)->Arg(64 << 20)->Threads(1)->Threads(2)->Threads(4)->UseRealTime();
}

BENCHMARK(BM_PooledBuffer)->Name("payload/BufferPool")->Apply(payload_cases);
BENCHMARK(BM_FreshString)->Name("payload/std::string")->Apply(payload_cases);

}  // namespace
