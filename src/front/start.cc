// The front's whole runtime: the process entry point and the few memory
// functions the compiler may call. No C library: glibc's static start-up
// alone runs about sixty CPUID instructions (its CPU-feature and cache
// probes), and each is a trap to the hypervisor on a virtual machine, 0.28 ms
// of a 0.4 ms process start on the 2-core VM we measure on.
#include <cstddef>

#include "contract/sys.h"

namespace iso::front {
int main(int argc, char** argv, char** envp);
}

extern "C" {

// They return the destination as it was: the compiler relies on that.
#if defined(__x86_64__)
// In assembly, so that the compiler cannot turn them back into calls to
// these very functions.
void* memcpy(void* to, const void* from, std::size_t size) {
  void* start = to;
  asm volatile("rep movsb" : "+D"(to), "+S"(from), "+c"(size) : : "memory");
  return start;
}

void* memmove(void* to, const void* from, std::size_t size) {
  if (to <= from || static_cast<const char*>(from) + size <= static_cast<char*>(to))
    return memcpy(to, from, size);
  // Overlapping with the source first: copy from the end.
  void* last = static_cast<char*>(to) + size - 1;
  const void* source = static_cast<const char*>(from) + size - 1;
  asm volatile("std\n rep movsb\n cld" : "+D"(last), "+S"(source), "+c"(size) : : "memory");
  return to;
}

void* memset(void* to, int value, std::size_t size) {
  void* start = to;
  asm volatile("rep stosb" : "+D"(to), "+c"(size) : "a"(value) : "memory");
  return start;
}
#else
// Plain loops: this file is built with -fno-tree-loop-distribute-patterns,
// which keeps the compiler from turning them back into calls to these very
// functions. The front copies a few hundred bytes at most.
void* memcpy(void* to, const void* from, std::size_t size) {
  auto* out = static_cast<unsigned char*>(to);
  const auto* in = static_cast<const unsigned char*>(from);
  for (std::size_t i = 0; i < size; ++i) out[i] = in[i];
  return to;
}

void* memmove(void* to, const void* from, std::size_t size) {
  auto* out = static_cast<unsigned char*>(to);
  const auto* in = static_cast<const unsigned char*>(from);
  if (out <= in || in + size <= out) return memcpy(to, from, size);
  for (std::size_t i = size; i > 0; --i) out[i - 1] = in[i - 1];
  return to;
}

void* memset(void* to, int value, std::size_t size) {
  auto* out = static_cast<unsigned char*>(to);
  for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<unsigned char>(value);
  return to;
}
#endif

int memcmp(const void* a, const void* b, std::size_t size) {
  const auto* x = static_cast<const unsigned char*>(a);
  const auto* y = static_cast<const unsigned char*>(b);
  for (std::size_t i = 0; i < size; ++i) {
    if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
  }
  return 0;
}

std::size_t strlen(const char* text) {
  std::size_t size = 0;
  while (text[size] != '\0') ++size;
  return size;
}

// The kernel starts the process with argc, argv and envp on the stack.
[[noreturn]] void iso_front_start(long* stack) {
  const auto argc = static_cast<int>(stack[0]);
  char** argv = reinterpret_cast<char**>(stack + 1);
  iso::contract::sys::exit(iso::front::main(argc, argv, argv + argc + 1));
}

}  // extern "C"

// The entry point: no return address and no frame above it (the zeroed
// frame pointer ends a debugger's backtrace), the stack aligned to 16 for
// the call.
#if defined(__x86_64__)
asm(".text\n"
    ".globl _start\n"
    "_start:\n"
    "  xor %ebp, %ebp\n"
    "  mov %rsp, %rdi\n"
    "  and $-16, %rsp\n"
    "  call iso_front_start\n"
    "  hlt\n");
#elif defined(__aarch64__)
// The kernel already leaves sp aligned to 16 on aarch64.
asm(".text\n"
    ".globl _start\n"
    "_start:\n"
    "  mov x29, xzr\n"
    "  mov x30, xzr\n"
    "  mov x0, sp\n"
    "  bl iso_front_start\n"
    "  brk #0\n");
#else
#error "the freestanding front has a _start for x86-64 and aarch64 only"
#endif
