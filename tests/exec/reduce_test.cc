// parallel_reduce: the sequential fold for associative operations (also
// non-commutative ones), and one result per item count for any operation.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "exec/variants.h"
#include "isolate/exec.h"

namespace {

using iso::Chunking;
using iso::ThreadPool;
using iso::exec_detail::Schedule;

// 2x2 matrices mod a prime: associative, not commutative.
struct Mat {
  std::uint64_t a, b, c, d;
  bool operator==(const Mat&) const = default;
};
constexpr std::uint64_t kP = 1000000007;
Mat mul(const Mat& x, const Mat& y) {
  return {(x.a * y.a + x.b * y.c) % kP, (x.a * y.b + x.b * y.d) % kP, (x.c * y.a + x.d * y.c) % kP,
          (x.c * y.b + x.d * y.d) % kP};
}
Mat mat_of(std::size_t i) {
  return {i % 7 + 1, i % 5, i % 3, i % 11 + 2};
}

TEST(Reduce, SumsAndEmptyRanges) {
  ThreadPool pool(3);
  EXPECT_EQ(pool.parallel_reduce(
                5, 5, 42, [](std::size_t) { return 1; }, std::plus<>()),
            42);
  EXPECT_EQ(pool.parallel_reduce(
                5, 6, 0L, [](std::size_t i) { return static_cast<long>(i); }, std::plus<>()),
            5);
  for (std::size_t n : {2, 15, 16, 17, 1000, 65537, 1000003}) {
    const auto sum = pool.parallel_reduce(
        0, n, std::uint64_t{0}, [](std::size_t i) { return std::uint64_t{i}; }, std::plus<>());
    EXPECT_EQ(sum, std::uint64_t{n} * (n - 1) / 2) << n;
  }
}

TEST(Reduce, NonCommutativeMatchesTheSequentialFold) {
  const Mat identity{1, 0, 0, 1};
  for (std::size_t n : {1, 17, 100, 5000, 70001}) {
    Mat expected = identity;
    for (std::size_t i = 0; i < n; ++i) expected = mul(expected, mat_of(i));
    for (std::size_t threads : {1, 2, 4}) {
      ThreadPool pool(threads);
      for (Chunking chunking : {Chunking::automatic(), Chunking::fixed(1), Chunking::fixed(3)}) {
        EXPECT_EQ(pool.parallel_reduce(0, n, identity, mat_of, mul, chunking), expected)
            << n << " items, " << threads << " threads";
      }
    }
  }
}

TEST(Reduce, StringConcatenationKeepsOrder) {
  ThreadPool pool(3);
  const std::string s = pool.parallel_reduce(
      0, 500, std::string(), [](std::size_t i) { return std::to_string(i % 10); },
      [](std::string a, const std::string& b) { return a + b; });
  std::string expected;
  for (int i = 0; i < 500; ++i) expected += std::to_string(i % 10);
  EXPECT_EQ(s, expected);
}

// Floating-point addition is not associative: the result must still be the
// same bits whatever the threads, schedule and chunking.
TEST(Reduce, FloatingPointIsDeterministic) {
  constexpr std::size_t n = 123457;
  auto term = [](std::size_t i) { return 1.0 / (1.0 + static_cast<double>(i) * 0.37); };
  ThreadPool reference_pool(1);
  const double reference = reference_pool.parallel_reduce(0, n, 0.0, term, std::plus<>());
  for (std::size_t threads : {2, 3, 8}) {
    for (Schedule schedule : {Schedule::stealing, Schedule::shared_cursor}) {
      const auto owned_pool = iso::exec_detail::make_pool(threads, schedule);
      ThreadPool& pool = *owned_pool;
      for (Chunking chunking : {Chunking::automatic(), Chunking::fixed(1), Chunking::fixed(10)}) {
        for (int round = 0; round < 3; ++round) {
          const double r = pool.parallel_reduce(0, n, 0.0, term, std::plus<>(), chunking);
          EXPECT_EQ(std::memcmp(&r, &reference, sizeof r), 0) << r << " vs " << reference;
        }
      }
    }
  }
}

TEST(Reduce, BoolsAndSmallTypesDoNotShareWords) {
  ThreadPool pool(4);
  for (int round = 0; round < 10; ++round) {
    const bool all = pool.parallel_reduce(
        0, 50000, true, [](std::size_t i) { return i < 60000; }, [](bool a, bool b) { return a && b; },
        Chunking::fixed(1));
    EXPECT_TRUE(all);
    const bool none = pool.parallel_reduce(
        0, 50000, false, [](std::size_t i) { return i == 49999; }, [](bool a, bool b) { return a || b; },
        Chunking::fixed(1));
    EXPECT_TRUE(none);
  }
}

}  // namespace
