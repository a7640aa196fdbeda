#include "device_probe.h"

#include <dlfcn.h>

#include <cstdlib>
#include <string>

namespace iso::gpu {

namespace {

// The driver API's entry points used here; CUresult 0 is CUDA_SUCCESS.
using CuInit = int (*)(unsigned);
using CuDriverGetVersion = int (*)(int*);
using CuDeviceGetCount = int (*)(int*);
using CuDeviceGet = int (*)(int*, int);
using CuDeviceGetName = int (*)(char*, int, int);

struct Library {
  void* handle;
  ~Library() {
    if (handle != nullptr) dlclose(handle);
  }
  template <class F>
  F get(const char* name) const {
    return reinterpret_cast<F>(dlsym(handle, name));
  }
};

std::string version_text(int v) {
  return std::to_string(v / 1000) + "." + std::to_string(v % 1000 / 10);
}

}  // namespace

std::string describe_device() {
  const char* custom = std::getenv("ISO_CUDA_DRIVER");
  const char* path = custom != nullptr && *custom != '\0' ? custom : "libcuda.so.1";
  const Library lib{dlopen(path, RTLD_NOW | RTLD_LOCAL)};
  if (lib.handle == nullptr) return std::string("no (no CUDA driver: ") + path + " not found)";
  const auto init = lib.get<CuInit>("cuInit");
  const auto driver_version = lib.get<CuDriverGetVersion>("cuDriverGetVersion");
  const auto count = lib.get<CuDeviceGetCount>("cuDeviceGetCount");
  const auto device = lib.get<CuDeviceGet>("cuDeviceGet");
  const auto name = lib.get<CuDeviceGetName>("cuDeviceGetName");
  if (init == nullptr || driver_version == nullptr || count == nullptr || device == nullptr ||
      name == nullptr)
    return std::string("no (") + path + " is not a CUDA driver)";
  int version = 0;
  const std::string driver =
      driver_version(&version) == 0 ? "CUDA driver " + version_text(version) : std::string("CUDA driver");
  if (const int rc = init(0); rc != 0)
    return "no (" + driver + " did not start: error " + std::to_string(rc) + ")";
  int devices = 0;
  if (count(&devices) != 0 || devices <= 0) return "no (" + driver + ", no device)";
  int first = 0;
  char text[256] = {};
  const std::string model =
      device(&first, 0) == 0 && name(text, sizeof text - 1, first) == 0 ? std::string(text) : "a CUDA device";
  return "yes (" + model + ", " + std::to_string(devices) + (devices == 1 ? " device, " : " devices, ") +
         driver + ")";
}

}  // namespace iso::gpu
