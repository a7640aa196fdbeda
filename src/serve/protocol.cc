// Frames, fields and fd passing for the serve protocol (protocol.h).
#include "protocol.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace iso::serve {

namespace {

void put_le(unsigned char* out, std::uint64_t value, int size) {
  for (int i = 0; i < size; ++i) out[i] = static_cast<unsigned char>(value >> (8 * i));
}

std::uint64_t get_le(const unsigned char* in, int size) {
  std::uint64_t value = 0;
  for (int i = 0; i < size; ++i) value |= static_cast<std::uint64_t>(in[i]) << (8 * i);
  return value;
}

constexpr std::size_t kMaxFds = 8;
constexpr int kReadTimeoutMs = 10'000;

bool send_with_fds(int socket, const void* data, std::size_t size, const std::vector<int>& fds) {
  const auto* bytes = static_cast<const char*>(data);
  bool fds_sent = fds.empty();
  while (size > 0) {
    iovec iov{const_cast<char*>(bytes), size};
    msghdr message{};
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)] = {};
    if (!fds_sent) {
      if (fds.size() > kMaxFds) {
        errno = EINVAL;
        return false;
      }
      message.msg_control = control;
      message.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
      cmsghdr* header = CMSG_FIRSTHDR(&message);
      header->cmsg_level = SOL_SOCKET;
      header->cmsg_type = SCM_RIGHTS;
      header->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
      std::memcpy(CMSG_DATA(header), fds.data(), sizeof(int) * fds.size());
    }
    const ssize_t sent = sendmsg(socket, &message, MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    fds_sent = true;
    bytes += sent;
    size -= static_cast<std::size_t>(sent);
  }
  return true;
}

}  // namespace

void encode_header(const Header& header, unsigned char out[kHeaderSize]) {
  put_le(out, header.magic, 4);
  put_le(out + 4, static_cast<std::uint16_t>(header.type), 2);
  put_le(out + 6, header.version, 2);
  put_le(out + 8, header.length, 4);
}

Header decode_header(const unsigned char in[kHeaderSize]) {
  Header header;
  header.magic = static_cast<std::uint32_t>(get_le(in, 4));
  header.type = static_cast<Type>(get_le(in + 4, 2));
  header.version = static_cast<std::uint16_t>(get_le(in + 6, 2));
  header.length = static_cast<std::uint32_t>(get_le(in + 8, 4));
  return header;
}

void Writer::u32(std::uint32_t value) {
  unsigned char out[4];
  put_le(out, value, 4);
  bytes_.append(reinterpret_cast<char*>(out), 4);
}

std::string_view Reader::take(std::size_t count) {
  if (count > rest_.size()) throw ServeError("isolate: a malformed message (truncated)");
  const std::string_view taken = rest_.substr(0, count);
  rest_.remove_prefix(count);
  return taken;
}

std::uint8_t Reader::u8() {
  return static_cast<std::uint8_t>(take(1)[0]);
}
std::uint32_t Reader::u32() {
  return static_cast<std::uint32_t>(get_le(reinterpret_cast<const unsigned char*>(take(4).data()), 4));
}
std::uint64_t Reader::u64() {
  return get_le(reinterpret_cast<const unsigned char*>(take(8).data()), 8);
}
std::string Reader::str() {
  const std::uint32_t size = u32();
  return std::string(take(size));
}
std::vector<std::string> Reader::strings() {
  const std::uint32_t count = u32();
  if (count > rest_.size() / 4) throw ServeError("isolate: a malformed message (bad list length)");
  std::vector<std::string> values;
  values.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) values.push_back(str());
  return values;
}

CallRequest decode_call(std::string_view payload) {
  Reader in(payload);
  CallRequest request;
  request.build_key = in.str();
  request.check_preload = in.u8() != 0;
  request.preload = in.strings();
  request.args = in.strings();
  request.environment = in.strings();
  request.umask = in.u32();
  request.blocked_signals = in.u64();
  request.ignored_signals = in.u64();
  const std::uint32_t limits = in.u32();
  for (std::uint32_t i = 0; i < limits && i < 64; ++i) {
    Limit limit;
    limit.resource = in.u32();
    limit.soft = in.u64();
    limit.hard = in.u64();
    request.limits.push_back(limit);
  }
  request.stdio_mask = in.u8();
  if (!in.done()) throw ServeError("isolate: a malformed message (trailing bytes)");
  return request;
}

bool send_header(int socket, Type type, std::uint32_t length) {
  unsigned char header[kHeaderSize];
  encode_header({kRequestMagic, type, kProtocolVersion, length}, header);
  return send_with_fds(socket, header, kHeaderSize, {});
}

bool send_payload(int socket, std::string_view payload, const std::vector<int>& fds) {
  return send_with_fds(socket, payload.data(), payload.size(), fds);
}

bool send_frame(int socket, Type type, std::string_view payload, const std::vector<int>& fds) {
  std::string frame(kHeaderSize, '\0');
  encode_header({kReplyMagic, type, kProtocolVersion, static_cast<std::uint32_t>(payload.size())},
                reinterpret_cast<unsigned char*>(frame.data()));
  frame.append(payload);
  return send_with_fds(socket, frame.data(), frame.size(), fds);
}

void discard_unread(int socket) {
  char discard[4096];
  for (int i = 0; i < 256 && recv(socket, discard, sizeof(discard), MSG_DONTWAIT) > 0; ++i) {
  }
}

bool read_exact(int socket, void* data, std::size_t size, std::vector<int>* fds) {
  auto* bytes = static_cast<char*>(data);
  while (size > 0) {
    iovec iov{bytes, size};
    msghdr message{};
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
    message.msg_control = control;
    message.msg_controllen = sizeof(control);
    const ssize_t got = recvmsg(socket, &message, MSG_CMSG_CLOEXEC);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0 && errno == EAGAIN) {
      // A non-blocking socket (the server's accepted connections, shared
      // with the request's child): wait for the rest, but not forever.
      pollfd readable{socket, POLLIN, 0};
      if (poll(&readable, 1, kReadTimeoutMs) > 0) continue;
      errno = ETIMEDOUT;
      return false;
    }
    for (cmsghdr* header = CMSG_FIRSTHDR(&message); got >= 0 && header != nullptr;
         header = CMSG_NXTHDR(&message, header)) {
      if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
      const std::size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (std::size_t i = 0; i < count; ++i) {
        int fd = -1;
        std::memcpy(&fd, CMSG_DATA(header) + i * sizeof(int), sizeof(int));
        if (fds != nullptr) {
          fds->push_back(fd);
        } else {
          close(fd);
        }
      }
    }
    if (got <= 0) {
      if (got == 0) errno = 0;
      return false;
    }
    bytes += got;
    size -= static_cast<std::size_t>(got);
  }
  return true;
}

bool read_frame(int socket, std::uint32_t magic, Frame* frame) {
  unsigned char raw[kHeaderSize];
  frame->fds.clear();
  if (!read_exact(socket, raw, kHeaderSize, &frame->fds)) return false;
  const Header header = decode_header(raw);
  if (header.magic != magic || header.version != kProtocolVersion || header.length > kMaxPayload) {
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
