// isolate info's gpu line against a fake driver (tests/gpu/fake_cuda_driver.c)
// and against libraries that are not one.
#include "device_probe.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace iso::gpu {
namespace {

struct Driver {
  Driver(const char* path, const char* devices, const char* init_error) {
    setenv("ISO_CUDA_DRIVER", path, 1);
    setenv("FAKE_CUDA_DEVICES", devices, 1);
    setenv("FAKE_CUDA_INIT_ERROR", init_error, 1);
  }
  ~Driver() {
    unsetenv("ISO_CUDA_DRIVER");
    unsetenv("FAKE_CUDA_DEVICES");
    unsetenv("FAKE_CUDA_INIT_ERROR");
  }
};

TEST(DeviceProbe, NoDriverIsSaid) {
  const Driver d("/nonexistent/libcuda.so.1", "0", "0");
  EXPECT_EQ(describe_device(), "no (no CUDA driver: /nonexistent/libcuda.so.1 not found)");
}

TEST(DeviceProbe, ALibraryThatIsNotADriver) {
  const Driver d("libm.so.6", "0", "0");
  EXPECT_EQ(describe_device(), "no (libm.so.6 is not a CUDA driver)");
}

TEST(DeviceProbe, ADriverWithoutADevice) {
  const Driver d(FAKE_CUDA_DRIVER, "0", "0");
  EXPECT_EQ(describe_device(), "no (CUDA driver 13.0, no device)");
}

TEST(DeviceProbe, ADriverThatDoesNotStart) {
  const Driver d(FAKE_CUDA_DRIVER, "1", "100");
  EXPECT_EQ(describe_device(), "no (CUDA driver 13.0 did not start: error 100)");
}

TEST(DeviceProbe, DevicesAreNamed) {
  const Driver one(FAKE_CUDA_DRIVER, "1", "0");
  EXPECT_EQ(describe_device(), "yes (Fake GPU 9000, 1 device, CUDA driver 13.0)");
  setenv("FAKE_CUDA_DEVICES", "2", 1);
  EXPECT_EQ(describe_device(), "yes (Fake GPU 9000, 2 devices, CUDA driver 13.0)");
}

}  // namespace
}  // namespace iso::gpu
