// iso::hybrid_map compiled by nvcc: every plan (CPU, device, split) must give
// the plain loop's results. Without a device (this machine, CI) every batch
// runs on the CPU; on the device tool's H100 the same binary runs the device
// and split paths (ISO_DEVICE=gpu forces the device for every batch).
#include <gtest/gtest.h>

#include <vector>

#include "isolate/gpu.h"

namespace {

struct Busy {
  __host__ __device__ int operator()(int x) const {
    int acc = x;
    for (int k = 0; k < 512; ++k) acc = (acc * 7 + 13) % 997;
    return acc;
  }
};

struct Saxpy {
  float a;
  __host__ __device__ float operator()(float x, float y) const { return a * x + y; }
};

TEST(HybridMap, BusyWorkEqualsThePlainLoopAtEverySize) {
  // Repeated, so that the policy probes the device and then plans splits.
  for (int round = 0; round < 2; ++round) {
    for (std::size_t n :
         {std::size_t{0}, std::size_t{1}, std::size_t{1000}, std::size_t{100000}, std::size_t{1000000}}) {
      std::vector<int> in(n);
      std::vector<int> out(n, -1);
      for (std::size_t i = 0; i < n; ++i) in[i] = static_cast<int>(i * 31 % 1000);
      iso::hybrid_map(n, Busy{}, out.data(), in.data());
      for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(out[i], Busy{}(in[i])) << n << " " << i;
    }
  }
}

TEST(HybridMap, SaxpyInPlaceReadsBothArrays) {
  for (std::size_t n : {std::size_t{1000}, std::size_t{5000000}}) {
    std::vector<float> x(n);
    std::vector<float> y(n);
    for (std::size_t i = 0; i < n; ++i) {
      x[i] = static_cast<float>(i % 4096);
      y[i] = 1.0f;
    }
    iso::hybrid_map(n, Saxpy{2.0f}, y.data(), x.data(), y.data());
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(y[i], 2.0f * static_cast<float>(i % 4096) + 1.0f) << i;
  }
}

}  // namespace
