/* isoalloc: isolate's small-object allocator (components isolate::alloc and
 * isolate::alloc_shared).
 *
 * Usable from C and C++. Two ways to use it:
 *   - these iso_* functions, from the static library (libisoalloc.a), beside
 *     the process malloc;
 *   - as the process malloc: LD_PRELOAD=libisoalloc.so, or link libisoalloc.so,
 *     which defines malloc/free/calloc/realloc/reallocarray/posix_memalign/
 *     aligned_alloc/memalign/valloc/pvalloc/malloc_usable_size and every C++
 *     operator new/delete as these functions.
 *
 * Semantics (the same as glibc's where C leaves a choice):
 *   - every block is aligned to at least 16 bytes; malloc(0) returns a unique
 *     16-byte block;
 *   - free(NULL) does nothing; realloc(NULL, n) is malloc(n);
 *   - realloc(p, 0) frees p and returns NULL (glibc's behaviour);
 *   - calloc and reallocarray return NULL with errno = ENOMEM when
 *     count * size overflows; every failing allocation sets errno = ENOMEM;
 *   - posix_memalign returns EINVAL unless alignment is a power of two and a
 *     multiple of sizeof(void *); aligned_alloc sets EINVAL unless alignment
 *     is a power of two; memalign rounds a non-power-of-two alignment up;
 *     alignments up to 2 MiB are served, larger ones fail with ENOMEM;
 *   - malloc_usable_size(p) >= the size requested, and all of it may be used;
 *   - thread-safe; memory may be freed by any thread; fork() is safe (the
 *     child may allocate);
 *   - a pointer that is not from isoalloc, or a double free, aborts with
 *     "isoalloc: free(): invalid pointer 0x..." (or "double free") where that
 *     is cheap to see; ISO_ALLOC_CHECKS=1 (default in debug builds) checks
 *     every call.
 *
 * Environment switches, read once at start-up: ISO_ALLOC_STATS=1 prints
 * counters at exit; see src/alloc/options.cc for the others. */
#ifndef ISOLATE_ALLOC_H
#define ISOLATE_ALLOC_H

#include <stddef.h>

#if defined(__cplusplus)
#define ISO_ALLOC_NOEXCEPT noexcept
#elif defined(__GNUC__)
#define ISO_ALLOC_NOEXCEPT __attribute__((nothrow))
#else
#define ISO_ALLOC_NOEXCEPT
#endif

#if defined(__GNUC__)
#define ISO_ALLOC_API __attribute__((visibility("default")))
#define ISO_ALLOC_MALLOC __attribute__((malloc, warn_unused_result))
#define ISO_ALLOC_SIZE(...) __attribute__((alloc_size(__VA_ARGS__)))
#else
#define ISO_ALLOC_API
#define ISO_ALLOC_MALLOC
#define ISO_ALLOC_SIZE(...)
#endif

#ifdef __cplusplus
extern "C" {
#endif

ISO_ALLOC_API ISO_ALLOC_MALLOC ISO_ALLOC_SIZE(1) void* iso_malloc(size_t size) ISO_ALLOC_NOEXCEPT;
ISO_ALLOC_API void iso_free(void* ptr) ISO_ALLOC_NOEXCEPT;
ISO_ALLOC_API ISO_ALLOC_MALLOC ISO_ALLOC_SIZE(1, 2) void* iso_calloc(size_t count,
                                                                     size_t size) ISO_ALLOC_NOEXCEPT;
ISO_ALLOC_API ISO_ALLOC_SIZE(2) void* iso_realloc(void* ptr, size_t size) ISO_ALLOC_NOEXCEPT;
ISO_ALLOC_API ISO_ALLOC_SIZE(2, 3) void* iso_reallocarray(void* ptr, size_t count,
                                                          size_t size) ISO_ALLOC_NOEXCEPT;
ISO_ALLOC_API int iso_posix_memalign(void** out, size_t alignment, size_t size) ISO_ALLOC_NOEXCEPT;
ISO_ALLOC_API ISO_ALLOC_MALLOC ISO_ALLOC_SIZE(2) void* iso_aligned_alloc(size_t alignment,
                                                                         size_t size) ISO_ALLOC_NOEXCEPT;
ISO_ALLOC_API ISO_ALLOC_MALLOC ISO_ALLOC_SIZE(2) void* iso_memalign(size_t alignment,
                                                                    size_t size) ISO_ALLOC_NOEXCEPT;
ISO_ALLOC_API ISO_ALLOC_MALLOC ISO_ALLOC_SIZE(1) void* iso_valloc(size_t size) ISO_ALLOC_NOEXCEPT;
ISO_ALLOC_API ISO_ALLOC_MALLOC void* iso_pvalloc(size_t size) ISO_ALLOC_NOEXCEPT;
ISO_ALLOC_API size_t iso_malloc_usable_size(const void* ptr) ISO_ALLOC_NOEXCEPT;

/* free with a size hint (C23 free_sized; the size is not needed) and the
 * counterpart of iso_aligned_alloc (ordinary iso_free works as well). */
ISO_ALLOC_API void iso_free_sized(void* ptr, size_t size) ISO_ALLOC_NOEXCEPT;
ISO_ALLOC_API void iso_free_aligned(void* ptr, size_t alignment) ISO_ALLOC_NOEXCEPT;

/* Gives the calling thread's free memory back: collects frees from other
 * threads, retires every empty page (force != 0: also the current page of
 * each size class and the spare segment) and purges free memory. */
ISO_ALLOC_API void iso_collect(int force) ISO_ALLOC_NOEXCEPT;

/* Writes the counters that ISO_ALLOC_STATS=1 prints at exit to stderr.
 * Without ISO_ALLOC_STATS=1, frees by threads that never allocated are not
 * counted (counting them would cost an atomic add per free). */
ISO_ALLOC_API void iso_print_stats(void) ISO_ALLOC_NOEXCEPT;

#ifdef __cplusplus
}
#endif

#endif /* ISOLATE_ALLOC_H */
