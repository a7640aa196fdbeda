#include <Python.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "isolate/python.h"

namespace {

using iso::python::build_info;

TEST(BuildInfo, VersionIsTheHeadersVersion) {
  // PY_VERSION can carry a suffix ("3.13.0+"); the probe reports the release.
  EXPECT_TRUE(std::string(PY_VERSION).starts_with(build_info().version)) << build_info().version;
}

TEST(BuildInfo, ExecutableIsAnAbsolutePathOfThatVersion) {
  const std::string exe(build_info().executable);
  ASSERT_FALSE(exe.empty());
  EXPECT_EQ(exe.front(), '/');
  const std::string major_minor = std::to_string(PY_MAJOR_VERSION) + "." + std::to_string(PY_MINOR_VERSION);
  EXPECT_NE(exe.find("python" + major_minor), std::string::npos) << exe;
}

TEST(BuildInfo, BackendsFollowTheBuild) {
  const auto& backends = build_info().backends;
  ASSERT_FALSE(backends.empty());
  EXPECT_EQ(backends.back(), "process") << "process is the fallback and always last";
  const bool has_subinterp = std::find(backends.begin(), backends.end(), "subinterp") != backends.end();
  EXPECT_EQ(has_subinterp, PY_VERSION_HEX >= 0x030C0000);
  const bool has_threads = std::find(backends.begin(), backends.end(), "threads") != backends.end();
  EXPECT_EQ(has_threads, build_info().gil_disabled);
}

TEST(BuildInfo, LibpythonIsStatic) {
  EXPECT_TRUE(build_info().libpython_static);
}

}  // namespace
