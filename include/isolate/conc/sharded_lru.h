// isolate/conc/sharded_lru.h — iso::conc::ShardedLru<Key, Value> (component
// isolate::conc, header-only): a thread-safe least-recently-used cache for
// memoised results, keyed by a signature of the arguments.
//
//   iso::conc::ShardedLru<std::string, std::string> cache(4096);  // 16 shards
//   if (auto hit = cache.get(signature)) return *hit;
//   cache.put(signature, result);
//
// The cache is split into shards, each an LRU of its own under its own mutex,
// so threads working on different keys rarely meet. A key's shard comes from
// its hash, mixed first: std::hash<std::string> is not meant to have random
// low bits. Capacity is divided among the shards (the first capacity % shards
// get one more), so eviction is least-recently-used within a shard, which
// approximates the global order. A capacity below the requested shard count
// lowers the shard count so that every shard holds at least one entry;
// capacity 0 caches nothing.
//
// get() copies the value out under the shard's lock: for large values, make
// Value a std::shared_ptr<const T>. Counters are kept per shard under its lock
// and summed by stats(), which is therefore a consistent total only while no
// other thread uses the cache.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>

namespace iso::conc {

namespace detail {

// SplitMix64's finaliser: every input bit reaches every output bit.
constexpr std::uint64_t mix64(std::uint64_t x) noexcept {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

}  // namespace detail

template <class Key, class Value, class Hash = std::hash<Key>, class KeyEqual = std::equal_to<Key>>
class ShardedLru {
 public:
  struct Stats {
    std::uint64_t hits = 0;        // get() found the key
    std::uint64_t misses = 0;      // get() did not
    std::uint64_t insertions = 0;  // put() added a key (a put() that replaces a value is not one)
    std::uint64_t evictions = 0;   // put() pushed out the least recently used key of a full shard
  };

  explicit ShardedLru(std::size_t capacity, std::size_t shards = 16)
      : capacity_(capacity),
        shard_count_(clamp_shards(capacity, shards)),
        shards_(std::make_unique<Shard[]>(shard_count_)) {
    for (std::size_t i = 0; i < shard_count_; ++i) {
      shards_[i].capacity = capacity / shard_count_ + (i < capacity % shard_count_ ? 1 : 0);
    }
  }

  // The value, now the most recently used of its shard; nullopt if absent.
  std::optional<Value> get(const Key& key) {
    const std::size_t h = hash_(key);
    Shard& s = shards_[shard_of_hash(h)];
    const std::lock_guard lock(s.mutex);
    const auto it = s.map.find(Probe{key, h});
    if (it == s.map.end()) {
      ++s.stats.misses;
      return std::nullopt;
    }
    ++s.stats.hits;
    s.to_front(&it->second);
    return it->second.value;
  }

  // Inserts or replaces; the key becomes the most recently used of its shard.
  void put(Key key, Value value) {
    const std::size_t h = hash_(key);
    Shard& s = shards_[shard_of_hash(h)];
    const std::lock_guard lock(s.mutex);
    if (s.capacity == 0) return;
    if (const auto it = s.map.find(Probe{key, h}); it != s.map.end()) {
      std::swap(it->second.value, value);  // the old value dies after the unlock, with `value`
      s.to_front(&it->second);
      return;
    }
    typename Map::iterator inserted;
    if (s.map.size() >= s.capacity) {
      // Reuse the evicted key's node: a full cache then allocates no nodes.
      // The evicted key and value end in `key` and `value`, freed after the unlock.
      Entry* const victim = s.oldest;
      s.unlink(victim);
      auto node = s.map.extract(s.map.find(Probe{*victim->key, victim->hash}));
      std::swap(node.key(), key);
      std::swap(node.mapped().value, value);
      node.mapped().hash = h;
      inserted = s.map.insert(std::move(node)).position;
      ++s.stats.evictions;
    } else {
      inserted = s.map.try_emplace(std::move(key), std::move(value), h).first;
    }
    inserted->second.key = &inserted->first;
    s.link_front(&inserted->second);
    ++s.stats.insertions;
  }

  // Neither refreshes the key nor counts as a hit or miss.
  bool contains(const Key& key) const {
    const std::size_t h = hash_(key);
    const Shard& s = shards_[shard_of_hash(h)];
    const std::lock_guard lock(s.mutex);
    return s.map.find(Probe{key, h}) != s.map.end();
  }

  bool erase(const Key& key) {
    const std::size_t h = hash_(key);
    Shard& s = shards_[shard_of_hash(h)];
    typename Map::node_type node;  // destroyed after the unlock
    const std::lock_guard lock(s.mutex);
    const auto it = s.map.find(Probe{key, h});
    if (it == s.map.end()) return false;
    s.unlink(&it->second);
    node = s.map.extract(it);
    return true;
  }

  void clear() {
    for (std::size_t i = 0; i < shard_count_; ++i) {
      Map old;  // destroyed after the unlock
      const std::lock_guard lock(shards_[i].mutex);
      old.swap(shards_[i].map);
      shards_[i].newest = shards_[i].oldest = nullptr;
    }
  }

  std::size_t size() const {
    std::size_t n = 0;
    for (std::size_t i = 0; i < shard_count_; ++i) {
      const std::lock_guard lock(shards_[i].mutex);
      n += shards_[i].map.size();
    }
    return n;
  }

  Stats stats() const {
    Stats total;
    for (std::size_t i = 0; i < shard_count_; ++i) {
      const std::lock_guard lock(shards_[i].mutex);
      total.hits += shards_[i].stats.hits;
      total.misses += shards_[i].stats.misses;
      total.insertions += shards_[i].stats.insertions;
      total.evictions += shards_[i].stats.evictions;
    }
    return total;
  }

  std::size_t capacity() const noexcept { return capacity_; }
  std::size_t shard_count() const noexcept { return shard_count_; }
  // At most this many entries live in shard i.
  std::size_t shard_capacity(std::size_t i) const noexcept { return shards_[i].capacity; }
  // The shard that holds `key`, in [0, shard_count()).
  std::size_t shard_of(const Key& key) const { return shard_of_hash(hash_(key)); }

 private:
  // A map node carries its own links, so the recency list costs no allocation.
  struct Entry {
    explicit Entry(Value v, std::size_t h) : value(std::move(v)), hash(h) {}
    Value value;
    std::size_t hash;  // Hash of the key, unmixed: finds the node again on eviction
    const Key* key = nullptr;
    Entry* newer = nullptr;
    Entry* older = nullptr;
  };

  // Looks a key up with the hash already computed for choosing the shard.
  struct Probe {
    const Key& key;
    std::size_t hash;
  };
  struct MapHash {
    using is_transparent = void;
    [[no_unique_address]] Hash hash;
    std::size_t operator()(const Key& k) const { return hash(k); }
    std::size_t operator()(const Probe& p) const noexcept { return p.hash; }
  };
  struct MapEqual {
    using is_transparent = void;
    [[no_unique_address]] KeyEqual equal;
    bool operator()(const Key& a, const Key& b) const { return equal(a, b); }
    bool operator()(const Probe& a, const Key& b) const { return equal(a.key, b); }
    bool operator()(const Key& a, const Probe& b) const { return equal(a, b.key); }
  };
  using Map = std::unordered_map<Key, Entry, MapHash, MapEqual>;

  // Own lines: shards are locked by different threads.
  struct alignas(128) Shard {
    mutable std::mutex mutex;
    Map map;
    Entry* newest = nullptr;
    Entry* oldest = nullptr;
    std::size_t capacity = 0;
    Stats stats;

    void link_front(Entry* e) noexcept {
      e->older = newest;
      e->newer = nullptr;
      if (newest != nullptr) newest->newer = e;
      newest = e;
      if (oldest == nullptr) oldest = e;
    }
    void unlink(Entry* e) noexcept {
      (e->newer != nullptr ? e->newer->older : newest) = e->older;
      (e->older != nullptr ? e->older->newer : oldest) = e->newer;
    }
    void to_front(Entry* e) noexcept {
      if (e == newest) return;
      unlink(e);
      link_front(e);
    }
  };

  static std::size_t clamp_shards(std::size_t capacity, std::size_t shards) noexcept {
    if (shards == 0) shards = 1;
    if (capacity == 0) return 1;
    return shards < capacity ? shards : capacity;
  }

  // Multiply-shift of the mixed hash's top 32 bits: uniform for any count.
  std::size_t shard_of_hash(std::size_t h) const noexcept {
    const std::uint64_t top = detail::mix64(h) >> 32;
    return static_cast<std::size_t>((top * static_cast<std::uint64_t>(shard_count_)) >> 32);
  }

  [[no_unique_address]] Hash hash_;
  std::size_t capacity_;
  std::size_t shard_count_;
  std::unique_ptr<Shard[]> shards_;
};

}  // namespace iso::conc
