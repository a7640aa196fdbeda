// isoalloc's iso_* API beside the process malloc.
#include <cstdio>
#include <cstring>

#include "isolate/alloc.h"

int main() {
  char* text = static_cast<char*>(iso_malloc(20));
  std::memcpy(text, "isoalloc", sizeof "isoalloc");
  std::printf("%s %zu\n", text, iso_malloc_usable_size(text));  // 20 bytes come from the 32-byte class
  iso_free(text);
  return 0;
}
