// Bytes and file descriptors over a Unix stream socket, for both ends of the
// serve protocol: the front's call and the core's server, spares and request
// children.
#pragma once

#include <poll.h>
#include <sys/socket.h>

#include <cstddef>

#include "sys.h"

namespace iso::contract {

inline constexpr unsigned kMaxFdsPerMessage = 8;

// Sends all `size` bytes; the `count` fds travel with the first of them.
// Returns 0, or -errno. Never raises SIGPIPE.
inline long send_with_fds(int socket, const void* data, std::size_t size, const int* fds, unsigned count) {
  if (count > kMaxFdsPerMessage) return -EINVAL;
  const auto* bytes = static_cast<const char*>(data);
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage)] = {};
  while (size > 0) {
    iovec iov{const_cast<char*>(bytes), size};
    msghdr message{};
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    if (count > 0) {
      message.msg_control = control;
      message.msg_controllen = CMSG_SPACE(sizeof(int) * count);
      cmsghdr* header = CMSG_FIRSTHDR(&message);
      header->cmsg_level = SOL_SOCKET;
      header->cmsg_type = SCM_RIGHTS;
      header->cmsg_len = CMSG_LEN(sizeof(int) * count);
      __builtin_memcpy(CMSG_DATA(header), fds, sizeof(int) * count);
    }
    const long sent = sys::sendmsg(socket, &message, MSG_NOSIGNAL);
    if (sent == -EINTR) continue;
    if (sent < 0) return sent;
    count = 0;  // the fds went with the first bytes
    bytes += sent;
    size -= static_cast<std::size_t>(sent);
  }
  return 0;
}

// Receives exactly `size` bytes, handing every fd that arrives with them to
// `take(fd)`. On a non-blocking socket it waits for the rest, at most
// `timeout_ms` each time nothing is there. Returns the bytes received: `size`,
// fewer at end of stream; or -errno (-ETIMEDOUT when the wait ran out).
template <class TakeFd>
long receive_exact(int socket, void* data, std::size_t size, TakeFd&& take, int timeout_ms) {
  auto* bytes = static_cast<char*>(data);
  std::size_t received = 0;
  while (received < size) {
    iovec iov{bytes + received, size - received};
    msghdr message{};
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage)] = {};
    message.msg_control = control;
    message.msg_controllen = sizeof(control);
    const long got = sys::recvmsg(socket, &message, MSG_CMSG_CLOEXEC);
    if (got == -EINTR) continue;
    if (got == -EAGAIN) {
      pollfd readable{socket, POLLIN, 0};
      if (sys::poll(&readable, 1, timeout_ms) > 0) continue;
      return -ETIMEDOUT;
    }
    // One control message at most: the kernel ends a read at a message that
    // carries fds, so two senders' fds never arrive together. (CMSG_NXTHDR
    // may be a libc function; the front has none.)
    const cmsghdr* header = got >= 0 ? CMSG_FIRSTHDR(&message) : nullptr;
    if (header != nullptr && header->cmsg_level == SOL_SOCKET && header->cmsg_type == SCM_RIGHTS) {
      const std::size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (std::size_t i = 0; i < count; ++i) {
        int fd = -1;
        __builtin_memcpy(&fd, CMSG_DATA(header) + i * sizeof(int), sizeof(int));
        take(fd);
      }
    }
    if (got < 0) return got;
    if (got == 0) break;
    received += static_cast<std::size_t>(got);
  }
  return static_cast<long>(received);
}

}  // namespace iso::contract
