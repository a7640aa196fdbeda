// A call site of iso::hybrid_map: its offload policy behind a lock (a site
// may be called from several threads), and ISO_DEVICE, read once.
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <utility>

#include "isolate/gpu.h"
#include "offload_policy.h"

namespace iso::gpu_detail {

class Site {
 public:
  explicit Site(gpu::DeviceMode mode) : policy_(mode) {}
  void assume_device_latency(double seconds) {
    const std::lock_guard guard(lock_);
    policy_.assume_device_latency(seconds);
  }
  std::size_t crossover() {
    const std::lock_guard guard(lock_);
    return policy_.crossover();
  }
  Plan plan(std::size_t items) {
    const std::lock_guard guard(lock_);
    const gpu::Plan p = policy_.plan(items);
    return Plan{p.place, p.gpu_items};
  }
  void observe(std::size_t cpu_items, double cpu_seconds, std::size_t gpu_items, double gpu_seconds) {
    const std::lock_guard guard(lock_);
    if (cpu_items > 0) policy_.observe_cpu(cpu_items, cpu_seconds);
    if (gpu_items > 0) policy_.observe_gpu(gpu_items, gpu_seconds);
  }

 private:
  std::mutex lock_;
  gpu::OffloadPolicy policy_;
};

namespace {

gpu::DeviceMode env_mode() {
  const char* text = std::getenv("ISO_DEVICE");
  if (text == nullptr || *text == '\0') return gpu::DeviceMode::automatic;
  if (const auto mode = gpu::parse_device_mode(text)) return *mode;
  std::fprintf(stderr, "isolate: ignoring ISO_DEVICE=%s (expected cpu, gpu, split or auto)\n", text);
  return gpu::DeviceMode::automatic;
}

}  // namespace

Site& site(const void* key, Device where, bool device, double (*round_trip)()) {
  static const gpu::DeviceMode automatic = env_mode();
  static std::mutex lock;
  // Never freed: hybrid_map's statics point at them.
  static std::map<std::pair<const void*, Device>, std::unique_ptr<Site>> sites;
  const std::lock_guard guard(lock);
  std::unique_ptr<Site>& s = sites[{key, where}];
  if (!s) {
    const gpu::DeviceMode mode = !device ? Device::cpu : where == Device::automatic ? automatic : where;
    s = std::make_unique<Site>(mode);
    if (mode != Device::cpu && round_trip != nullptr) s->assume_device_latency(round_trip());
  }
  return *s;
}

Plan plan(Site& site, std::size_t items) {
  return site.plan(items);
}

std::size_t crossover(Site& site) {
  return site.crossover();
}

void observe(Site& site, std::size_t cpu_items, double cpu_seconds, std::size_t gpu_items,
             double gpu_seconds) {
  site.observe(cpu_items, cpu_seconds, gpu_items, gpu_seconds);
}

}  // namespace iso::gpu_detail
