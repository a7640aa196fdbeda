// libFuzzer target: random sequences of the iso_* API, every live block filled
// with a pattern of its own and checked before it is resized or freed, every
// result checked against the contract in isolate/alloc.h. Built by clang with
// ASan+UBSan over isoalloc's code (the allocator serves only the iso_* calls
// here, so the sanitizers check its own accesses).
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "isolate/alloc.h"

namespace {

struct Block {
  unsigned char* ptr = nullptr;
  std::size_t size = 0;
  unsigned char fill = 0;
};

constexpr std::size_t kSlots = 64;
std::array<Block, kSlots> g_slots;

[[noreturn]] void fail(const char* what, const Block& b) {
  std::fprintf(stderr, "fuzz_alloc: %s (block %p, %zu bytes)\n", what, static_cast<void*>(b.ptr), b.size);
  std::abort();
}

// Large blocks are checked at their ends and at sparse points, so one input
// stays fast; small ones byte for byte.
template <typename F>
void for_checked_bytes(std::size_t size, F&& f) {
  if (size <= 4096) {
    for (std::size_t i = 0; i < size; ++i) f(i);
    return;
  }
  for (std::size_t i = 0; i < 256; ++i) f(i);
  for (std::size_t i = size - 256; i < size; ++i) f(i);
  for (std::size_t i = 256; i < size - 256; i += 4093) f(i);
}

void fill(Block& b, unsigned char value) {
  b.fill = value;
  if (b.size != 0) std::memset(b.ptr, value, b.size);
}

void check(const Block& b, std::size_t prefix) {
  for_checked_bytes(prefix, [&](std::size_t i) {
    if (b.ptr[i] != b.fill) fail("content changed", b);
  });
}

std::size_t pick_size(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange<int>(0, 15)) {
    case 0:
      return 0;
    case 1:
      return in.ConsumeIntegralInRange<std::size_t>(8 * 1024, 160 * 1024);  // medium / large
    case 2:
      return in.ConsumeIntegralInRange<std::size_t>(160 * 1024, 3 * 1024 * 1024);  // large / huge
    default:
      return in.ConsumeIntegralInRange<std::size_t>(1, 1100);  // the small classes
  }
}

void check_new(Block& b, std::size_t size, std::size_t alignment, unsigned char value) {
  if (b.ptr == nullptr) fail("allocation failed", b);
  if (reinterpret_cast<std::uintptr_t>(b.ptr) % std::max<std::size_t>(alignment, 16) != 0)
    fail("misaligned", b);
  if (iso_malloc_usable_size(b.ptr) < size) fail("usable size below the request", b);
  b.size = size;
  fill(b, value);
}

void release(Block& b) {
  check(b, b.size);
  iso_free(b.ptr);
  b = Block{};
}

void step(FuzzedDataProvider& in) {
  Block& b = g_slots[in.ConsumeIntegralInRange<std::size_t>(0, kSlots - 1)];
  const auto value = in.ConsumeIntegral<unsigned char>();
  const int op = in.ConsumeIntegralInRange<int>(0, 9);
  if (b.ptr != nullptr && op <= 4) release(b);  // ops 0-4 need an empty slot
  switch (op) {
    case 0: {
      const std::size_t size = pick_size(in);
      b.ptr = static_cast<unsigned char*>(iso_malloc(size));
      check_new(b, size, 16, value);
      break;
    }
    case 1: {
      const std::size_t count = in.ConsumeIntegralInRange<std::size_t>(0, 64);
      const std::size_t size = pick_size(in) / 16;
      b.ptr = static_cast<unsigned char*>(iso_calloc(count, size));
      b.size = count * size;
      b.fill = 0;
      if (b.ptr == nullptr) fail("calloc failed", b);
      check(b, b.size);  // zeroed
      fill(b, value);
      break;
    }
    case 2: {
      const std::size_t alignment = std::size_t{1} << in.ConsumeIntegralInRange<int>(3, 21);
      const std::size_t size = pick_size(in);
      void* p = nullptr;
      if (iso_posix_memalign(&p, alignment, size) != 0) fail("posix_memalign failed", b);
      b.ptr = static_cast<unsigned char*>(p);
      check_new(b, size, alignment, value);
      break;
    }
    case 3: {
      const std::size_t alignment = std::size_t{1} << in.ConsumeIntegralInRange<int>(0, 16);
      const std::size_t size = pick_size(in);
      b.ptr = static_cast<unsigned char*>(in.ConsumeBool() ? iso_aligned_alloc(alignment, size)
                                                           : iso_memalign(alignment, size));
      check_new(b, size, alignment, value);
      break;
    }
    case 4: {  // the overflow checks: must fail cleanly, nothing allocated
      const std::size_t half = (SIZE_MAX >> 1) + in.ConsumeIntegralInRange<std::size_t>(1, 1000);
      errno = 0;
      if (iso_calloc(2, half) != nullptr || errno != ENOMEM) fail("calloc overflow not refused", b);
      if (iso_reallocarray(nullptr, half, 4) != nullptr) fail("reallocarray overflow not refused", b);
      if (iso_malloc(SIZE_MAX - in.ConsumeIntegralInRange<std::size_t>(0, 4096)) != nullptr)
        fail("impossible malloc succeeded", b);
      break;
    }
    case 5:
    case 6: {  // realloc keeps the common prefix; realloc(NULL, n) is malloc
      const std::size_t size = pick_size(in);
      check(b, b.size);
      void* p = op == 5 ? iso_realloc(b.ptr, size) : iso_reallocarray(b.ptr, 1, size);
      if (size == 0 && b.ptr != nullptr) {  // realloc(p, 0) frees p
        if (p != nullptr) fail("realloc(p, 0) returned a block", b);
        b = Block{};
        break;
      }
      if (p == nullptr) fail("realloc failed", b);
      Block moved{static_cast<unsigned char*>(p), std::min(b.size, size), b.fill};
      check(moved, moved.size);
      b.ptr = moved.ptr;
      check_new(b, size, 16, value);
      break;
    }
    case 7:
      if (b.ptr != nullptr) release(b);
      iso_free(nullptr);
      break;
    case 8:
      iso_collect(in.ConsumeBool() ? 1 : 0);
      break;
    case 9:
      if (b.ptr != nullptr) {
        check(b, b.size);
        iso_free_sized(b.ptr, b.size);
        b = Block{};
      }
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  while (in.remaining_bytes() > 0) step(in);
  for (Block& b : g_slots) {
    if (b.ptr != nullptr) release(b);
  }
  return 0;
}
