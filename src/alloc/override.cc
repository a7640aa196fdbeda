// The process allocator: malloc & co. and C++ operator new/delete, compiled
// only into libisoalloc.so (LD_PRELOAD or link it). malloc and free inline
// the fast paths themselves, so a preloaded call costs the PLT jump and the
// fast path, nothing more.
//
// The library needs no C++ runtime: the two libstdc++ functions that
// operator new's failure path uses are weak references, present whenever a
// C++ program (the only kind that calls operator new) is running.
#include <malloc.h>
#include <stdlib.h>

#include <cerrno>
#include <new>

#include "internal.h"
#include "isolate/alloc.h"

#define ISO_EXPORT __attribute__((visibility("default")))

using iso::alloc::free_fast;
using iso::alloc::malloc_fast;

using NewHandler = void (*)();
extern "C" {
// std::get_new_handler() and std::__throw_bad_alloc(), by their mangled names.
NewHandler _ZSt15get_new_handlerv() __attribute__((weak));
[[noreturn]] void _ZSt17__throw_bad_allocv() __attribute__((weak));
}

namespace {

// operator new could not allocate: call the new-handler until it gives up.
// The nothrow forms return nullptr without calling it: calling it could
// throw, and catching needs the C++ runtime.
ISO_COLD void* new_failed(std::size_t n, std::size_t align, bool nothrow) {
  for (;;) {
    NewHandler handler = (!nothrow && _ZSt15get_new_handlerv != nullptr) ? _ZSt15get_new_handlerv() : nullptr;
    if (handler == nullptr) {
      if (nothrow) return nullptr;
      if (_ZSt17__throw_bad_allocv != nullptr) _ZSt17__throw_bad_allocv();
      abort();
    }
    handler();
    void* p = align > 16 ? iso_aligned_alloc(align, n) : iso_malloc(n);
    if (p != nullptr) return p;
  }
}

ISO_INLINE void* new_impl(std::size_t n) {
  void* p = malloc_fast(n);
  if (ISO_LIKELY(p != nullptr)) return p;
  return new_failed(n, 0, false);
}

ISO_INLINE void* new_nothrow(std::size_t n) {
  void* p = malloc_fast(n);
  if (ISO_LIKELY(p != nullptr)) return p;
  return new_failed(n, 0, true);
}

ISO_INLINE void* new_aligned(std::size_t n, std::align_val_t al, bool nothrow) {
  const auto align = static_cast<std::size_t>(al);
  void* p = iso_aligned_alloc(align, n);
  if (ISO_LIKELY(p != nullptr)) return p;
  return new_failed(n, align, nothrow);
}

}  // namespace

extern "C" {

ISO_EXPORT void* malloc(size_t size) noexcept {
  return malloc_fast(size);
}
ISO_EXPORT void free(void* ptr) noexcept {
  free_fast(ptr);
}
ISO_EXPORT void* calloc(size_t count, size_t size) noexcept {
  return iso_calloc(count, size);
}
ISO_EXPORT void* realloc(void* ptr, size_t size) noexcept {
  return iso_realloc(ptr, size);
}
ISO_EXPORT void* reallocarray(void* ptr, size_t count, size_t size) noexcept {
  return iso_reallocarray(ptr, count, size);
}
ISO_EXPORT int posix_memalign(void** out, size_t alignment, size_t size) noexcept {
  return iso_posix_memalign(out, alignment, size);
}
ISO_EXPORT void* aligned_alloc(size_t alignment, size_t size) noexcept {
  return iso_aligned_alloc(alignment, size);
}
ISO_EXPORT void* memalign(size_t alignment, size_t size) noexcept {
  return iso_memalign(alignment, size);
}
ISO_EXPORT void* valloc(size_t size) noexcept {
  return iso_valloc(size);
}
ISO_EXPORT void* pvalloc(size_t size) noexcept {
  return iso_pvalloc(size);
}
ISO_EXPORT size_t malloc_usable_size(void* ptr) noexcept {
  return iso_malloc_usable_size(ptr);
}
ISO_EXPORT int malloc_trim(size_t) noexcept {
  iso_collect(1);
  return 1;
}

// glibc's internal names, which some programs and libraries call directly.
ISO_EXPORT void* __libc_malloc(size_t size) {
  return malloc_fast(size);
}
ISO_EXPORT void __libc_free(void* ptr) {
  free_fast(ptr);
}
ISO_EXPORT void* __libc_calloc(size_t count, size_t size) {
  return iso_calloc(count, size);
}
ISO_EXPORT void* __libc_realloc(void* ptr, size_t size) {
  return iso_realloc(ptr, size);
}
ISO_EXPORT void* __libc_memalign(size_t alignment, size_t size) {
  return iso_memalign(alignment, size);
}
ISO_EXPORT void* __libc_valloc(size_t size) {
  return iso_valloc(size);
}
ISO_EXPORT void* __libc_pvalloc(size_t size) {
  return iso_pvalloc(size);
}
ISO_EXPORT int __posix_memalign(void** out, size_t alignment, size_t size) {
  return iso_posix_memalign(out, alignment, size);
}
// Removed from glibc's headers in 2.26 but still exported for old binaries.
ISO_EXPORT void cfree(void* ptr) {
  free_fast(ptr);
}

}  // extern "C"

ISO_EXPORT void* operator new(std::size_t n) {
  return new_impl(n);
}
ISO_EXPORT void* operator new[](std::size_t n) {
  return new_impl(n);
}
ISO_EXPORT void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  return new_nothrow(n);
}
ISO_EXPORT void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  return new_nothrow(n);
}
ISO_EXPORT void* operator new(std::size_t n, std::align_val_t al) {
  return new_aligned(n, al, false);
}
ISO_EXPORT void* operator new[](std::size_t n, std::align_val_t al) {
  return new_aligned(n, al, false);
}
ISO_EXPORT void* operator new(std::size_t n, std::align_val_t al, const std::nothrow_t&) noexcept {
  return new_aligned(n, al, true);
}
ISO_EXPORT void* operator new[](std::size_t n, std::align_val_t al, const std::nothrow_t&) noexcept {
  return new_aligned(n, al, true);
}

ISO_EXPORT void operator delete(void* p) noexcept {
  free_fast(p);
}
ISO_EXPORT void operator delete[](void* p) noexcept {
  free_fast(p);
}
ISO_EXPORT void operator delete(void* p, std::size_t) noexcept {
  free_fast(p);
}
ISO_EXPORT void operator delete[](void* p, std::size_t) noexcept {
  free_fast(p);
}
ISO_EXPORT void operator delete(void* p, const std::nothrow_t&) noexcept {
  free_fast(p);
}
ISO_EXPORT void operator delete[](void* p, const std::nothrow_t&) noexcept {
  free_fast(p);
}
ISO_EXPORT void operator delete(void* p, std::align_val_t) noexcept {
  free_fast(p);
}
ISO_EXPORT void operator delete[](void* p, std::align_val_t) noexcept {
  free_fast(p);
}
ISO_EXPORT void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  free_fast(p);
}
ISO_EXPORT void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  free_fast(p);
}
ISO_EXPORT void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  free_fast(p);
}
ISO_EXPORT void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  free_fast(p);
}
