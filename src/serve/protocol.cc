// Frames, fields and fd passing for the core (protocol.h).
#include "protocol.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "contract/fd_passing.h"

namespace iso::serve {

namespace {

constexpr int kReadTimeoutMs = 10'000;

bool send_bytes(int socket, const void* data, std::size_t size, const std::vector<int>& fds) {
  const long result =
      contract::send_with_fds(socket, data, size, fds.data(), static_cast<unsigned>(fds.size()));
  if (result == 0) return true;
  errno = static_cast<int>(-result);
  return false;
}

}  // namespace

std::string_view Reader::take(std::size_t count) {
  if (count > rest_.size()) throw ServeError("isolate: a malformed message (truncated)");
  const std::string_view taken = rest_.substr(0, count);
  rest_.remove_prefix(count);
  return taken;
}

std::uint32_t Reader::count(std::size_t smallest_item) {
  std::uint32_t items = 0;
  u32(items);
  if (items > rest_.size() / smallest_item)
    throw ServeError("isolate: a malformed message (bad list length)");
  return items;
}

bool Reader::u8(std::uint8_t& value) {
  value = static_cast<std::uint8_t>(take(1)[0]);
  return true;
}
bool Reader::flag(bool& value) {
  std::uint8_t byte = 0;
  u8(byte);
  value = byte != 0;
  return true;
}
bool Reader::u32(std::uint32_t& value) {
  value =
      static_cast<std::uint32_t>(contract::get_le(reinterpret_cast<const unsigned char*>(take(4).data()), 4));
  return true;
}
bool Reader::u64(std::uint64_t& value) {
  value = contract::get_le(reinterpret_cast<const unsigned char*>(take(8).data()), 8);
  return true;
}
bool Reader::text(std::string& value) {
  std::uint32_t size = 0;
  u32(size);
  value = std::string(take(size));
  return true;
}
bool Reader::texts(std::vector<std::string>& values) {
  values.resize(count(4));
  for (std::string& value : values) text(value);
  return true;
}
bool Reader::limits(std::vector<Limit>& values) {
  values.resize(count(20));
  for (Limit& limit : values) contract::limit_fields(*this, limit);
  return true;
}

CallRequest decode_call(std::string_view payload) {
  Reader in(payload);
  CallRequest request;
  contract::call_request_fields(in, request);
  if (!in.done()) throw ServeError("isolate: a malformed message (trailing bytes)");
  return request;
}

std::string u32_payload(std::uint32_t value) {
  std::string bytes(4, '\0');
  contract::put_le(reinterpret_cast<unsigned char*>(bytes.data()), value, 4);
  return bytes;
}

bool send_header(int socket, Type type, std::uint32_t length) {
  unsigned char header[kHeaderSize];
  contract::encode_header({kRequestMagic, type, contract::kProtocolVersion, length}, header);
  return send_bytes(socket, header, kHeaderSize, {});
}

bool send_frame(int socket, Type type, std::string_view payload, const std::vector<int>& fds) {
  std::string frame(kHeaderSize, '\0');
  contract::encode_header(
      {kReplyMagic, type, contract::kProtocolVersion, static_cast<std::uint32_t>(payload.size())},
      reinterpret_cast<unsigned char*>(frame.data()));
  frame.append(payload);
  return send_bytes(socket, frame.data(), frame.size(), fds);
}

void discard_unread(int socket) {
  char discard[4096];
  for (int i = 0; i < 256 && recv(socket, discard, sizeof(discard), MSG_DONTWAIT) > 0; ++i) {
  }
}

bool read_exact(int socket, void* data, std::size_t size, std::vector<int>* fds) {
  const auto collect = [fds](int fd) {
    if (fds != nullptr) {
      fds->push_back(fd);
    } else {
      close(fd);
    }
  };
  // A non-blocking socket (the server's accepted connections, shared with
  // the request's child) waits for the rest, but not forever.
  const long got = contract::receive_exact(socket, data, size, collect, kReadTimeoutMs);
  if (got == static_cast<long>(size)) return true;
  errno = got < 0 ? static_cast<int>(-got) : 0;
  return false;
}

bool read_frame(int socket, std::uint32_t magic, Frame* frame) {
  unsigned char raw[kHeaderSize];
  frame->fds.clear();
  if (!read_exact(socket, raw, kHeaderSize, &frame->fds)) return false;
  const Header header = decode_header(raw);
  if (!header.valid(magic)) {
    throw ServeError("isolate: the other side does not speak this version of the serve protocol");
  }
  frame->type = header.type;
  frame->payload.assign(header.length, '\0');
  if (header.length > 0 && !read_exact(socket, frame->payload.data(), header.length, &frame->fds)) {
    throw ServeError("isolate: the connection closed in the middle of a message");
  }
  return true;
}

}  // namespace iso::serve
