// The wire format between `isolate call` and `isolate serve`: framed
// messages on a Unix stream socket, file descriptors passed with SCM_RIGHTS.
//
// A frame is a 12-byte header (magic, type, version, payload length) and the
// payload. The client sends a request's header alone and its payload (with
// the fds) in a second sendmsg, so the server can read the type without
// touching the fds, fork, and leave the payload to the child. Every reply is
// one sendmsg: its fds arrive with its header.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "isolate/serve.h"
#include "wire.h"

namespace iso::serve {

struct Header {
  std::uint32_t magic = 0;
  Type type = Type::call;
  std::uint16_t version = kProtocolVersion;
  std::uint32_t length = 0;
};

void encode_header(const Header& header, unsigned char out[kHeaderSize]);
Header decode_header(const unsigned char in[kHeaderSize]);

// Little-endian fields; Reader throws ServeError past the end.
class Writer {
 public:
  void u32(std::uint32_t value);
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

class Reader {
 public:
  explicit Reader(std::string_view bytes) : rest_(bytes) {}
  std::uint8_t u8();
  std::uint32_t u32();
  std::uint64_t u64();
  std::string str();
  std::vector<std::string> strings();
  bool done() const { return rest_.empty(); }

 private:
  std::string_view take(std::size_t count);
  std::string_view rest_;
};

struct Limit {
  std::uint32_t resource = 0;
  std::uint64_t soft = 0;
  std::uint64_t hard = 0;
};

// Everything of the caller's process the child takes on.
struct CallRequest {
  std::string build_key;
  bool check_preload = false;  // false with an explicit --socket: any preload list will do
  std::vector<std::string> preload;
  std::vector<std::string> args;         // python3's command line, without the program name
  std::vector<std::string> environment;  // NAME=VALUE
  std::uint32_t umask = 022;
  std::uint64_t blocked_signals = 0;  // bit N-1 for signal N
  std::uint64_t ignored_signals = 0;
  std::vector<Limit> limits;
  std::uint8_t stdio_mask = 0;  // bit K: the caller's fd K is open and passed
};

// The front (src/front/call.cc: describe) writes it; throws ServeError.
CallRequest decode_call(std::string_view payload);

// Sends a whole frame and its fds; false on error (errno set). Never raises SIGPIPE.
bool send_frame(int socket, Type type, std::string_view payload, const std::vector<int>& fds = {});
bool send_header(int socket, Type type, std::uint32_t length);
bool send_payload(int socket, std::string_view payload, const std::vector<int>& fds);

// Reads and drops what the peer sent and nobody will read, so that closing
// the socket does not turn the peer's read of our last message into ECONNRESET.
void discard_unread(int socket);

// Reads exactly `size` bytes, collecting any fds that come with them. false
// at EOF, on error, or after 10 s without data on a non-blocking socket.
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
