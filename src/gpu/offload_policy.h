// Where a batch of a loop runs: on the CPU, on the device, or split between
// them so that both finish together. Decided per call site from measured
// costs, as the executor's automatic chunking is: each side's time for a
// batch is fitted as latency + items x seconds-per-item (launch and copy
// latency against work), and a plan compares the three predictions. The
// policy sees only those measurements, never a GPU, so it is tested with a
// simulated device (tests/gpu/offload_policy_test.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "isolate/gpu.h"

namespace iso::gpu {

// t(items) = latency + items * per_item, fitted by weighted least squares to
// the latest measurements (older ones weigh less, so a site whose cost
// changes is followed). Two measurements at sizes at least 2x apart fix
// both terms; until then a latency given by the device (an empty launch
// and a small copy, timed once) stands in for the fitted one.
class CostLine {
 public:
  void observe(std::size_t items, double seconds);
  void assume_latency(double seconds) { prior_latency_ = seconds; }
  // Whether predict() rests on measurements: both terms fitted, or one
  // measurement and an assumed latency.
  bool known() const;
  double predict(std::size_t items) const;
  double latency() const;
  double per_item() const;
  std::size_t observations() const { return count_; }

 private:
  bool fitted() const;                                 // two sizes at least 2x apart among the weighted sums
  double s0_ = 0, s1_ = 0, s2_ = 0, t1_ = 0, t2_ = 0;  // sum of w, w*n, w*n^2, w*t, w*n*t
  double smallest_ = 0, largest_ = 0;                  // sizes seen
  std::optional<double> prior_latency_;
  std::size_t count_ = 0;
};

using Place = gpu_detail::Place;  // isolate/gpu.h

// A site's mode (isolate/gpu.h): automatic is this policy; cpu, gpu and
// split are forced, split with the share that the two sides' measured rates
// call for (half of the batch until both have been measured).
using DeviceMode = iso::Device;
// ISO_DEVICE: cpu, gpu, split or auto. std::nullopt for anything else.
std::optional<DeviceMode> parse_device_mode(std::string_view text);

struct Plan {
  Place place = Place::cpu;
  std::size_t gpu_items = 0;  // items that go to the device: 0, all of them, or the split's share
  bool probe = false;         // run there to measure the device, not because it is predicted to win
};

class OffloadPolicy {
 public:
  // Splitting costs a coordination of both sides on top of the slower one.
  static constexpr double kSplitOverheadSeconds = 5e-6;
  // The first device runs are probes; a batch is worth one if the CPU is
  // predicted to take at least this long on it (a probe then costs at worst
  // a device launch more than the CPU would have taken).
  static constexpr double kProbeSeconds = 100e-6;

  explicit OffloadPolicy(DeviceMode mode = DeviceMode::automatic) : mode_(mode) {}
  void assume_device_latency(double seconds) { gpu_.assume_latency(seconds); }

  Plan plan(std::size_t items) const;
  void observe_cpu(std::size_t items, double seconds) { cpu_.observe(items, seconds); }
  void observe_gpu(std::size_t items, double seconds);

  // The smallest batch for which the device takes part (alone or in a
  // split) by prediction; SIZE_MAX when it never pays or is not known yet.
  std::size_t crossover() const;
  const CostLine& cpu() const { return cpu_; }
  const CostLine& device() const { return gpu_; }

 private:
  Plan best(std::size_t items) const;  // both lines known: the cheapest of the three
  // The device's share that makes both sides finish together by the lines
  // as they stand, within [1, items - 1]; half while either is unmeasured.
  std::size_t even_share(std::size_t items) const;
  DeviceMode mode_;
  CostLine cpu_;
  CostLine gpu_;
  std::size_t last_probe_ = 0;  // items of the last device probe (the next one differs by 4x)
};

}  // namespace iso::gpu
