// Byte buffers of fixed capacity, for code the front shares with the core (the
// front has no allocator): paths, names, messages and the request itself. An
// append past the capacity marks the buffer overflowed instead, and the
// caller checks that once.
#pragma once

#include <cstddef>
#include <cstdint>

namespace iso::contract {

inline std::size_t length(const char* text) {
  std::size_t size = 0;
  while (text[size] != '\0') ++size;
  return size;
}

inline bool equal(const char* a, const char* b) {
  while (*a != '\0' && *a == *b) {
    ++a;
    ++b;
  }
  return *a == *b;
}

inline bool starts_with(const char* text, const char* prefix) {
  while (*prefix != '\0') {
    if (*text++ != *prefix++) return false;
  }
  return true;
}

template <std::size_t Capacity>
class Text {
 public:
  Text& add(const char* bytes, std::size_t size) {
    if (size > Capacity - 1 - size_) {
      overflow_ = true;
      return *this;
    }
    for (std::size_t i = 0; i < size; ++i) data_[size_ + i] = bytes[i];
    size_ += size;
    data_[size_] = '\0';
    return *this;
  }
  Text& add(const char* text) { return add(text, length(text)); }
  Text& add(char c) { return add(&c, 1); }
  Text& add_decimal(std::uint64_t value) {
    char digits[20];
    int count = 0;
    do {
      digits[count++] = static_cast<char>('0' + value % 10);
      value /= 10;
    } while (value != 0);
    while (count > 0) add(digits[--count]);
    return *this;
  }
  Text& add_hex(std::uint64_t value, int width) {
    for (int shift = 4 * (width - 1); shift >= 0; shift -= 4) add("0123456789abcdef"[(value >> shift) & 15]);
    return *this;
  }
  // Little-endian, as the serve protocol writes its fields (protocol.h).
  Text& add_le(std::uint64_t value, int bytes) {
    for (int i = 0; i < bytes; ++i) add(static_cast<char>(value >> (8 * i)));
    return *this;
  }
  void clear() {
    size_ = 0;
    data_[0] = '\0';
    overflow_ = false;
  }
  const char* c_str() const { return data_; }
  char* data() { return data_; }
  std::size_t size() const { return size_; }
  bool overflow() const { return overflow_; }

 private:
  char data_[Capacity] = {};
  std::size_t size_ = 0;
  bool overflow_ = false;
};

inline constexpr std::size_t kPathCapacity = 4096;  // PATH_MAX
using Path = Text<kPathCapacity>;

}  // namespace iso::contract
