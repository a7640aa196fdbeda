// The lite build (ISO_EXEC_LITE): automatic chunking measures nothing and
// cuts a batch into 8 chunks per thread, and no batch runs inline. Linked
// with the coverage, behaviour and reduce tests into exec_lite_test.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "isolate/exec.h"

#if !defined(ISO_EXEC_LITE)
#error "lite_test.cc is built against isolate_exec_lite only"
#endif

namespace {

TEST(Lite, EightEqualChunksPerThread) {
  iso::ThreadPool pool(3);
  for (std::size_t n : {std::size_t{24}, std::size_t{2400}, std::size_t{100001}}) {
    std::mutex mu;
    std::vector<std::pair<std::size_t, std::size_t>> seen;
    pool.parallel_for_chunks(0, n, [&](std::size_t first, std::size_t last) {
      const std::lock_guard lock(mu);
      seen.emplace_back(first, last);
    });
    std::sort(seen.begin(), seen.end());
    const std::size_t chunk = (n + 23) / 24;
    ASSERT_EQ(seen.size(), (n + chunk - 1) / chunk) << n;
    for (std::size_t k = 0; k < seen.size(); ++k) {
      EXPECT_EQ(seen[k].first, k * chunk) << n;
      EXPECT_EQ(seen[k].second, std::min(n, (k + 1) * chunk)) << n;
    }
  }
}

// Nothing learns that a batch is small: a batch of 2 items on 2 threads is
// cut in two, whoever runs each half. (The measuring build runs it inline.)
TEST(Lite, SmallBatchesAreCutToo) {
  iso::ThreadPool pool(2);
  for (int round = 0; round < 20; ++round) {
    std::atomic<int> calls{0};
    pool.parallel_for_chunks(0, 2, [&](std::size_t first, std::size_t last) {
      EXPECT_EQ(last, first + 1);
      calls.fetch_add(1);
    });
    EXPECT_EQ(calls.load(), 2);
  }
}

}  // namespace
