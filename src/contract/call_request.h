// The payload of a call request: everything of the caller's process that the
// request's child takes on. call_request_fields() is the one list of its
// fields in wire order; the front encodes with CallEncoder (below), the core
// decodes with its own reader (src/serve/protocol.cc), and both walk this
// list, so they cannot disagree on the order or the width of a field.
//
// Strings are a u32 length and the bytes; lists a u32 count and the items;
// integers little-endian.
#pragma once

#include <cstddef>
#include <cstdint>

#include "text.h"

namespace iso::contract {

struct Limit {
  std::uint32_t resource = 0;
  std::uint64_t soft = 0;
  std::uint64_t hard = 0;
};

template <class Io, class L>
bool limit_fields(Io& io, L& limit) {
  return io.u32(limit.resource) && io.u64(limit.soft) && io.u64(limit.hard);
}

// Request is the front's CallDescription (views of its process) or the core's
// CallRequest (owned copies); Io reads or writes each field in turn.
template <class Io, class Request>
bool call_request_fields(Io& io, Request& request) {
  return io.text(request.build_key) &&
         io.flag(request.check_preload) &&  // false with an explicit --socket: any preload list will do
         io.texts(request.preload) &&
         io.texts(request.args) &&         // python3's command line, without the program name
         io.texts(request.environment) &&  // NAME=VALUE, as the caller's environ holds them
         io.u32(request.umask) && io.u64(request.blocked_signals) &&  // bit N-1 for signal N
         io.u64(request.ignored_signals) && io.limits(request.limits) &&
         io.u8(request.stdio_mask);  // bit K: the caller's fd K is open and passed
}

// ------------------------------------------------------------ the encoder
struct Bytes {
  const char* data = nullptr;
  std::size_t size = 0;
};

// NUL-terminated strings: a slice of argv, an environ, a preload list.
struct StringList {
  const char* const* items = nullptr;
  std::size_t count = 0;
};

struct LimitList {
  const Limit* items = nullptr;
  std::size_t count = 0;
};

// A call request as views of what the caller holds; nothing is copied until
// it is encoded.
struct CallDescription {
  Bytes build_key;
  bool check_preload = false;
  StringList preload;
  StringList args;
  StringList environment;
  std::uint32_t umask = 0;
  std::uint64_t blocked_signals = 0;
  std::uint64_t ignored_signals = 0;
  LimitList limits;
  std::uint8_t stdio_mask = 0;
};

// Writes fields into a Text (text.h); an overflow shows on the Text.
template <class Sink>
class CallEncoder {
 public:
  explicit CallEncoder(Sink* out) : out_(out) {}
  bool u8(std::uint8_t value) { return put(value, 1); }
  bool flag(bool value) { return put(value ? 1 : 0, 1); }
  bool u32(std::uint32_t value) { return put(value, 4); }
  bool u64(std::uint64_t value) { return put(value, 8); }
  bool text(const Bytes& bytes) {
    put(bytes.size, 4);
    out_->add(bytes.data, bytes.size);
    return !out_->overflow();
  }
  bool texts(const StringList& list) {
    put(list.count, 4);
    for (std::size_t i = 0; i < list.count; ++i) text({list.items[i], length(list.items[i])});
    return !out_->overflow();
  }
  bool limits(const LimitList& list) {
    put(list.count, 4);
    for (std::size_t i = 0; i < list.count; ++i) limit_fields(*this, list.items[i]);
    return !out_->overflow();
  }

 private:
  bool put(std::uint64_t value, int bytes) {
    out_->add_le(value, bytes);
    return !out_->overflow();
  }
  Sink* out_;
};

// false when `out` overflowed.
template <class Sink>
bool encode_call(const CallDescription& request, Sink* out) {
  CallEncoder<Sink> encoder(out);
  return call_request_fields(encoder, request);
}

}  // namespace iso::contract
