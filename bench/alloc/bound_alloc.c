/* bound_alloc: the cheapest malloc the single-threaded Mixed loop can run on,
 * to bound what any allocator can gain there (docs/BENCHMARKS.md, issue 18).
 * Not an allocator for anything else: one free list per 16-byte class in a
 * thread-local table, a 16-byte header holding the class, memory taken from
 * a bump region and never returned, no locking (blocks must be freed by the
 * thread that made them), no blocks over 2 KiB from the lists. Preload it into
 * alloc_mixed with one thread:
 *   LD_PRELOAD=build/lib/libbound_alloc.so build/bin/alloc_mixed
 * Its malloc's fast path is 12 instructions and its free 10, ret included
 * (x86-64, gcc 12 -O2; isoalloc's are 15 and 18). */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#define CLASSES 129          /* 16-byte classes up to 2 KiB; class 0 is for 0 bytes */
#define REGION (1ull << 32)  /* address space reserved once (4 GiB, untouched until used) */

typedef struct Free {
  struct Free* next;
} Free;

static __thread Free* lists[CLASSES];
static char* bump;
static char* bump_end;

static void* take(size_t bytes) {
  if (bump == NULL) {
    void* r = mmap(NULL, REGION, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (r == MAP_FAILED) return NULL;
    bump = r;
    bump_end = bump + REGION;
  }
  bytes = (bytes + 15) & ~(size_t)15;
  if ((size_t)(bump_end - bump) < bytes) return NULL;
  char* p = bump;
  bump += bytes;
  return p;
}

/* Big blocks: a header of 16 bytes holding the size + 0x10000 (a class never is). */
static __attribute__((noinline)) void* malloc_slow(size_t n) {
  const size_t c = (n + 15) >> 4;
  size_t* h = take(16 + (n <= 2048 ? c << 4 : n));
  if (h == NULL) return errno = ENOMEM, NULL;
  h[0] = n <= 2048 ? c : n + 0x10000;
  return h + 2;
}

void* malloc(size_t n) {
  if (n <= 2048) {
    const size_t c = (n + 15) >> 4;
    Free* f = lists[c];
    if (f != NULL) {
      lists[c] = f->next;
      return f;
    }
  }
  return malloc_slow(n);
}

void free(void* p) {
  if (p == NULL) return;
  const size_t c = ((size_t*)p)[-2];
  if (c < CLASSES) {
    ((Free*)p)->next = lists[c];
    lists[c] = p;
  }
}

static size_t usable(void* p) {
  const size_t c = ((size_t*)p)[-2];
  return c < CLASSES ? c << 4 : c - 0x10000;
}

size_t malloc_usable_size(void* p) { return p == NULL ? 0 : usable(p); }

void* calloc(size_t k, size_t n) {
  if (n != 0 && k > SIZE_MAX / n) return errno = ENOMEM, NULL;
  void* p = malloc(k * n);
  if (p != NULL) memset(p, 0, k * n);
  return p;
}

void* realloc(void* p, size_t n) {
  if (p == NULL) return malloc(n);
  const size_t have = usable(p);
  if (n <= have) return p;
  void* q = malloc(n);
  if (q != NULL) {
    memcpy(q, p, have);
    free(p);
  }
  return q;
}

/* Aligned blocks: a big block with room to align, never reused. */
void* aligned_alloc(size_t align, size_t n) {
  if (align <= 16) return malloc(n);
  size_t* h = take(align + 16 + n);
  if (h == NULL) return errno = ENOMEM, NULL;
  uintptr_t a = ((uintptr_t)(h + 2) + align - 1) & ~(uintptr_t)(align - 1);
  ((size_t*)a)[-2] = n + 0x10000;
  return (void*)a;
}

void* memalign(size_t align, size_t n) { return aligned_alloc(align, n); }

int posix_memalign(void** out, size_t align, size_t n) {
  void* p = aligned_alloc(align, n);
  if (p == NULL) return ENOMEM;
  *out = p;
  return 0;
}
