// iso::hybrid_map compiled by nvcc: every plan (CPU, device, split) must give
// the plain loop's results. Without a device (this machine, CI) every batch
// runs on the CPU; on the device tool's H100 the same binary runs the device
// and split paths (ISO_DEVICE=gpu forces the device for every batch).
#include <gtest/gtest.h>

#include <vector>

#include "isolate/gpu.h"
#include "workloads.h"

namespace {

using iso_workloads::Busy;
using iso_workloads::Saxpy;

struct Affine {
  __host__ __device__ long long operator()(long long x) const { return 3 * x + 1; }
};

// Busy{}(v) for the inputs 0..999, computed once on the host.
const std::vector<int> kBusyOf = [] {
  std::vector<int> t(1000);
  for (int v = 0; v < 1000; ++v) t[static_cast<std::size_t>(v)] = Busy{}(v);
  return t;
}();

TEST(HybridMap, BusyWorkEqualsThePlainLoopAtEverySize) {
  // Repeated, so that the policy probes the device and then plans splits.
  for (int round = 0; round < 2; ++round) {
    for (std::size_t n :
         {std::size_t{0}, std::size_t{1}, std::size_t{1000}, std::size_t{100000}, std::size_t{1000000}}) {
      std::vector<int> in(n);
      std::vector<int> out(n, -1);
      for (std::size_t i = 0; i < n; ++i) in[i] = static_cast<int>(i * 31 % 1000);
      iso::hybrid_map(n, Busy{}, out.data(), in.data());
      for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(out[i], kBusyOf[in[i]]) << n << " " << i;
    }
  }
}

// Each forced mode, and the automatic one after it has seen the others' sizes.
TEST(HybridMap, EveryDeviceModeEqualsThePlainLoop) {
  for (iso::Device d : {iso::Device::cpu, iso::Device::gpu, iso::Device::split, iso::Device::automatic}) {
    for (std::size_t n : {std::size_t{1}, std::size_t{3}, std::size_t{4096}, std::size_t{100001}}) {
      std::vector<int> in(n);
      std::vector<int> out(n, -1);
      for (std::size_t i = 0; i < n; ++i) in[i] = static_cast<int>(i % 3000) - 1500;
      iso::hybrid_map(d, n, Busy{}, out.data(), in.data());
      for (std::size_t i = 0; i < n; ++i)
        ASSERT_EQ(out[i], Busy{}(in[i])) << static_cast<int>(d) << " " << n << " " << i;
    }
    // Past two of the device's 4M-item chunks, so both streams take turns.
    const std::size_t n = 9000001;
    std::vector<long long> in(n);
    std::vector<long long> out(n, -1);
    for (std::size_t i = 0; i < n; ++i) in[i] = static_cast<long long>(i) * 1000003;
    iso::hybrid_map(d, n, Affine{}, out.data(), in.data());
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(out[i], Affine{}(in[i])) << static_cast<int>(d) << " " << i;
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
