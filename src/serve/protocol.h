// The core's side of the serve protocol (src/contract/protocol.h): frames
// with std::string payloads, fd lists, and the call request decoded into
// owned copies. The wire format itself is the contract's, shared with the
// front.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "contract/call_request.h"
#include "contract/protocol.h"
#include "serve.h"

namespace iso::serve {

using contract::decode_header;
using contract::Header;
using contract::kHeaderSize;
using contract::kReplyMagic;
using contract::kRequestMagic;
using contract::Limit;
using contract::Type;

// Everything of the caller's process the child takes on (the fields are
// described in src/contract/call_request.h).
struct CallRequest {
  std::string build_key;
  bool check_preload = false;
  std::vector<std::string> preload;
  std::vector<std::string> args;
  std::vector<std::string> environment;
  std::uint32_t umask = 022;
  std::uint64_t blocked_signals = 0;
  std::uint64_t ignored_signals = 0;
  std::vector<Limit> limits;
  std::uint8_t stdio_mask = 0;
};

// Reads little-endian fields, in the shape contract::call_request_fields()
// walks; throws ServeError past the end or on an impossible count.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : rest_(bytes) {}
  bool u8(std::uint8_t& value);
  bool flag(bool& value);
  bool u32(std::uint32_t& value);
  bool u64(std::uint64_t& value);
  bool text(std::string& value);
  bool texts(std::vector<std::string>& values);
  bool limits(std::vector<Limit>& values);
  bool done() const { return rest_.empty(); }

 private:
  std::string_view take(std::size_t count);
  std::uint32_t count(std::size_t smallest_item);
  std::string_view rest_;
};

// The front encodes it (contract::encode_call); throws ServeError.
CallRequest decode_call(std::string_view payload);

// The payload of a u32 reply: a pid, a wait status.
std::string u32_payload(std::uint32_t value);

// Sends a whole frame and its fds; false on error (errno set). Never raises SIGPIPE.
bool send_frame(int socket, Type type, std::string_view payload, const std::vector<int>& fds = {});
// A request's header alone (the payload follows separately, with its fds).
bool send_header(int socket, Type type, std::uint32_t length);

// Reads and drops what the peer sent and nobody will read, so that closing
// the socket does not turn the peer's read of our last message into ECONNRESET.
void discard_unread(int socket);

// Reads exactly `size` bytes, collecting any fds that come with them. false
// at EOF (errno 0), on error, or after 10 s without data on a non-blocking
// socket (errno ETIMEDOUT).
bool read_exact(int socket, void* data, std::size_t size, std::vector<int>* fds);

// Reads one frame; false at a clean EOF before it; throws ServeError on a
// broken frame.
struct Frame {
  Type type = Type::error;
  std::string payload;
  std::vector<int> fds;
};
bool read_frame(int socket, std::uint32_t magic, Frame* frame);

}  // namespace iso::serve
