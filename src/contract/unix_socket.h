// Connecting to a server's Unix socket and asking who is at the other end:
// the front's call and the core's (which starts servers and answers
// --status and --stop) do both.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>

#include "sys.h"
#include "text.h"

namespace iso::contract {

// A connected stream socket (close-on-exec) to `path`; or -errno
// (-ENAMETOOLONG for a path too long for sockaddr_un).
inline long connect_unix(const char* path) {
  sockaddr_un address{};
  const std::size_t size = length(path);
  if (size >= sizeof(address.sun_path)) return -ENAMETOOLONG;
  address.sun_family = AF_UNIX;
  __builtin_memcpy(address.sun_path, path, size + 1);
  const long fd = sys::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fd;
  long connected = 0;
  while ((connected = sys::connect(static_cast<int>(fd), &address)) == -EINTR) {
  }
  if (connected == 0) return fd;
  sys::close(static_cast<int>(fd));
  return connected;
}

// The uid of the process at the other end of a connected Unix socket, or
// -errno. A server of another user could read what a call hands it.
inline long peer_uid(int socket) {
  ucred peer{};
  socklen_t size = sizeof(peer);
  const long got = sys::getsockopt(socket, SOL_SOCKET, SO_PEERCRED, &peer, &size);
  return got < 0 ? got : static_cast<long>(peer.uid);
}

}  // namespace iso::contract
