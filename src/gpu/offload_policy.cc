#include "offload_policy.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace iso::gpu {

namespace {

// Each measurement weighs this much less than the next: the last ~10 count.
constexpr double kForget = 0.9;

}  // namespace

void CostLine::observe(std::size_t items, double seconds) {
  if (items == 0 || !(seconds >= 0) || !std::isfinite(seconds)) return;
  const auto n = static_cast<double>(items);
  s0_ = s0_ * kForget + 1;
  s1_ = s1_ * kForget + n;
  s2_ = s2_ * kForget + n * n;
  t1_ = t1_ * kForget + seconds;
  t2_ = t2_ * kForget + n * seconds;
  smallest_ = count_ == 0 ? n : std::min(smallest_, n);
  largest_ = count_ == 0 ? n : std::max(largest_, n);
  ++count_;
}

bool CostLine::fitted() const {
  return count_ >= 2 && largest_ >= 2 * smallest_;
}

bool CostLine::known() const {
  return fitted() || (count_ >= 1 && prior_latency_.has_value());
}

double CostLine::per_item() const {
  if (count_ == 0) return 0;
  if (fitted()) {
    const double det = s0_ * s2_ - s1_ * s1_;
    if (det > 0) {
      const double slope = (s0_ * t2_ - s1_ * t1_) / det;
      if (slope > 0) return slope;
    }
  }
  // One size (or a fit that came out flat): the mean time less the latency, per item.
  const double spare = t1_ / s0_ - prior_latency_.value_or(0);
  return std::max(spare, 0.0) / (s1_ / s0_);
}

double CostLine::latency() const {
  if (count_ == 0) return prior_latency_.value_or(0);
  if (!fitted()) return prior_latency_.value_or(0);
  return std::max((t1_ - per_item() * s1_) / s0_, 0.0);
}

double CostLine::predict(std::size_t items) const {
  return latency() + per_item() * static_cast<double>(items);
}

std::optional<DeviceMode> parse_device_mode(std::string_view text) {
  if (text == "cpu") return DeviceMode::cpu;
  if (text == "gpu") return DeviceMode::gpu;
  if (text == "split") return DeviceMode::split;
  if (text == "auto") return DeviceMode::automatic;
  return std::nullopt;
}

void OffloadPolicy::observe_gpu(std::size_t items, double seconds) {
  gpu_.observe(items, seconds);
  last_probe_ = items;
}

Plan OffloadPolicy::plan(std::size_t items) const {
  if (mode_ == DeviceMode::cpu || items == 0) return Plan{};
  if (mode_ == DeviceMode::gpu) return Plan{Place::gpu, items, false};
  if (mode_ == DeviceMode::split) {
    if (items < 2) return Plan{};
    return Plan{Place::split, even_share(items), false};
  }
  if (cpu_.observations() == 0) return Plan{};  // measure the CPU first: it is always there
  if (!gpu_.known()) {
    // Probe the device on a batch big enough to be worth a launch, at a size
    // 4x away from the last probe, so that two probes fix latency and rate.
    const bool worth = cpu_.predict(items) >= kProbeSeconds;
    const bool new_size = gpu_.observations() == 0 || items >= 4 * last_probe_ || 4 * items <= last_probe_;
    if (worth && new_size) return Plan{Place::gpu, items, true};
    if (gpu_.observations() == 0) return Plan{};
  }
  return best(items);
}

Plan OffloadPolicy::best(std::size_t items) const {
  const double a_c = cpu_.latency();
  const double b_c = cpu_.per_item();
  const double a_g = gpu_.latency();
  const double b_g = gpu_.per_item();
  const auto n = static_cast<double>(items);
  const double t_cpu = a_c + b_c * n;
  const double t_gpu = a_g + b_g * n;
  // The split that finishes both sides together: a_g + g*b_g = a_c + (n-g)*b_c.
  double t_split = std::numeric_limits<double>::infinity();
  std::size_t share = 0;
  if (b_c + b_g > 0) {
    const double g = (n * b_c + a_c - a_g) / (b_c + b_g);
    if (g >= 1 && g <= n - 1) {
      share = static_cast<std::size_t>(g);
      t_split =
          std::max(a_g + b_g * static_cast<double>(share), a_c + b_c * (n - static_cast<double>(share))) +
          kSplitOverheadSeconds;
    }
  }
  if (t_split < t_cpu && t_split < t_gpu) return Plan{Place::split, share, false};
  if (t_gpu < t_cpu) return Plan{Place::gpu, items, false};
  return Plan{};
}

std::size_t OffloadPolicy::even_share(std::size_t items) const {
  if (cpu_.observations() == 0 || gpu_.observations() == 0) return items / 2;
  const double b_c = cpu_.per_item();
  const double b_g = gpu_.per_item();
  const auto n = static_cast<double>(items);
  const double g = b_c + b_g > 0 ? (n * b_c + cpu_.latency() - gpu_.latency()) / (b_c + b_g) : n / 2;
  return static_cast<std::size_t>(std::clamp(g, 1.0, n - 1));
}

std::size_t OffloadPolicy::crossover() const {
  if (mode_ == DeviceMode::cpu || !cpu_.known() || !gpu_.known()) return SIZE_MAX;
  // best() is monotone in the batch size here (the device's share only
  // grows with it), so the first batch it sends anything to the device is
  // found by bisection over [1, 2^48].
  std::size_t lo = 1;
  std::size_t hi = std::size_t{1} << 48;
  if (best(hi).place == Place::cpu) return SIZE_MAX;
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    if (best(mid).place == Place::cpu) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

}  // namespace iso::gpu
