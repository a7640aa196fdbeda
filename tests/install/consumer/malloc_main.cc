// Plain malloc in a program linked to libisoalloc.so: isoalloc serves it (its
// 20-byte request gets the 32-byte class; glibc's malloc would give 24).
#include <malloc.h>

#include <cstdio>
#include <cstdlib>

int main() {
  void* block = std::malloc(20);
  std::printf("%zu\n", malloc_usable_size(block));
  std::free(block);
  return 0;
}
