/* A stand-in for libcuda.so.1 with the five driver calls the probe makes
 * (src/gpu/device_probe.cc), told what to answer by the environment:
 * FAKE_CUDA_DEVICES (default 0) and FAKE_CUDA_INIT_ERROR (default 0). */
#include <stdlib.h>
#include <string.h>

static int env_int(const char* name) {
  const char* v = getenv(name);
  return v != NULL ? atoi(v) : 0;
}

int cuInit(unsigned flags) {
  (void)flags;
  return env_int("FAKE_CUDA_INIT_ERROR");
}

int cuDriverGetVersion(int* version) {
  *version = 13000;
  return 0;
}

int cuDeviceGetCount(int* count) {
  *count = env_int("FAKE_CUDA_DEVICES");
  return 0;
}

int cuDeviceGet(int* device, int ordinal) {
  *device = ordinal;
  return ordinal < env_int("FAKE_CUDA_DEVICES") ? 0 : 101;
}

int cuDeviceGetName(char* name, int len, int device) {
  (void)device;
  strncpy(name, "Fake GPU 9000", (size_t)len);
  return 0;
}
