// iso::conc::BufferPool and Buffer: reuse, the limits, handles and threads.
#include "isolate/conc/buffer_pool.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "isolate/conc/spsc_ring.h"

namespace {

using iso::conc::Buffer;
using iso::conc::BufferPool;

TEST(BufferPool, ReuseKeepsCapacity) {
  BufferPool pool(4, 1 << 20);
  std::uintptr_t storage = 0;  // an address only: the string it points into is gone when compared
  std::size_t capacity = 0;
  {
    Buffer b = pool.acquire();
    EXPECT_EQ(b.pool(), &pool);
    b->append(5000, 'x');
    storage = reinterpret_cast<std::uintptr_t>(b->data());
    capacity = b->capacity();
  }
  EXPECT_EQ(pool.pooled(), 1u);
  Buffer again = pool.acquire();
  EXPECT_TRUE(again->empty());
  EXPECT_EQ(again->capacity(), capacity);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(again->data()), storage);
  const BufferPool::Stats s = pool.stats();
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.hits, 1u);
  EXPECT_EQ(s.returned, 1u);
}

TEST(BufferPool, OversizedBuffersAreFreed) {
  BufferPool pool(4, 4096);
  {
    Buffer b = pool.acquire();
    b->append(10000, 'x');
  }
  EXPECT_EQ(pool.pooled(), 0u);
  EXPECT_EQ(pool.stats().dropped_large, 1u);
  {
    Buffer b = pool.acquire();
    b->append(4000, 'x');  // capacity may round up, but not past 4096 here
    ASSERT_LE(b->capacity(), 4096u);
  }
  EXPECT_EQ(pool.pooled(), 1u);
}

TEST(BufferPool, AFullPoolFreesTheRest) {
  BufferPool pool(2, 1 << 20);
  {
    std::vector<Buffer> held;
    for (int i = 0; i < 3; ++i) {
      held.push_back(pool.acquire());
      held.back()->append(100, 'x');
    }
    EXPECT_EQ(pool.outstanding(), 3u);
  }
  EXPECT_EQ(pool.pooled(), 2u);
  EXPECT_EQ(pool.outstanding(), 0u);
  const BufferPool::Stats s = pool.stats();
  EXPECT_EQ(s.misses, 3u);
  EXPECT_EQ(s.returned, 2u);
  EXPECT_EQ(s.dropped_full, 1u);
}

TEST(BufferPool, ABufferThatNeverLeftTheSmallStringIsNotKept) {
  BufferPool pool(2, 1 << 20);
  { Buffer b = pool.acquire(); }
  EXPECT_EQ(pool.pooled(), 0u);
  EXPECT_EQ(pool.outstanding(), 0u);
}

TEST(BufferPool, MovesTransferTheReturn) {
  BufferPool pool(4, 1 << 20);
  Buffer a = pool.acquire();
  a->assign(200, 'a');
  Buffer b(std::move(a));
  // NOLINTNEXTLINE(bugprone-use-after-move,clang-analyzer-cplusplus.Move): the moved-from state
  EXPECT_EQ(a.pool(), nullptr);
  EXPECT_EQ(b->size(), 200u);
  EXPECT_EQ(pool.outstanding(), 1u);

  Buffer c = pool.acquire();
  c->assign(300, 'c');
  c = std::move(b);  // c's old storage goes back to the pool now
  EXPECT_EQ(pool.pooled(), 1u);
  EXPECT_EQ(c->size(), 200u);
  EXPECT_EQ(pool.outstanding(), 1u);
}

TEST(BufferPool, TakeDetachesTheString) {
  BufferPool pool(4, 1 << 20);
  Buffer b = pool.acquire();
  b->assign(1000, 'x');
  const std::string s = b.take();
  EXPECT_EQ(s.size(), 1000u);
  EXPECT_EQ(b.pool(), nullptr);
  EXPECT_EQ(pool.outstanding(), 0u);
  b->assign(1000, 'y');  // now an ordinary string
  { Buffer gone(std::move(b)); }
  EXPECT_EQ(pool.pooled(), 0u);
}

TEST(BufferPool, AdoptedStringsReturnToThePool) {
  BufferPool pool(4, 1 << 20);
  { Buffer b = pool.adopt(std::string(3000, 'z')); }
  EXPECT_EQ(pool.pooled(), 1u);
  Buffer b = pool.acquire();
  EXPECT_GE(b->capacity(), 3000u);
  EXPECT_TRUE(b->empty());
}

TEST(BufferPool, PoollessBuffersAreOrdinaryStrings) {
  Buffer b(std::string("payload"));
  EXPECT_EQ(*b, "payload");
  EXPECT_EQ(b.pool(), nullptr);
  Buffer empty;
  EXPECT_TRUE(empty->empty());
}

TEST(BufferPool, ConcurrentAcquireAndRelease) {
  BufferPool pool(8, 1 << 16);
  constexpr int kThreads = 4;
  constexpr int kIters = 20000;
  std::vector<std::thread> threads;
  std::vector<int> errors(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<Buffer> held;
      for (int i = 0; i < kIters; ++i) {
        Buffer b = pool.acquire();
        if (!b->empty()) ++errors[t];
        b->append(static_cast<std::size_t>(16 + (i * 37 + t) % 2000), static_cast<char>('a' + t));
        if (b->find_first_not_of(static_cast<char>('a' + t)) != std::string::npos) ++errors[t];
        held.push_back(std::move(b));
        if (held.size() > 3) held.clear();
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (const int e : errors) EXPECT_EQ(e, 0);
  const BufferPool::Stats s = pool.stats();
  EXPECT_EQ(s.hits + s.misses, static_cast<std::uint64_t>(kThreads) * kIters);
  EXPECT_EQ(s.returned + s.dropped_full + s.dropped_large, static_cast<std::uint64_t>(kThreads) * kIters);
  EXPECT_EQ(pool.outstanding(), 0u);
  EXPECT_LE(pool.pooled(), 8u);
  EXPECT_GT(s.hits, 0u);
}

// As in the isolate pool: buffers acquired on one thread die on another.
TEST(BufferPool, BuffersReleasedOnAnotherThread) {
  BufferPool pool(16, 1 << 16);
  iso::conc::SpscRing<Buffer> ring(8);
  constexpr int kItems = 20000;
  std::thread consumer([&] {
    int expected = 0;
    while (std::optional<Buffer> b = ring.pop()) {
      ASSERT_EQ(**b, std::to_string(expected++));
    }
    EXPECT_EQ(expected, kItems);
  });
  for (int i = 0; i < kItems; ++i) {
    Buffer b = pool.acquire();
    b->append(std::to_string(i));
    b->reserve(64);
    ASSERT_TRUE(ring.push(std::move(b)));
  }
  ring.close();
  consumer.join();
  EXPECT_EQ(pool.outstanding(), 0u);
  EXPECT_GT(pool.stats().hits, 0u);
}

TEST(BufferPoolDeathTest, DestroyingAPoolWithLiveBuffersAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        auto* pool = new BufferPool(4, 1024);
        const Buffer survivor = pool->acquire();
        delete pool;  // aborts here, before survivor would use it
      },
      "BufferPool destroyed while 1 of its buffers are alive");
}

}  // namespace
