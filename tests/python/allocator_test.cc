// The names ISO_PYMALLOC and -X iso_pymalloc accept (the behaviour of each
// choice inside a running interpreter is tested end to end in
// tests/e2e/test_pymalloc.py).
#include <gtest/gtest.h>

#include "python/allocator.h"

namespace {

using iso::python::Allocator;
using iso::python::parse_allocator;

TEST(Allocator, KnownNames) {
  EXPECT_EQ(parse_allocator("pymalloc"), Allocator::pymalloc);
  EXPECT_EQ(parse_allocator("isoalloc"), Allocator::isoalloc);
  EXPECT_EQ(parse_allocator("malloc"), Allocator::malloc);
}

TEST(Allocator, AnythingElseIsRefused) {
  for (const char* name : {"", "Isoalloc", "isoalloc ", "debug", "pymalloc_debug", "mimalloc"}) {
    EXPECT_FALSE(parse_allocator(name).has_value()) << name;
  }
}

}  // namespace
