// The C API: the front layer. Sizes, alignment, overflow checks and the
// malloc-family semantics live here; the two hot calls are the inline fast
// paths of internal.h.
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "internal.h"
#include "isolate/alloc.h"

namespace iso::alloc {

namespace {

constexpr bool is_pow2(std::size_t x) {
  return x != 0 && (x & (x - 1)) == 0;
}

// Usable size of a block; aborts on a pointer isoalloc did not hand out when
// that is cheap to see (any call in checks mode).
std::size_t usable_size(const void* p, const char* func) {
  Segment* s = segment_of(p);
  if (!maybe_ours(p) || !segment_known(s)) fatal_pointer(func, "invalid pointer", p);
  if (s->owner.load(std::memory_order_relaxed) == kOwnerHuge) {
    if (p != s->huge_block) fatal_pointer(func, "invalid pointer", p);
    return s->huge_size;
  }
  Page* pg = page_of(s, p);
  if (pg->flags & kInterior) pg = &s->pages[pg->head];
  if (!(pg->flags & kInUse)) fatal_pointer(func, "invalid pointer", p);
  if (g_options.checks) {
    const auto off = reinterpret_cast<std::uintptr_t>(p) - reinterpret_cast<std::uintptr_t>(pg->start);
    if (off % pg->bsize != 0) fatal_pointer(func, "invalid pointer", p);
  }
  return pg->bsize;
}

void* aligned(std::size_t n, std::size_t align) {
  if (align <= 16) return malloc_fast(n);
  return malloc_aligned(n, align);
}

}  // namespace

}  // namespace iso::alloc

using namespace iso::alloc;

extern "C" {

void* iso_malloc(size_t size) noexcept {
  return malloc_fast(size);
}

void iso_free(void* ptr) noexcept {
  free_fast(ptr);
}

void iso_free_sized(void* ptr, size_t) noexcept {
  free_fast(ptr);
}

void iso_free_aligned(void* ptr, size_t) noexcept {
  free_fast(ptr);
}

void* iso_calloc(size_t count, size_t size) noexcept {
  size_t total = 0;
  if (__builtin_mul_overflow(count, size, &total)) {
    errno = ENOMEM;
    return nullptr;
  }
  void* p = malloc_fast(total);
  if (p == nullptr) return nullptr;
  if (total > kLargeMax) {
    Segment* s = segment_of(p);
    if (huge_block_zeroed(s)) return p;  // fresh or purged mapping
  }
  std::memset(p, 0, total);
  return p;
}

void* iso_realloc(void* ptr, size_t size) noexcept {
  if (ptr == nullptr) return malloc_fast(size);
  if (size == 0) {  // glibc: free and return NULL
    free_fast(ptr);
    return nullptr;
  }
  const size_t usable = usable_size(ptr, "realloc()");
  if (size <= usable && size >= usable / 2) return ptr;  // fits without wasting more than half
  Segment* s = segment_of(ptr);
  if (usable > kLargeMax && s->owner.load(std::memory_order_relaxed) == kOwnerHuge && size > kLargeMax) {
    if (huge_resize_in_place(s, size)) return ptr;  // mremap without moving
  }
  void* q = malloc_fast(size);
  if (q == nullptr) return nullptr;  // ptr is untouched
  std::memcpy(q, ptr, size < usable ? size : usable);
  free_fast(ptr);
  return q;
}

void* iso_reallocarray(void* ptr, size_t count, size_t size) noexcept {
  size_t total = 0;
  if (__builtin_mul_overflow(count, size, &total)) {
    errno = ENOMEM;
    return nullptr;
  }
  return iso_realloc(ptr, total);
}

int iso_posix_memalign(void** out, size_t alignment, size_t size) noexcept {
  if (alignment < sizeof(void*) || !is_pow2(alignment)) return EINVAL;
  const int saved = errno;
  void* p = aligned(size, alignment);
  if (p == nullptr) {
    errno = saved;
    return ENOMEM;
  }
  *out = p;
  return 0;
}

void* iso_aligned_alloc(size_t alignment, size_t size) noexcept {
  if (!is_pow2(alignment)) {
    errno = EINVAL;
    return nullptr;
  }
  return aligned(size, alignment);
}

// glibc's memalign: a non-power-of-two alignment is rounded up.
void* iso_memalign(size_t alignment, size_t size) noexcept {
  if (alignment <= 16) return malloc_fast(size);
  if (alignment > SIZE_MAX / 2 + 1) {
    errno = EINVAL;
    return nullptr;
  }
  if (!is_pow2(alignment)) alignment = size_t{1} << (64 - __builtin_clzll(alignment));
  return aligned(size, alignment);
}

void* iso_valloc(size_t size) noexcept {
  return aligned(size, os_page_size());
}

void* iso_pvalloc(size_t size) noexcept {
  const size_t page = os_page_size();
  if (size > SIZE_MAX - page) {
    errno = ENOMEM;
    return nullptr;
  }
  size_t rounded = (size + page - 1) & ~(page - 1);
  if (rounded == 0) rounded = page;
  return aligned(rounded, page);
}

size_t iso_malloc_usable_size(const void* ptr) noexcept {
  if (ptr == nullptr) return 0;
  return usable_size(ptr, "malloc_usable_size()");
}

void iso_collect(int force) noexcept {
  heap_collect(tls_heap, force != 0);
}

void iso_print_stats(void) noexcept {
  stats_print_all();
}

}  // extern "C"
