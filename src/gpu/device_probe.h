// Whether this machine has a CUDA device, for `isolate info`: asked of the
// driver (libcuda.so.1, loaded only for the question), so that isolate needs
// neither the CUDA toolkit nor a GPU to build or to run.
#pragma once

#include <string>

namespace iso::gpu {

// "yes (NVIDIA H100 80GB HBM3, 1 device, CUDA driver 13.0)", or "no (...)"
// saying why: no driver, a driver that does not start, or no device.
// ISO_CUDA_DRIVER names another driver library (the tests' fake one).
std::string describe_device();

}  // namespace iso::gpu
