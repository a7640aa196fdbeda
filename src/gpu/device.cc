// The CUDA runtime side of iso::hybrid_map that needs no device code:
// whether there is a device, each call site's streams and buffers, and the
// one way a CUDA error ends the program. Compiled by the C++ compiler
// against the toolkit's headers; the kernels are in isolate/gpu.h, compiled
// by nvcc in the caller's translation unit.
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>

#define ISO_GPU_RUNTIME 1
#include "isolate/gpu.h"

namespace iso::gpu_detail {

bool device_present() {
  int count = 0;
  return cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
}

void cuda_failed(const char* what, int code) {
  std::fprintf(stderr, "isolate: hybrid_map: %s failed: %s\n", what,
               cudaGetErrorString(static_cast<cudaError_t>(code)));
  std::abort();
}

void DeviceBuffers::reserve(std::size_t need) {
  if (need <= bytes) return;
  if (max_blocks == 0) {
    int device = 0;
    int sms = 0;
    if (cudaGetDevice(&device) != cudaSuccess ||
        cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device) != cudaSuccess || sms <= 0)
      sms = 16;
    max_blocks = static_cast<unsigned>(sms) * 8;  // 2,048 threads per SM
  }
  for (int k = 0; k < kStreams; ++k) {
    if (stream[k] == nullptr && cudaStreamCreateWithFlags(&stream[k], cudaStreamNonBlocking) != cudaSuccess)
      cuda_failed("cudaStreamCreate", static_cast<int>(cudaGetLastError()));
    if (device[k] != nullptr) cudaFree(device[k]);
    if (pinned[k] != nullptr) cudaFreeHost(pinned[k]);
    if (const cudaError_t rc = cudaMalloc(&device[k], need); rc != cudaSuccess) cuda_failed("cudaMalloc", rc);
    if (const cudaError_t rc = cudaMallocHost(&pinned[k], need); rc != cudaSuccess)
      cuda_failed("cudaMallocHost", rc);
  }
  bytes = need;
}

DeviceBuffers& device_buffers(const void* key) {
  static std::mutex lock;
  static std::map<const void*, std::unique_ptr<DeviceBuffers>> all;  // kept to the end: the driver frees them
  const std::lock_guard guard(lock);
  std::unique_ptr<DeviceBuffers>& b = all[key];
  if (!b) b = std::make_unique<DeviceBuffers>();
  return *b;
}

}  // namespace iso::gpu_detail
