// The serve protocol between `isolate call` (the front) and `isolate serve`
// (the core): framed messages on a Unix stream socket, file descriptors
// passed with SCM_RIGHTS (fd_passing.h).
//
// A frame is a 12-byte header (magic, type, version, payload length, all
// little-endian) and the payload. A caller sends a request's header alone and
// its payload (with the fds) in a second sendmsg, so the server can read the
// type without touching the fds, fork, and leave the payload to the child.
// Every reply is one sendmsg: its fds arrive with its header.
#pragma once

#include <cstddef>
#include <cstdint>

namespace iso::contract {

inline constexpr std::uint16_t kProtocolVersion = 1;
inline constexpr std::uint32_t kRequestMagic = 0x4f53494b;  // "KISO"
inline constexpr std::uint32_t kReplyMagic = 0x4f534952;    // "RISO"
inline constexpr std::size_t kHeaderSize = 12;
inline constexpr std::uint32_t kMaxPayload = 64u << 20;  // argv and environment together stay far below

enum class Type : std::uint16_t {
  // client -> server
  call = 1,    // payload: CallRequest (call_request.h), fds: cwd, then the caller's stdio (stdio_mask)
  status = 2,  // no payload
  stop = 3,    // no payload
  // server or request child -> client
  started = 16,       // u32 pid; fd: a pidfd of the child when the kernel has them
  cold = 17,          // string: why only a fresh interpreter can run the request
  error = 18,         // string: a one-line message for the user
  exit = 19,          // u32: the child's wait status
  status_reply = 20,  // string: a JSON object
  stopping = 21,      // u32: the server's pid
  // spare child -> server, on the spare's control socket
  taken = 32,      // fd: a connection whose call this spare now serves
  forwarded = 33,  // fd: a connection for the server to read and answer itself
};

inline void put_le(unsigned char* out, std::uint64_t value, int size) {
  for (int i = 0; i < size; ++i) out[i] = static_cast<unsigned char>(value >> (8 * i));
}

inline std::uint64_t get_le(const unsigned char* in, int size) {
  std::uint64_t value = 0;
  for (int i = 0; i < size; ++i) value |= static_cast<std::uint64_t>(in[i]) << (8 * i);
  return value;
}

struct Header {
  std::uint32_t magic = 0;
  Type type = Type::call;
  std::uint16_t version = kProtocolVersion;
  std::uint32_t length = 0;

  // A header this side can take: the magic it expects, this protocol, a
  // payload of at most `max_length` bytes.
  bool valid(std::uint32_t expected_magic, std::uint32_t max_length = kMaxPayload) const {
    return magic == expected_magic && version == kProtocolVersion && length <= max_length;
  }
};

inline void encode_header(const Header& header, unsigned char out[kHeaderSize]) {
  put_le(out, header.magic, 4);
  put_le(out + 4, static_cast<std::uint16_t>(header.type), 2);
  put_le(out + 6, header.version, 2);
  put_le(out + 8, header.length, 4);
}

inline Header decode_header(const unsigned char in[kHeaderSize]) {
  Header header;
  header.magic = static_cast<std::uint32_t>(get_le(in, 4));
  header.type = static_cast<Type>(get_le(in + 4, 2));
  header.version = static_cast<std::uint16_t>(get_le(in + 6, 2));
  header.length = static_cast<std::uint32_t>(get_le(in + 8, 4));
  return header;
}

}  // namespace iso::contract
