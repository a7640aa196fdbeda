// The offload policy against simulated sides: each takes latency + items x
// per_item seconds (with a deterministic jitter where a test asks for one),
// and the policy only sees the times, as it will see a real device's.
#include "offload_policy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

namespace iso::gpu {
namespace {

struct Side {
  double latency;
  double per_item;
  double time(std::size_t n) const { return latency + per_item * static_cast<double>(n); }
};

// Roughly the seed report's busy_work on 16 cores against an H100 behind
// PCIe: the CPU starts in microseconds, the device pays a launch and a copy
// of tens of microseconds but then runs each item ~20x cheaper.
constexpr Side kCpu{3e-6, 1e-9};
constexpr Side kGpu{60e-6, 5e-11};

// The batch at which the device alone starts to beat the CPU alone.
double true_crossover(Side c, Side g) {
  return (g.latency - c.latency) / (c.per_item - g.per_item);
}

// What a plan takes with these sides: the CPU's share and the device's in
// parallel, plus the split's coordination.
double plan_time(const Plan& p, std::size_t n, Side c, Side g) {
  switch (p.place) {
    case Place::cpu:
      return c.time(n);
    case Place::gpu:
      return g.time(n);
    case Place::split:
      return std::max(c.time(n - p.gpu_items), g.time(p.gpu_items)) + OffloadPolicy::kSplitOverheadSeconds;
  }
  return 0;
}

// Runs `rounds` loops over `sizes`: plan, "run" on the simulated sides,
// report what was measured, as the executor will.
void drive(OffloadPolicy& policy, const std::vector<std::size_t>& sizes, int rounds, Side c, Side g,
           double jitter = 0, unsigned seed = 1) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> noise(1 - jitter, 1 + jitter);
  for (int r = 0; r < rounds; ++r) {
    for (std::size_t n : sizes) {
      const Plan p = policy.plan(n);
      const std::size_t to_gpu = p.place == Place::cpu ? 0 : p.gpu_items;
      if (to_gpu > 0) policy.observe_gpu(to_gpu, g.time(to_gpu) * noise(rng));
      if (to_gpu < n) policy.observe_cpu(n - to_gpu, c.time(n - to_gpu) * noise(rng));
    }
  }
}

const std::vector<std::size_t> kSizes{1000, 10000, 100000, 1000000, 10000000, 100000000};

TEST(CostLine, TwoSizesFixLatencyAndRate) {
  CostLine line;
  line.observe(1000, kGpu.time(1000));
  EXPECT_FALSE(line.known());
  line.observe(1000000, kGpu.time(1000000));
  ASSERT_TRUE(line.known());
  EXPECT_NEAR(line.latency(), kGpu.latency, 1e-9);
  EXPECT_NEAR(line.per_item(), kGpu.per_item, 1e-15);
  EXPECT_NEAR(line.predict(50000000), kGpu.time(50000000), 1e-6);
}

TEST(CostLine, OneSizeAndAnAssumedLatency) {
  CostLine line;
  line.assume_latency(kGpu.latency);
  line.observe(200000, kGpu.time(200000));
  ASSERT_TRUE(line.known());
  EXPECT_NEAR(line.per_item(), kGpu.per_item, 1e-15);
  EXPECT_NEAR(line.predict(1000), kGpu.time(1000), 1e-9);
}

TEST(CostLine, FollowsACostThatChanges) {
  CostLine line;
  for (int i = 0; i < 20; ++i)
    line.observe(i % 2 == 0 ? 1000 : 100000, 1e-6 + 1e-9 * (i % 2 == 0 ? 1000 : 100000));
  for (int i = 0; i < 60; ++i)
    line.observe(i % 2 == 0 ? 1000 : 100000, 1e-6 + 4e-9 * (i % 2 == 0 ? 1000 : 100000));
  EXPECT_NEAR(line.per_item(), 4e-9, 0.2e-9);  // the old rate is forgotten
}

TEST(CostLine, IgnoresNonsense) {
  CostLine line;
  line.observe(0, 1.0);
  line.observe(100, -1.0);
  line.observe(100, std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(line.observations(), 0u);
}

TEST(OffloadPolicy, SmallBatchesStayOnTheCpuAndTheCrossoverIsLearned) {
  OffloadPolicy policy;
  drive(policy, kSizes, 3, kCpu, kGpu);
  ASSERT_TRUE(policy.device().known());
  EXPECT_EQ(policy.plan(1000).place, Place::cpu);
  EXPECT_NE(policy.plan(100000000).place, Place::cpu);
  const double truth = true_crossover(kCpu, kGpu);  // ~60,000 items
  const auto learned = static_cast<double>(policy.crossover());
  EXPECT_GT(learned, truth / 2) << learned;
  EXPECT_LT(learned, truth * 2) << learned;
}

TEST(OffloadPolicy, AutoIsWithinFivePercentOfTheBestOfTheThreeAtEverySize) {
  OffloadPolicy policy;
  drive(policy, kSizes, 4, kCpu, kGpu, 0.03);
  for (std::size_t n : kSizes) {
    const double cpu = kCpu.time(n);
    const double gpu = kGpu.time(n);
    // The best split, searched rather than solved, so the check does not share the policy's formula.
    double split = std::min(cpu, gpu);
    for (int k = 1; k < 1000; ++k) {
      const auto g = static_cast<std::size_t>(static_cast<double>(n) * k / 1000);
      split =
          std::min(split, std::max(kCpu.time(n - g), kGpu.time(g)) + OffloadPolicy::kSplitOverheadSeconds);
    }
    const double best = std::min({cpu, gpu, split});
    EXPECT_LE(plan_time(policy.plan(n), n, kCpu, kGpu), best * 1.05) << n;
  }
}

TEST(OffloadPolicy, ASplitFinishesBothSidesTogether) {
  OffloadPolicy policy;
  drive(policy, kSizes, 3, kCpu, kGpu);
  for (std::size_t n : {std::size_t{10000000}, std::size_t{100000000}}) {
    const Plan p = policy.plan(n);
    ASSERT_EQ(p.place, Place::split) << n;
    const double cpu_side = kCpu.time(n - p.gpu_items);
    const double gpu_side = kGpu.time(p.gpu_items);
    EXPECT_NEAR(cpu_side / gpu_side, 1.0, 0.01) << n;
    EXPECT_LT(std::max(cpu_side, gpu_side), std::min(kCpu.time(n), kGpu.time(n))) << n;
  }
}

// Slower per item than the CPU, the device is still a second pair of hands:
// never worth running alone, but worth a share of a big batch.
TEST(OffloadPolicy, ADeviceSlowerPerItemIsUsedOnlyAsASplitsExtraCapacity) {
  constexpr Side slow{80e-6, 2e-9};
  OffloadPolicy policy;
  drive(policy, kSizes, 3, kCpu, slow);
  for (std::size_t n : kSizes) EXPECT_NE(policy.plan(n).place, Place::gpu) << n;
  const Plan p = policy.plan(100000000);
  ASSERT_EQ(p.place, Place::split);
  EXPECT_NEAR(static_cast<double>(p.gpu_items) / 1e8, 1.0 / 3,
              0.01);  // half the CPU's rate: a third of the items
}

// A device whose launch takes longer than any of these batches on the CPU is
// probed, then left alone at every size seen.
TEST(OffloadPolicy, ADeviceThatNeverPaysHereIsProbedThenLeftAlone) {
  constexpr Side distant{0.5, 5e-11};
  OffloadPolicy policy;
  drive(policy, kSizes, 3, kCpu, distant);
  for (std::size_t n : kSizes) EXPECT_EQ(policy.plan(n).place, Place::cpu) << n;
  EXPECT_GT(policy.crossover(), std::size_t{100000000});
}

TEST(OffloadPolicy, ProbesOnlyBatchesWorthALaunchAndAtNewSizes) {
  OffloadPolicy policy;
  EXPECT_EQ(policy.plan(5000000).place, Place::cpu);  // the CPU is measured first
  policy.observe_cpu(1000, kCpu.time(1000));
  EXPECT_EQ(policy.plan(1000).place, Place::cpu);  // ~4 us on the CPU: not worth a launch
  Plan p = policy.plan(1000000);
  ASSERT_EQ(p.place, Place::gpu);
  EXPECT_TRUE(p.probe);
  policy.observe_gpu(1000000, kGpu.time(1000000));
  EXPECT_FALSE(policy.plan(2000000).probe);  // within 4x of the last probe: no second probe there
  p = policy.plan(100000000);
  EXPECT_TRUE(p.probe);
  policy.observe_gpu(100000000, kGpu.time(100000000));
  EXPECT_TRUE(policy.device().known());
  EXPECT_FALSE(policy.plan(100000000).probe);
}

TEST(OffloadPolicy, TheDevicesLatencyLetsOneProbeDecide) {
  OffloadPolicy policy;
  policy.assume_device_latency(kGpu.latency);
  policy.observe_cpu(1000, kCpu.time(1000));
  policy.observe_cpu(1000000, kCpu.time(1000000));
  ASSERT_TRUE(policy.plan(1000000).probe);
  policy.observe_gpu(1000000, kGpu.time(1000000));
  EXPECT_TRUE(policy.device().known());
  EXPECT_EQ(policy.plan(1000).place, Place::cpu);
  EXPECT_NE(policy.plan(100000000).place, Place::cpu);
}

TEST(OffloadPolicy, ForcedModes) {
  OffloadPolicy cpu_only(DeviceMode::cpu);
  drive(cpu_only, kSizes, 2, kCpu, kGpu);
  for (std::size_t n : kSizes) EXPECT_EQ(cpu_only.plan(n).place, Place::cpu);
  EXPECT_EQ(cpu_only.crossover(), SIZE_MAX);
  OffloadPolicy gpu_only(DeviceMode::gpu);
  for (std::size_t n : kSizes) {
    const Plan p = gpu_only.plan(n);
    EXPECT_EQ(p.place, Place::gpu);
    EXPECT_EQ(p.gpu_items, n);
  }
  EXPECT_EQ(gpu_only.plan(0).place, Place::cpu);  // nothing to send
}

// A forced split starts at half and then gives each side the share that
// makes both finish together, to within 1% of the slower side's time.
TEST(OffloadPolicy, ForcedSplitLearnsTheShareThatEvensBothSides) {
  OffloadPolicy split(DeviceMode::split);
  const std::size_t n = 10000000;
  EXPECT_EQ(split.plan(1).place, Place::cpu);  // nothing to split
  Plan p = split.plan(n);
  ASSERT_EQ(p.place, Place::split);
  EXPECT_EQ(p.gpu_items, n / 2);
  drive(split, {n / 4, n}, 3, kCpu, kGpu);
  p = split.plan(n);
  ASSERT_EQ(p.place, Place::split);
  const double cpu = kCpu.time(n - p.gpu_items);
  const double gpu = kGpu.time(p.gpu_items);
  EXPECT_NEAR(cpu, gpu, 0.01 * std::max(cpu, gpu)) << p.gpu_items;
  // A side that is not measured yet gets no share from a guess.
  OffloadPolicy fresh(DeviceMode::split);
  fresh.observe_cpu(n, kCpu.time(n));
  EXPECT_EQ(fresh.plan(n).gpu_items, n / 2);
}

TEST(DeviceMode, ParsesTheFourNamesAndNothingElse) {
  EXPECT_EQ(parse_device_mode("cpu"), DeviceMode::cpu);
  EXPECT_EQ(parse_device_mode("gpu"), DeviceMode::gpu);
  EXPECT_EQ(parse_device_mode("split"), DeviceMode::split);
  EXPECT_EQ(parse_device_mode("auto"), DeviceMode::automatic);
  EXPECT_EQ(parse_device_mode(""), std::nullopt);
  EXPECT_EQ(parse_device_mode("GPU"), std::nullopt);
  EXPECT_EQ(parse_device_mode("cuda"), std::nullopt);
}

}  // namespace
}  // namespace iso::gpu
