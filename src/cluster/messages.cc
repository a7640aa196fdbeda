#include "messages.h"

#include <cstring>
#include <type_traits>

#include "transport.h"

namespace iso::cluster {

namespace {

class Out {
 public:
  // `size`: the message's exact length, so that a message of megabytes is
  // one allocation, not a chain of doublings that each copy and fault in.
  explicit Out(std::size_t size = 0) { bytes_.reserve(size); }
  template <class T>
  void put(T value) {
    static_assert(std::is_trivially_copyable_v<T>);
    bytes_.append(reinterpret_cast<const char*>(&value), sizeof value);
  }
  void put(const std::string& text) {
    put(static_cast<std::uint64_t>(text.size()));
    bytes_ += text;
  }
  std::string take() { return std::move(bytes_); }

 private:
  std::string bytes_;
};

class In {
 public:
  explicit In(const std::string& bytes) : bytes_(bytes) {}
  template <class T>
  T get() {
    T value;
    std::memcpy(&value, need(sizeof value), sizeof value);
    return value;
  }
  std::string text() {
    const auto size = get<std::uint64_t>();
    return {need(size), static_cast<std::size_t>(size)};
  }
  // A count of things of at least `each` bytes: more than the rest could hold is malformed.
  std::size_t count(std::size_t each) {
    const auto n = get<std::uint32_t>();
    if (n > (bytes_.size() - at_) / each) throw Error("a malformed message between ranks");
    return n;
  }
  void end() const {
    if (at_ != bytes_.size()) throw Error("a malformed message between ranks");
  }

 private:
  const char* need(std::uint64_t size) {
    if (size > bytes_.size() - at_) throw Error("a malformed message between ranks");
    const char* at = bytes_.data() + at_;
    at_ += static_cast<std::size_t>(size);
    return at;
  }
  const std::string& bytes_;
  std::size_t at_ = 0;
};

}  // namespace

std::string encode(const Hello& hello) {
  Out out;
  out.put<std::uint8_t>(hello.ok ? 1 : 0);
  out.put(hello.workers);
  out.put(hello.credits);
  out.put(hello.backend);
  out.put(hello.message);
  return out.take();
}

Hello decode_hello(const std::string& bytes) {
  In in(bytes);
  Hello hello;
  hello.ok = in.get<std::uint8_t>() != 0;
  hello.workers = in.get<std::uint32_t>();
  hello.credits = in.get<std::uint32_t>();
  hello.backend = in.text();
  hello.message = in.text();
  in.end();
  return hello;
}

std::string encode(const std::vector<pool::ItemChunk>& work) {
  std::size_t size = sizeof(std::uint32_t);
  for (const pool::ItemChunk& chunk : work) {
    size += sizeof(std::uint32_t);
    for (const pool::Item& item : chunk) size += 2 * sizeof(std::uint64_t) + item.payload.size();
  }
  Out out(size);
  out.put(static_cast<std::uint32_t>(work.size()));
  for (const pool::ItemChunk& chunk : work) {
    out.put(static_cast<std::uint32_t>(chunk.size()));
    for (const pool::Item& item : chunk) {
      out.put(item.index);
      out.put(item.payload);
    }
  }
  return out.take();
}

std::vector<pool::ItemChunk> decode_work(const std::string& bytes) {
  In in(bytes);
  std::vector<pool::ItemChunk> work(in.count(sizeof(std::uint32_t)));
  for (pool::ItemChunk& chunk : work) {
    chunk.resize(in.count(2 * sizeof(std::uint64_t)));
    for (pool::Item& item : chunk) {
      item.index = in.get<std::uint64_t>();
      item.payload = in.text();
    }
  }
  in.end();
  return work;
}

std::string encode(const Answers& answers) {
  std::size_t size = 2 * sizeof(std::uint32_t);
  for (const pool::ResultChunk& chunk : answers.chunks) {
    size += sizeof(std::uint32_t);
    for (const pool::Result& r : chunk) size += 2 * sizeof(std::uint64_t) + 1 + r.payload.size();
  }
  Out out(size);
  out.put(answers.credits);
  out.put(static_cast<std::uint32_t>(answers.chunks.size()));
  for (const pool::ResultChunk& chunk : answers.chunks) {
    out.put(static_cast<std::uint32_t>(chunk.size()));
    for (const pool::Result& r : chunk) {
      out.put(r.index);
      out.put<std::uint8_t>(r.ok ? 1 : 0);
      out.put(r.payload);
    }
  }
  return out.take();
}

Answers decode_answers(const std::string& bytes) {
  In in(bytes);
  Answers answers;
  answers.credits = in.get<std::uint32_t>();
  answers.chunks.resize(in.count(sizeof(std::uint32_t)));
  for (pool::ResultChunk& chunk : answers.chunks) {
    chunk.resize(in.count(2 * sizeof(std::uint64_t) + 1));
    for (pool::Result& r : chunk) {
      r.index = in.get<std::uint64_t>();
      r.ok = in.get<std::uint8_t>() != 0;
      r.payload = in.text();
    }
  }
  in.end();
  return answers;
}

}  // namespace iso::cluster
