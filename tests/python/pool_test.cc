// Backend names and the automatic choice (the pool itself is driven end to
// end through `isolate map` in tests/e2e/test_map.py).
#include <gtest/gtest.h>
#include <stdlib.h>

#include "isolate/python.h"

namespace {

using iso::python::Backend;

TEST(PoolBackend, NamesRoundTrip) {
  for (const Backend b : {Backend::subinterp, Backend::threads, Backend::process}) {
    EXPECT_EQ(iso::python::parse_backend(iso::python::backend_name(b)), b);
  }
  EXPECT_FALSE(iso::python::parse_backend("auto"));
  EXPECT_FALSE(iso::python::parse_backend("Process"));
}

TEST(PoolBackend, AutoIsTheBestOfTheBuildUnlessProcessesAreForced) {
  unsetenv("ISO_FORCE_PROCESS");
  const auto& info = iso::python::build_info();
  const Backend expected = info.gil_disabled                      ? Backend::threads
                           : info.backends.front() == "subinterp" ? Backend::subinterp
                                                                  : Backend::process;
  EXPECT_EQ(iso::python::auto_backend(), expected);
  setenv("ISO_FORCE_PROCESS", "1", 1);
  EXPECT_EQ(iso::python::auto_backend(), Backend::process);
  setenv("ISO_FORCE_PROCESS", "0", 1);
  EXPECT_EQ(iso::python::auto_backend(), expected);
  unsetenv("ISO_FORCE_PROCESS");
}

}  // namespace
