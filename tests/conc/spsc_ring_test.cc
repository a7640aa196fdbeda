// iso::conc::SpscRing: order, ownership, blocking and closing.
#include "isolate/conc/spsc_ring.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

namespace {

using iso::conc::SpscRing;

// Pushes 0..n-1 from one thread, pops on this one, checks order and a checksum.
template <bool kBlocking>
void transfer_in_order(std::size_t capacity, std::uint64_t n, std::uint32_t spin) {
  SpscRing<std::uint64_t> ring(capacity, spin);
  std::thread producer([&] {
    for (std::uint64_t i = 0; i < n; ++i) {
      if constexpr (kBlocking) {
        ASSERT_TRUE(ring.push(i));
      } else {
        while (!ring.try_push(i)) std::this_thread::yield();
      }
    }
    ring.close();
  });
  std::uint64_t expected = 0;
  std::uint64_t sum = 0;
  for (;;) {
    std::optional<std::uint64_t> v;
    if constexpr (kBlocking) {
      v = ring.pop();
      if (!v) break;
    } else {
      v = ring.try_pop();
      if (!v) {
        if (!ring.closed()) {
          std::this_thread::yield();
          continue;
        }
        v = ring.try_pop();  // everything pushed before close() is visible now
        if (!v) break;
      }
    }
    ASSERT_EQ(*v, expected);
    ++expected;
    sum += *v;
  }
  producer.join();
  EXPECT_EQ(expected, n);
  EXPECT_EQ(sum, n * (n - 1) / 2);
}

TEST(SpscRing, BlockingFifoOfAMillionItemsAcrossTwoThreads) {
  transfer_in_order<true>(1024, (1u << 20) + 17, SpscRing<std::uint64_t>::kDefaultSpin);
}

TEST(SpscRing, WaitFreeFifoAcrossTwoThreads) {
  transfer_in_order<false>(64, 1u << 18, 0);
}

// Capacity 1 and no spinning: nearly every item puts one side to sleep.
TEST(SpscRing, SleepingSidesWakeEachOther) {
  transfer_in_order<true>(1, 5000, 0);
  transfer_in_order<true>(2, 5000, 0);
}

TEST(SpscRing, CapacityIsRoundedUpToAPowerOfTwo) {
  EXPECT_EQ(SpscRing<int>(1).capacity(), 1u);
  EXPECT_EQ(SpscRing<int>(2).capacity(), 2u);
  EXPECT_EQ(SpscRing<int>(3).capacity(), 4u);
  EXPECT_EQ(SpscRing<int>(1000).capacity(), 1024u);
  EXPECT_THROW(SpscRing<int>(0), std::invalid_argument);
  EXPECT_THROW(SpscRing<int>(~std::size_t{0}), std::length_error);
}

TEST(SpscRing, WrapsAroundAtSmallCapacities) {
  for (const std::size_t requested : {1, 2, 3}) {
    SpscRing<int> ring(requested);
    int next_in = 0;
    int next_out = 0;
    for (int round = 0; round < 50; ++round) {
      // Fill to capacity, then drain a varying part of it.
      while (ring.try_push(next_in)) ++next_in;
      EXPECT_EQ(ring.size_approx(), ring.capacity());
      const std::size_t take = 1 + static_cast<std::size_t>(round) % ring.capacity();
      for (std::size_t i = 0; i < take; ++i) {
        const std::optional<int> v = ring.try_pop();
        ASSERT_TRUE(v.has_value());
        EXPECT_EQ(*v, next_out++);
      }
    }
    while (const std::optional<int> v = ring.try_pop()) EXPECT_EQ(*v, next_out++);
    EXPECT_EQ(next_in, next_out);
    EXPECT_GE(next_in, 50) << "requested capacity " << requested;
  }
}

TEST(SpscRing, FullAndEmptyEdges) {
  SpscRing<std::unique_ptr<int>> ring(4);
  EXPECT_EQ(ring.size_approx(), 0u);
  EXPECT_FALSE(ring.try_pop().has_value());
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(ring.try_push(std::make_unique<int>(i)));
  EXPECT_EQ(ring.size_approx(), 4u);

  // A failed push leaves a move-only argument where it was.
  auto extra = std::make_unique<int>(99);
  EXPECT_FALSE(ring.try_push(std::move(extra)));
  // NOLINTNEXTLINE(bugprone-use-after-move,clang-analyzer-cplusplus.Move): not moved from, the point here
  ASSERT_NE(extra, nullptr);
  EXPECT_EQ(*extra, 99);  // NOLINT(bugprone-use-after-move,clang-analyzer-cplusplus.Move)

  std::optional<std::unique_ptr<int>> first = ring.try_pop();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(**first, 0);
  EXPECT_TRUE(ring.try_push(std::move(extra)));
  for (int expected : {1, 2, 3, 99}) {
    std::optional<std::unique_ptr<int>> v = ring.try_pop();
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(**v, expected);
  }
  EXPECT_FALSE(ring.try_pop().has_value());
}

// Single-threaded: if either call blocked, the test would hang.
TEST(SpscRing, TryOperationsNeverBlock) {
  SpscRing<int> ring(2, 1u << 30);
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(ring.try_pop().has_value());
  ASSERT_TRUE(ring.try_push(1));
  ASSERT_TRUE(ring.try_push(2));
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(ring.try_push(3));
}

TEST(SpscRing, MoveOnlyElementsAcrossThreads) {
  constexpr int kItems = 50000;
  SpscRing<std::unique_ptr<int>> ring(64);
  std::thread producer([&] {
    for (int i = 0; i < kItems; ++i) ASSERT_TRUE(ring.push(std::make_unique<int>(i)));
    ring.close();
  });
  int expected = 0;
  while (std::optional<std::unique_ptr<int>> v = ring.pop()) {
    ASSERT_NE(*v, nullptr);
    ASSERT_EQ(**v, expected++);
  }
  producer.join();
  EXPECT_EQ(expected, kItems);
}

// No default constructor, constructed in place from the arguments.
struct Job {
  Job(int id_in, std::string name_in) : id(id_in), name(std::move(name_in)) {}
  int id;
  std::string name;
};

TEST(SpscRing, EmplaceConstructsInPlace) {
  SpscRing<Job> ring(2);
  ASSERT_TRUE(ring.try_emplace(7, "seven"));
  ASSERT_TRUE(ring.emplace(8, "eight"));
  EXPECT_FALSE(ring.try_emplace(9, "nine"));
  const std::optional<Job> a = ring.pop();
  const std::optional<Job> b = ring.pop();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->id, 7);
  EXPECT_EQ(a->name, "seven");
  EXPECT_EQ(b->id, 8);
  EXPECT_EQ(b->name, "eight");
}

TEST(SpscRing, CloseWakesABlockedPop) {
  SpscRing<int> ring(8, 0);  // no spinning: pop() goes straight to sleep
  std::atomic<bool> returned{false};
  std::optional<int> got = 1;
  std::thread consumer([&] {
    got = ring.pop();
    returned = true;
  });
  // Not a timing assertion: only gives pop() the chance to fall asleep first.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(returned.load());
  ring.close();
  consumer.join();
  EXPECT_FALSE(got.has_value());
}

TEST(SpscRing, CloseWakesABlockedPushAndLeavesItsValue) {
  SpscRing<std::unique_ptr<int>> ring(1, 0);
  ASSERT_TRUE(ring.push(std::make_unique<int>(1)));
  auto value = std::make_unique<int>(2);
  std::atomic<bool> returned{false};
  bool pushed = true;
  std::thread producer([&] {
    pushed = ring.push(std::move(value));
    returned = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(returned.load());
  ring.close();
  producer.join();
  EXPECT_FALSE(pushed);
  // NOLINTNEXTLINE(bugprone-use-after-move,clang-analyzer-cplusplus.Move): a failed push keeps it
  ASSERT_NE(value, nullptr);
  EXPECT_EQ(*value, 2);  // NOLINT(bugprone-use-after-move,clang-analyzer-cplusplus.Move)
}

TEST(SpscRing, ClosedRingRefusesPushesAndDrainsThenEnds) {
  SpscRing<int> ring(4);
  ASSERT_TRUE(ring.push(1));
  ASSERT_TRUE(ring.try_push(2));
  ring.close();
  ring.close();  // idempotent
  EXPECT_TRUE(ring.closed());
  EXPECT_FALSE(ring.try_push(3));
  EXPECT_FALSE(ring.push(4));
  EXPECT_EQ(ring.pop(), std::optional<int>(1));
  EXPECT_EQ(ring.try_pop(), std::optional<int>(2));
  EXPECT_EQ(ring.pop(), std::nullopt);
  EXPECT_EQ(ring.pop(), std::nullopt);
}

TEST(SpscRing, ABlockedPopGetsAnItemPushedLater) {
  SpscRing<int> ring(4, 0);
  std::optional<int> got;
  std::thread consumer([&] { got = ring.pop(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(ring.try_push(42));  // the wait-free push wakes the sleeper too
  consumer.join();
  EXPECT_EQ(got, std::optional<int>(42));
}

// Counts live objects and catches a second destruction of the same one.
class Tracked {
 public:
  static inline std::atomic<int> live{0};
  static inline std::atomic<int> double_destroyed{0};

  explicit Tracked(int v) : value_(v) { ++live; }
  Tracked(Tracked&& other) noexcept : value_(other.value_) { ++live; }
  Tracked(const Tracked&) = delete;
  Tracked& operator=(const Tracked&) = delete;
  Tracked& operator=(Tracked&&) = delete;
  ~Tracked() {
    if (state_ != kAlive) ++double_destroyed;
    state_ = kDead;
    --live;
  }
  int value() const { return value_; }

 private:
  static constexpr std::uint32_t kAlive = 0xA11CE;
  static constexpr std::uint32_t kDead = 0xDEAD;
  int value_;
  volatile std::uint32_t state_ = kAlive;
};

TEST(SpscRing, EveryElementIsDestroyedExactlyOnce) {
  Tracked::live = 0;
  Tracked::double_destroyed = 0;
  {
    SpscRing<Tracked> ring(8);
    for (int round = 0; round < 5; ++round) {
      for (int i = 0; i < 6; ++i) ASSERT_TRUE(ring.try_emplace(i));
      for (int i = 0; i < 6; ++i) {
        const std::optional<Tracked> v = ring.try_pop();
        ASSERT_TRUE(v.has_value());
        EXPECT_EQ(v->value(), i);
      }
    }
    EXPECT_EQ(Tracked::live.load(), 0);
    // Left in the ring, across the wrap point: the ring's destructor owns them.
    for (int i = 0; i < 7; ++i) ASSERT_TRUE(ring.try_emplace(i));
    ASSERT_TRUE(ring.try_pop().has_value());
    EXPECT_EQ(Tracked::live.load(), 6);
  }
  EXPECT_EQ(Tracked::live.load(), 0);
  EXPECT_EQ(Tracked::double_destroyed.load(), 0);
}

TEST(SpscRing, ElementsDestroyedExactlyOnceAcrossThreads) {
  Tracked::live = 0;
  Tracked::double_destroyed = 0;
  {
    SpscRing<Tracked> ring(32);
    std::thread producer([&] {
      for (int i = 0; i < 50000; ++i) {
        if (!ring.emplace(i)) break;  // the consumer closed the ring
      }
    });
    int expected = 0;
    // Stop early, leaving elements for the destructor.
    while (expected < 40000) {
      const std::optional<Tracked> v = ring.pop();
      ASSERT_TRUE(v.has_value());
      ASSERT_EQ(v->value(), expected++);
    }
    ring.close();
    producer.join();
  }
  EXPECT_EQ(Tracked::live.load(), 0);
  EXPECT_EQ(Tracked::double_destroyed.load(), 0);
}

TEST(SpscRing, HotIndicesLiveOnSeparateCacheLines) {
  EXPECT_GE(alignof(SpscRing<char>), iso::conc::detail::kFalseSharingRange);
  EXPECT_GE(sizeof(SpscRing<char>), 4 * iso::conc::detail::kFalseSharingRange);
}

}  // namespace
