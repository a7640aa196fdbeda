// iso::hybrid_map compiled by a plain C++ compiler: no device path exists,
// every batch runs on parallel_for, and the results are the plain loop's.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "isolate/gpu.h"
#include "workloads.h"

namespace {

using iso_workloads::Busy;
using iso_workloads::Saxpy;

TEST(HybridMapCpu, BusyWorkEqualsThePlainLoop) {
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{1000}, std::size_t{200000}}) {
    std::vector<int> in(n);
    std::vector<int> out(n, -1);
    for (std::size_t i = 0; i < n; ++i) in[i] = static_cast<int>(i * 31 % 1000);
    iso::hybrid_map(n, Busy{}, out.data(), in.data());
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(out[i], Busy{}(in[i])) << n << " " << i;
  }
}

// Without a device every mode, forced or not, is the CPU's loop.
TEST(HybridMapCpu, EveryDeviceModeRunsOnTheCpuWithoutADevice) {
  const std::size_t n = 50000;
  std::vector<int> in(n);
  for (std::size_t i = 0; i < n; ++i) in[i] = static_cast<int>(i % 2000) - 1000;
  for (iso::Device d : {iso::Device::automatic, iso::Device::cpu, iso::Device::gpu, iso::Device::split}) {
    std::vector<int> out(n, -1);
    iso::hybrid_map(d, n, Busy{}, out.data(), in.data());
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(out[i], Busy{}(in[i])) << static_cast<int>(d) << " " << i;
  }
  EXPECT_EQ((iso::hybrid_crossover<Busy, int, int>()), SIZE_MAX);  // no device: never
}

TEST(HybridMapCpu, SaxpyInPlaceReadsBothArrays) {
  const std::size_t n = 100000;
  std::vector<float> x(n);
  std::vector<float> y(n);
  for (std::size_t i = 0; i < n; ++i) {
    x[i] = static_cast<float>(i);
    y[i] = 1.0f;
  }
  iso::hybrid_map(n, Saxpy{2.0f}, y.data(), x.data(), y.data());
  for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(y[i], 2.0f * static_cast<float>(i) + 1.0f) << i;
}

}  // namespace
