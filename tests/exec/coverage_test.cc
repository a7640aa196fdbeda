// Every entry point, chunking, schedule and pool size runs every index of
// [begin, end) exactly once; ranges are checked; chunk boundaries of fixed(n)
// are exact.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <ostream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "exec/variants.h"
#include "isolate/exec.h"

namespace {

using iso::Chunking;
using iso::ThreadPool;
using iso::exec_detail::Schedule;

// Counts how often each index of [begin, end) was visited.
class Visits {
 public:
  Visits(std::size_t begin, std::size_t end) : begin_(begin), counts_(end - begin) {}
  void hit(std::size_t i) { counts_.at(i - begin_).fetch_add(1, std::memory_order_relaxed); }
  void expect_each_once(const std::string& what) const {
    std::size_t wrong = 0;
    for (std::size_t k = 0; k < counts_.size(); ++k) {
      if (counts_[k].load() != 1 && wrong++ < 3) {
        ADD_FAILURE() << what << ": index " << begin_ + k << " visited " << counts_[k].load() << " times";
      }
    }
    EXPECT_EQ(wrong, 0u) << what;
  }

 private:
  std::size_t begin_;
  std::vector<std::atomic<int>> counts_;
};

enum class Api { items, chunks, dyn, reduce, free_items, free_chunks, free_dyn };

const char* api_name(Api api) {
  switch (api) {
    case Api::items:
      return "parallel_for";
    case Api::chunks:
      return "parallel_for_chunks";
    case Api::dyn:
      return "parallel_for_dyn";
    case Api::reduce:
      return "parallel_reduce";
    case Api::free_items:
      return "iso::parallel_for";
    case Api::free_chunks:
      return "iso::parallel_for_chunks";
    case Api::free_dyn:
      return "iso::parallel_for_dyn";
  }
  return "?";
}

void visit(ThreadPool& pool, Api api, std::size_t begin, std::size_t end, Chunking chunking, Visits& v) {
  auto item = [&v](std::size_t i) { v.hit(i); };
  auto chunk = [&v](std::size_t first, std::size_t last) {
    ASSERT_LT(first, last);
    for (std::size_t i = first; i < last; ++i) v.hit(i);
  };
  switch (api) {
    case Api::items:
      return pool.parallel_for(begin, end, item, chunking);
    case Api::chunks:
      return pool.parallel_for_chunks(begin, end, chunk, chunking);
    case Api::dyn:
      return iso::exec_detail::parallel_for_dyn(pool, begin, end, item, chunking);
    case Api::reduce: {
      const std::size_t sum = pool.parallel_reduce(
          begin, end, std::size_t{0},
          [&v](std::size_t i) {
            v.hit(i);
            return i;
          },
          std::plus<>(), chunking);
      std::size_t expected = 0;
      for (std::size_t i = begin; i < end; ++i) expected += i;
      EXPECT_EQ(sum, expected);
      return;
    }
    case Api::free_items:
      return iso::parallel_for(begin, end, item, chunking);
    case Api::free_chunks:
      return iso::parallel_for_chunks(begin, end, chunk, chunking);
    case Api::free_dyn:
      return iso::exec_detail::parallel_for_dyn(begin, end, item, chunking);
  }
}

struct Case {
  std::size_t threads;
  Schedule schedule;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.threads << " threads, " << (c.schedule == Schedule::stealing ? "stealing" : "shared cursor");
}

class Coverage : public ::testing::TestWithParam<Case> {};

TEST_P(Coverage, EveryIndexExactlyOnce) {
  const auto owned_pool = iso::exec_detail::make_pool(GetParam().threads, GetParam().schedule);
  ThreadPool& pool = *owned_pool;
  EXPECT_EQ(pool.size(), GetParam().threads);
  const std::vector<std::pair<std::size_t, std::size_t>> ranges = {
      {0, 0}, {7, 7}, {0, 1}, {5, 6}, {0, 2}, {3, 20}, {0, 1000}, {123, 10123}, {1, 100003}};
  const std::vector<Chunking> chunkings = {Chunking::automatic(),   Chunking::fixed(1),
                                           Chunking::fixed(7),      Chunking::fixed(1000),
                                           Chunking::fixed(100003), Chunking::fixed(1000000)};
  for (Api api :
       {Api::items, Api::chunks, Api::dyn, Api::reduce, Api::free_items, Api::free_chunks, Api::free_dyn}) {
    for (const auto& [begin, end] : ranges) {
      for (const Chunking& chunking : chunkings) {
        // Twice: the first automatic call at a site probes, the next ones use what it learned.
        for (int round = 0; round < 2; ++round) {
          Visits v(begin, end);
          visit(pool, api, begin, end, chunking, v);
          v.expect_each_once(std::string(api_name(api)) + " [" + std::to_string(begin) + ", " +
                             std::to_string(end) + ") chunk " + std::to_string(chunking.items()));
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Pools, Coverage,
                         ::testing::Values(Case{1, Schedule::stealing}, Case{2, Schedule::stealing},
                                           Case{3, Schedule::stealing}, Case{2, Schedule::shared_cursor},
                                           Case{5, Schedule::shared_cursor}, Case{16, Schedule::stealing}),
                         [](const auto& info) {
                           return std::to_string(info.param.threads) + "threads_" +
                                  (info.param.schedule == Schedule::stealing ? "stealing" : "cursor");
                         });

TEST(Chunks, FixedChunksAreExactWhateverTheSchedule) {
  for (Schedule schedule : {Schedule::stealing, Schedule::shared_cursor}) {
    const auto owned_pool = iso::exec_detail::make_pool(3, schedule);
    ThreadPool& pool = *owned_pool;
    for (std::size_t chunk : {1, 3, 64, 999, 5000}) {
      const std::size_t begin = 11;
      const std::size_t end = 10011;
      std::mutex mu;
      std::vector<std::pair<std::size_t, std::size_t>> seen;
      pool.parallel_for_chunks(
          begin, end,
          [&](std::size_t first, std::size_t last) {
            const std::lock_guard lock(mu);
            seen.emplace_back(first, last);
          },
          Chunking::fixed(chunk));
      std::sort(seen.begin(), seen.end());
      ASSERT_EQ(seen.size(), (end - begin + chunk - 1) / chunk) << "chunk " << chunk;
      for (std::size_t k = 0; k < seen.size(); ++k) {
        EXPECT_EQ(seen[k].first, begin + k * chunk);
        EXPECT_EQ(seen[k].second, std::min(end, begin + (k + 1) * chunk));
      }
    }
  }
}

TEST(Chunks, AutomaticChunksPartitionTheRange) {
  ThreadPool pool(2);
  for (int round = 0; round < 5; ++round) {
    std::mutex mu;
    std::vector<std::pair<std::size_t, std::size_t>> seen;
    pool.parallel_for_chunks(0, 200000, [&](std::size_t first, std::size_t last) {
      volatile std::uint64_t sink = 0;
      for (std::size_t i = first; i < last; ++i) sink = sink + i;
      const std::lock_guard lock(mu);
      seen.emplace_back(first, last);
    });
    std::sort(seen.begin(), seen.end());
    std::size_t next = 0;
    for (const auto& [first, last] : seen) {
      EXPECT_EQ(first, next);
      EXPECT_LT(first, last);
      next = last;
    }
    EXPECT_EQ(next, 200000u);
  }
}

TEST(Ranges, NearTheTopOfSizeT) {
  ThreadPool pool(3);
  const std::size_t end = SIZE_MAX;
  const std::size_t begin = end - 1000;
  for (Chunking chunking : {Chunking::automatic(), Chunking::fixed(1), Chunking::fixed(999)}) {
    Visits v(begin, end);
    pool.parallel_for(
        begin, end, [&](std::size_t i) { v.hit(i); }, chunking);
    v.expect_each_once("near SIZE_MAX");
  }
}

template <class F>
void expect_reversed_range_error(F call, const std::string& api) {
  try {
    call();
    ADD_FAILURE() << api << " accepted begin > end";
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("iso::" + api), std::string::npos) << what;
    EXPECT_NE(what.find("begin (9)"), std::string::npos) << what;
    EXPECT_NE(what.find("end (4)"), std::string::npos) << what;
  }
}

TEST(Ranges, BeginAfterEndIsRejected) {
  ThreadPool pool(2);
  int calls = 0;
  auto item = [&](std::size_t) { ++calls; };
  auto chunk = [&](std::size_t, std::size_t) { ++calls; };
  expect_reversed_range_error([&] { pool.parallel_for(9, 4, item); }, "parallel_for");
  expect_reversed_range_error([&] { pool.parallel_for(9, 4, item, Chunking::fixed(2)); }, "parallel_for");
  expect_reversed_range_error([&] { pool.parallel_for_chunks(9, 4, chunk); }, "parallel_for_chunks");
  expect_reversed_range_error([&] { iso::exec_detail::parallel_for_dyn(pool, 9, 4, item); },
                              "parallel_for_dyn");
  expect_reversed_range_error(
      [&] {
        pool.parallel_reduce(
            9, 4, 0, [](std::size_t i) { return static_cast<int>(i); }, std::plus<>());
      },
      "parallel_reduce");
  expect_reversed_range_error([&] { iso::parallel_for(9, 4, item); }, "parallel_for");
  expect_reversed_range_error([&] { iso::exec_detail::parallel_for_dyn(9, 4, item); }, "parallel_for_dyn");
  ThreadPool single(1);
  expect_reversed_range_error([&] { single.parallel_for(9, 4, item); }, "parallel_for");
  EXPECT_EQ(calls, 0);
}

TEST(Chunking, FixedZeroIsRejected) {
  EXPECT_THROW(Chunking::fixed(0), std::invalid_argument);
  EXPECT_TRUE(Chunking::automatic().is_automatic());
  EXPECT_FALSE(Chunking::fixed(3).is_automatic());
  EXPECT_EQ(Chunking::fixed(3).items(), 3u);
}

// Bodies that are not plain lambdas: a mutable lambda, a functor with a
// non-const call operator, a function pointer, a const functor.
std::atomic<std::size_t> g_fn_sum{0};
void add_to_sum(std::size_t i) {
  g_fn_sum.fetch_add(i, std::memory_order_relaxed);
}

struct Functor {
  std::atomic<std::size_t>* sum;
  void operator()(std::size_t i) { sum->fetch_add(i, std::memory_order_relaxed); }
};

TEST(Bodies, AnyCallable) {
  ThreadPool pool(2);
  constexpr std::size_t n = 5000;
  constexpr std::size_t expected = n * (n - 1) / 2;
  std::atomic<std::size_t> sum{0};
  pool.parallel_for(0, n, [&sum](std::size_t i) mutable { sum.fetch_add(i, std::memory_order_relaxed); });
  EXPECT_EQ(sum.exchange(0), expected);
  Functor f{&sum};
  pool.parallel_for(0, n, f);
  EXPECT_EQ(sum.exchange(0), expected);
  const auto const_body = [&sum](std::size_t i) { sum.fetch_add(i, std::memory_order_relaxed); };
  pool.parallel_for(0, n, const_body, Chunking::fixed(10));
  EXPECT_EQ(sum.exchange(0), expected);
  g_fn_sum = 0;
  pool.parallel_for(0, n, &add_to_sum);
  EXPECT_EQ(g_fn_sum.load(), expected);
  pool.parallel_for(0, n, Functor{&sum});  // a temporary
  EXPECT_EQ(sum.exchange(0), expected);
}

TEST(Bodies, EmptyStdFunctionThrowsBadFunctionCall) {
  ThreadPool pool(2);
  const std::function<void(std::size_t)> empty;
  EXPECT_THROW(iso::exec_detail::parallel_for_dyn(pool, 0, 100, empty), std::bad_function_call);
  iso::exec_detail::parallel_for_dyn(pool, 0, 0, empty);  // nothing to call
}

}  // namespace
