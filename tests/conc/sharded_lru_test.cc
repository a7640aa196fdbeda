// iso::conc::ShardedLru: recency order, shards, counters and concurrent use.
#include "isolate/conc/sharded_lru.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

// prefix followed by n, built by appending: g++ 12 at -O3 reports a false
// -Wrestrict (GCC bug 105329) inside "literal" + std::string&&.
std::string numbered(const char* prefix, long long n) {
  std::string s(prefix);
  s += std::to_string(n);
  return s;
}

using Cache = iso::conc::ShardedLru<std::string, std::string>;

std::vector<std::string> present(const Cache& cache, const std::vector<std::string>& keys) {
  std::vector<std::string> out;
  for (const std::string& k : keys) {
    if (cache.contains(k)) out.push_back(k);
  }
  return out;
}

TEST(ShardedLru, EvictsTheLeastRecentlyUsed) {
  Cache cache(3, 1);
  cache.put("a", "1");
  cache.put("b", "2");
  cache.put("c", "3");
  cache.put("d", "4");
  EXPECT_EQ(present(cache, {"a", "b", "c", "d"}), (std::vector<std::string>{"b", "c", "d"}));
  cache.put("e", "5");
  EXPECT_EQ(present(cache, {"a", "b", "c", "d", "e"}), (std::vector<std::string>{"c", "d", "e"}));
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.stats().evictions, 2u);
}

TEST(ShardedLru, GetRefreshesRecency) {
  Cache cache(3, 1);
  cache.put("a", "1");
  cache.put("b", "2");
  cache.put("c", "3");
  EXPECT_EQ(cache.get("a"), std::optional<std::string>("1"));
  cache.put("d", "4");  // b is now the oldest
  EXPECT_EQ(present(cache, {"a", "b", "c", "d"}), (std::vector<std::string>{"a", "c", "d"}));
}

TEST(ShardedLru, ContainsNeitherRefreshesNorCounts) {
  Cache cache(2, 1);
  cache.put("a", "1");
  cache.put("b", "2");
  EXPECT_TRUE(cache.contains("a"));
  cache.put("c", "3");  // a is still the oldest
  EXPECT_FALSE(cache.contains("a"));
  const Cache::Stats s = cache.stats();
  EXPECT_EQ(s.hits + s.misses, 0u);
}

TEST(ShardedLru, PutReplacesAndRefreshes) {
  Cache cache(3, 1);
  cache.put("a", "1");
  cache.put("b", "2");
  cache.put("c", "3");
  cache.put("a", "one");
  cache.put("d", "4");
  EXPECT_EQ(cache.get("a"), std::optional<std::string>("one"));
  EXPECT_FALSE(cache.contains("b"));
  const Cache::Stats s = cache.stats();
  EXPECT_EQ(s.insertions, 4u);  // replacing a's value added no key
  EXPECT_EQ(s.evictions, 1u);
}

TEST(ShardedLru, EraseAndClear) {
  Cache cache(4, 2);
  cache.put("a", "1");
  cache.put("b", "2");
  EXPECT_TRUE(cache.erase("a"));
  EXPECT_FALSE(cache.erase("a"));
  EXPECT_FALSE(cache.contains("a"));
  EXPECT_EQ(cache.size(), 1u);
  cache.clear();
  EXPECT_EQ(cache.size(), 0u);
  for (int i = 0; i < 10; ++i) cache.put(std::to_string(i), "v");  // still consistent after clear
  EXPECT_EQ(cache.size(), 4u);
}

TEST(ShardedLru, CapacityIsDividedAmongShards) {
  Cache even(8, 4);
  EXPECT_EQ(even.shard_count(), 4u);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(even.shard_capacity(i), 2u);

  Cache uneven(10, 4);
  std::size_t total = 0;
  for (std::size_t i = 0; i < 4; ++i) total += uneven.shard_capacity(i);
  EXPECT_EQ(total, 10u);
  EXPECT_EQ(uneven.shard_capacity(0), 3u);
  EXPECT_EQ(uneven.shard_capacity(3), 2u);

  // Fewer entries than shards: fewer shards, each holding at least one.
  Cache small(3, 16);
  EXPECT_EQ(small.shard_count(), 3u);
  EXPECT_EQ(Cache(5, 0).shard_count(), 1u);
}

TEST(ShardedLru, EvictionIsPerShard) {
  Cache cache(8, 4);  // two entries per shard
  // Three keys of one shard and one key of another.
  std::vector<std::string> same;
  std::string other;
  for (int i = 0; same.size() < 3 || other.empty(); ++i) {
    std::string k = numbered("key", i);
    if (cache.shard_of(k) == 0) {
      if (same.size() < 3) same.push_back(k);
    } else if (other.empty()) {
      other = k;
    }
  }
  cache.put(other, "o");
  for (const std::string& k : same) cache.put(k, "s");
  EXPECT_FALSE(cache.contains(same[0]));  // its shard was full
  EXPECT_TRUE(cache.contains(same[1]));
  EXPECT_TRUE(cache.contains(same[2]));
  EXPECT_TRUE(cache.contains(other));  // another shard: untouched
  EXPECT_EQ(cache.size(), 3u);
}

TEST(ShardedLru, SimilarKeysSpreadOverShards) {
  Cache cache(1 << 16, 16);
  std::vector<int> per_shard(cache.shard_count());
  constexpr int kKeys = 16000;
  for (int i = 0; i < kKeys; ++i) ++per_shard[cache.shard_of(numbered("sig:", i))];
  for (const int n : per_shard) {
    EXPECT_GT(n, kKeys / 16 / 2);
    EXPECT_LT(n, kKeys / 16 * 2);
  }
}

TEST(ShardedLru, StatsAreMergedOverShards) {
  Cache cache(64, 8);
  for (int i = 0; i < 100; ++i) cache.put(numbered("k", i), std::to_string(i));
  int hits = 0;
  for (int i = 0; i < 100; ++i) {
    if (const std::optional<std::string> v = cache.get(numbered("k", i))) {
      EXPECT_EQ(*v, std::to_string(i));
      ++hits;
    }
  }
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(cache.get(numbered("absent", i)).has_value());
  const Cache::Stats s = cache.stats();
  EXPECT_EQ(s.hits, static_cast<std::uint64_t>(hits));
  EXPECT_EQ(s.misses, static_cast<std::uint64_t>(100 - hits + 10));
  EXPECT_EQ(s.insertions, 100u);
  EXPECT_EQ(s.insertions - s.evictions, cache.size());
  EXPECT_EQ(cache.size(), 64u);  // every shard filled to its share
  EXPECT_EQ(static_cast<std::uint64_t>(hits), cache.size());
}

TEST(ShardedLru, CapacityZeroCachesNothing) {
  Cache cache(0);
  cache.put("a", "1");
  EXPECT_FALSE(cache.contains("a"));
  EXPECT_FALSE(cache.get("a").has_value());
  EXPECT_EQ(cache.size(), 0u);
  const Cache::Stats s = cache.stats();
  EXPECT_EQ(s.insertions, 0u);
  EXPECT_EQ(s.misses, 1u);
}

// One shard against the plainest LRU there is: a list, newest first.
TEST(ShardedLru, MatchesAReferenceModel) {
  constexpr std::size_t kCapacity = 5;
  Cache cache(kCapacity, 1);
  std::list<std::pair<std::string, std::string>> model;
  const auto find = [&](const std::string& k) {
    return std::find_if(model.begin(), model.end(), [&](const auto& e) { return e.first == k; });
  };
  std::uint32_t x = 2463534242u;
  for (int i = 0; i < 20000; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    const std::string key = std::to_string(x % 12);
    switch ((x >> 8) % 3) {
      case 0: {
        const std::string value = std::to_string(i);
        cache.put(key, value);
        if (auto it = find(key); it != model.end()) model.erase(it);
        model.emplace_front(key, value);
        if (model.size() > kCapacity) model.pop_back();
        break;
      }
      case 1: {
        const std::optional<std::string> got = cache.get(key);
        const auto it = find(key);
        ASSERT_EQ(got.has_value(), it != model.end()) << "op " << i;
        if (got) {
          ASSERT_EQ(*got, it->second);
          model.splice(model.begin(), model, it);
        }
        break;
      }
      default: {
        const auto it = find(key);
        ASSERT_EQ(cache.erase(key), it != model.end());
        if (it != model.end()) model.erase(it);
      }
    }
    ASSERT_EQ(cache.size(), model.size());
  }
  for (const auto& [k, v] : model) EXPECT_TRUE(cache.contains(k));
}

// A value read for a key is always one that some thread put for that key.
TEST(ShardedLru, ConcurrentGetAndPutStayConsistent) {
  Cache cache(64, 8);
  constexpr int kThreads = 4;
  constexpr int kOps = 20000;
  constexpr int kKeys = 200;
  std::vector<std::thread> threads;
  std::vector<int> bad(kThreads, 0);
  std::vector<int> gets(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::uint32_t x = 12345u + static_cast<std::uint32_t>(t);
      for (int i = 0; i < kOps; ++i) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        const std::string key = numbered("k", x % kKeys);
        if (x & 0x100) {
          cache.put(key, key + "=" + std::to_string(t) + "." + std::to_string(i));
        } else {
          ++gets[t];
          const std::optional<std::string> v = cache.get(key);
          if (v && v->rfind(key + "=", 0) != 0) ++bad[t];
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  int total_gets = 0;
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(bad[t], 0);
    total_gets += gets[t];
  }
  const Cache::Stats s = cache.stats();
  EXPECT_EQ(s.hits + s.misses, static_cast<std::uint64_t>(total_gets));
  EXPECT_LE(cache.size(), 64u);
  EXPECT_EQ(s.insertions - s.evictions, cache.size());
}

}  // namespace
