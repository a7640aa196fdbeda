// Size classes: 16-byte steps up to 128 B (8 classes), then 4 classes per
// doubling up to 128 KiB (40 classes). Worst-case internal fragmentation is
// 15 B below 128 B and < 25 % above (1025 B -> 1280 B), about 10 % on average
// for uniformly distributed sizes. Every class size is a multiple of 16, so
// every block is 16-byte aligned; pages start on 64 KiB boundaries, so the
// blocks of a class whose size is a multiple of A (a power of two <= 64 KiB)
// are A-aligned, which is how the aligned allocator serves small alignments.
#include "internal.h"

namespace iso::alloc {

namespace {

constexpr uint32_t class_size_of(unsigned c) {
  if (c < 8) return 16 * (c + 1);
  const unsigned b = 7 + (c - 8) / 4;  // the class lies in (2^b, 2^(b+1)]
  const unsigned k = (c - 8) % 4 + 1;
  return (1u << b) + k * (1u << (b - 2));
}

// Pages of classes <= 8 KiB are one unit; bigger classes get runs holding at
// least 8 blocks, at most 8 units (512 KiB: 4 blocks of 128 KiB).
constexpr uint8_t class_units_of(unsigned c) {
  const uint64_t size = class_size_of(c);
  if (size <= kSmallMax) return 1;
  uint64_t units = (8 * size + kUnitSize - 1) / kUnitSize;
  if (units > kMediumMaxUnits) units = kMediumMaxUnits;
  return static_cast<uint8_t>(units);
}

constexpr ClassTables make_tables() {
  ClassTables t{};
  for (unsigned c = 0; c < kNumClasses; ++c) {
    t.size[c] = class_size_of(c);
    t.units[c] = class_units_of(c);
    t.slot_first[c] = 0xFF;
    t.slot_last[c] = 0;
  }
  unsigned c = 0;
  for (unsigned s = 0; s < kDirectSlots; ++s) {
    const uint32_t n = s == 0 ? 1 : s * 16;  // the largest size mapping to slot s
    while (class_size_of(c) < n) ++c;
    t.slot_class[s] = static_cast<uint8_t>(c);
    if (t.slot_first[c] == 0xFF) t.slot_first[c] = static_cast<uint8_t>(s);
    t.slot_last[c] = static_cast<uint8_t>(s);
  }
  return t;
}

constexpr ClassTables kTables = make_tables();
static_assert(kTables.size[kNumClasses - 1] == kMediumMax);
static_assert(kTables.size[31] == kSmallMax);
static_assert(kTables.slot_class[kDirectSlots - 1] == kDirectClasses - 1);
static_assert(kTables.size[kDirectClasses - 1] == kDirectMax);
static_assert(kTables.slot_class[(1039 + 15) / 16] == 20 && kTables.size[20] == 1280);

}  // namespace

constinit const ClassTables g_classes = kTables;

}  // namespace iso::alloc
