// The system calls of the front/core contract, and nothing else of an OS
// interface. The `isolate` front runs without a C library (src/front/start.cc,
// built with ISO_FREESTANDING), because glibc's start-up probes the CPU with
// dozens of CPUID instructions, and on a virtual machine each one exits to
// the hypervisor (docs/BENCHMARKS.md, issue 6). Everything else (the core,
// the tests, sanitizer builds of the front) makes the same calls through
// libc's syscall(), so the code above this header is one.
//
// Every call returns the kernel's answer: a result >= 0, or -errno.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <cerrno>  // the E* numbers; errno itself only on libc

#ifndef ISO_FREESTANDING
#include <unistd.h>
#endif

namespace iso::contract::sys {

template <typename T>
inline long word(T value) {
  if constexpr (std::is_null_pointer_v<T>) {
    return 0;
  } else if constexpr (std::is_pointer_v<T>) {
    return reinterpret_cast<long>(value);
  } else {
    return static_cast<long>(value);
  }
}

#ifndef ISO_FREESTANDING
inline long raw(long number, long a, long b, long c, long d, long e) {
  const long result = ::syscall(number, a, b, c, d, e);
  return result < 0 ? -errno : result;
}
#elif defined(__x86_64__)
inline long raw(long number, long a, long b, long c, long d, long e) {
  register long r10 asm("r10") = d;
  register long r8 asm("r8") = e;
  long result;
  asm volatile("syscall"
               : "=a"(result)
               : "a"(number), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8)
               : "rcx", "r11", "memory");
  return result;
}
#elif defined(__aarch64__)
// The number in x8, arguments in x0-x5, the result in x0; svc clobbers
// nothing else.
inline long raw(long number, long a, long b, long c, long d, long e) {
  register long x8 asm("x8") = number;
  register long x0 asm("x0") = a;
  register long x1 asm("x1") = b;
  register long x2 asm("x2") = c;
  register long x3 asm("x3") = d;
  register long x4 asm("x4") = e;
  asm volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4) : "memory");
  return x0;
}
#else
#error "the freestanding front knows the system calls of x86-64 and aarch64 only"
#endif

template <typename... Args>
inline long call(long number, Args... args) {
  static_assert(sizeof...(Args) <= 5);
  long words[5] = {word(args)...};
  return raw(number, words[0], words[1], words[2], words[3], words[4]);
}

// The kernel's struct sigaction (glibc's differs).
struct KernelSigaction {
  void (*handler)(int);
  unsigned long flags;
  void (*restorer)();
  std::uint64_t mask;
};
inline constexpr long kSigsetSize = 8;

inline long read(int fd, void* data, std::size_t size) {
  return call(SYS_read, fd, data, size);
}
inline long write(int fd, const void* data, std::size_t size) {
  return call(SYS_write, fd, data, size);
}
inline long close(int fd) {
  return call(SYS_close, fd);
}
inline long open(const char* path, int flags, int mode = 0) {
  return call(SYS_openat, AT_FDCWD, path, flags, mode);
}
inline long stat(const char* path, struct stat* info) {
  return call(SYS_newfstatat, AT_FDCWD, path, info, 0);
}
inline long lstat(const char* path, struct stat* info) {
  return call(SYS_newfstatat, AT_FDCWD, path, info, AT_SYMLINK_NOFOLLOW);
}
inline long access(const char* path, int mode) {
  return call(SYS_faccessat, AT_FDCWD, path, mode);
}
inline long readlink(const char* path, char* out, std::size_t size) {
  return call(SYS_readlinkat, AT_FDCWD, path, out, size);
}
inline long mkdir(const char* path, int mode) {
  return call(SYS_mkdirat, AT_FDCWD, path, mode);
}
inline long fcntl(int fd, int command, long argument = 0) {
  return call(SYS_fcntl, fd, command, argument);
}
inline long umask(int mask) {
  return call(SYS_umask, mask);
}
inline long socket(int domain, int type, int protocol) {
  return call(SYS_socket, domain, type, protocol);
}
inline long connect(int fd, const sockaddr_un* address) {
  return call(SYS_connect, fd, address, sizeof(sockaddr_un));
}
inline long sendmsg(int fd, const msghdr* message, int flags) {
  return call(SYS_sendmsg, fd, message, flags);
}
inline long recvmsg(int fd, msghdr* message, int flags) {
  return call(SYS_recvmsg, fd, message, flags);
}
inline long getsockopt(int fd, int level, int name, void* value, socklen_t* size) {
  return call(SYS_getsockopt, fd, level, name, value, size);
}
// ppoll, which every architecture has (aarch64 has no poll).
inline long poll(pollfd* fds, unsigned count, int timeout_ms) {
  struct KernelTimespec {
    long seconds, nanoseconds;
  } limit{timeout_ms / 1000, (timeout_ms % 1000) * 1000000L};
  return call(SYS_ppoll, fds, count, timeout_ms < 0 ? nullptr : &limit, nullptr, kSigsetSize);
}
inline long geteuid() {
  return call(SYS_geteuid);
}
inline long getpid() {
  return call(SYS_getpid);
}
inline long kill(int pid, int signum) {
  return call(SYS_kill, pid, signum);
}
inline long pidfd_send_signal(int pidfd, int signum) {
  return call(SYS_pidfd_send_signal, pidfd, signum, 0, 0);
}
inline long sigaction(int signum, const KernelSigaction* action, KernelSigaction* old) {
  return call(SYS_rt_sigaction, signum, action, old, kSigsetSize);
}
inline long sigprocmask(int how, const std::uint64_t* mask, std::uint64_t* old) {
  return call(SYS_rt_sigprocmask, how, mask, old, kSigsetSize);
}
inline long signalfd(std::uint64_t mask) {
  return call(SYS_signalfd4, -1, &mask, kSigsetSize, SFD_CLOEXEC | SFD_NONBLOCK);
}
inline long prlimit(int resource, const rlimit* wanted, rlimit* old) {
  return call(SYS_prlimit64, 0, resource, wanted, old);
}
inline long execve(const char* path, char* const* argv, char* const* envp) {
  return call(SYS_execve, path, argv, envp);
}
[[noreturn]] inline void exit(int status) {
  call(SYS_exit_group, status);
  __builtin_unreachable();
}

}  // namespace iso::contract::sys
