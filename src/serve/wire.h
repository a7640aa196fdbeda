// The serve protocol's constants: its version, magics, header size and
// message types. Nothing here needs a C or C++ runtime, so the freestanding
// `isolate` front (src/front/) shares it with the server (protocol.h).
#pragma once

#include <cstddef>
#include <cstdint>

namespace iso::serve {

inline constexpr std::uint16_t kProtocolVersion = 1;
inline constexpr std::uint32_t kRequestMagic = 0x4f53494b;  // "KISO"
inline constexpr std::uint32_t kReplyMagic = 0x4f534952;    // "RISO"
inline constexpr std::size_t kHeaderSize = 12;
inline constexpr std::uint32_t kMaxPayload = 64u << 20;  // argv and environment together stay far below

enum class Type : std::uint16_t {
  // client -> server
  call = 1,    // payload: CallRequest, fds: cwd, then the caller's stdio (fd_mask)
  status = 2,  // no payload
  stop = 3,    // no payload
  // server or request child -> client
  started = 16,       // u32 pid; fd: a pidfd of the child when the kernel has them
  cold = 17,          // string: why only a fresh interpreter can run the request
  error = 18,         // string: a one-line message for the user
  exit = 19,          // i32: the child's wait status
  status_reply = 20,  // string: a JSON object
  stopping = 21,      // u32: the server's pid
  // spare child -> server, on the spare's control socket
  taken = 32,      // fd: a connection whose call this spare now serves
  forwarded = 33,  // fd: a connection for the server to read and answer itself
};

}  // namespace iso::serve
