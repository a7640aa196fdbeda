// MapPool::next_for and ended(): how `import isolate`'s caller looks for
// answers between its own calls (a zero limit) and waits in slices that
// Ctrl-C can interrupt.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>

#include "isolate/pool.h"

namespace {

using namespace std::chrono_literals;
using iso::pool::Backend;
using iso::pool::MapPool;
using iso::pool::Options;

Options json_dumps_on_one_thread() {
  Options options;
  options.target = "json:dumps";  // the JSON argument, decoded, dumped again: a JSON string of it
  options.backend = Backend::threads;
  options.workers = 1;
  return options;
}

TEST(PoolWait, NextForGivesUpAfterItsLimitAndEndedTellsTheEndApart) {
  static iso::pool::EmbeddedPython python;
  MapPool pool(json_dumps_on_one_thread());
  EXPECT_EQ(pool.next_for(0ns), std::nullopt);  // a look: nothing was submitted
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(pool.next_for(30ms), std::nullopt);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 30ms);
  EXPECT_FALSE(pool.ended());

  pool.submit({{7, "[1, 2]"}});
  std::optional<iso::pool::ResultChunk> answer = pool.next_for(60s);
  ASSERT_TRUE(answer.has_value());
  ASSERT_EQ(answer->size(), 1U);
  EXPECT_EQ((*answer)[0].index, 7U);
  EXPECT_TRUE((*answer)[0].ok);
  EXPECT_EQ((*answer)[0].payload, R"("[1, 2]")");
  EXPECT_FALSE(pool.ended());

  pool.finish();
  EXPECT_TRUE(pool.ended());
  EXPECT_EQ(pool.next_for(60s), std::nullopt);  // at once: nothing more will come
}

}  // namespace
