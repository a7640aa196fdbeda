// ISO_THREADS, ISO_CHUNK_SIZE and ISO_EXEC_SPIN_US. A value that is not a
// number in range is ignored with a one-line warning on stderr: a typo in an
// environment variable should not stop a program that would run correctly
// without it.
#include "config.h"

#include <sched.h>

#include <cstdio>
#include <cstdlib>
#include <thread>

#include "isolate/exec.h"

namespace iso::exec_detail {
namespace {

// Long enough to cover the gap between the back-to-back loops of a program
// (a wake-up from sleep costs tens of µs), short enough not to burn a core.
constexpr std::uint64_t kDefaultSpinUs = 100;

std::size_t affinity_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return static_cast<std::size_t>(n);
  }
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : hw;
}

// The value of `name` if it is an integer in [min, max]; `fallback` if unset.
std::uint64_t read_env(const char* name, std::uint64_t min, std::uint64_t max, std::uint64_t fallback) {
  const char* s = std::getenv(name);
  if (s == nullptr || *s == '\0') return fallback;
  char* rest = nullptr;
  const unsigned long long v = std::strtoull(s, &rest, 10);
  if (*rest != '\0' || *s == '-' || v < min || v > max) {
    std::fprintf(stderr, "isolate: ignoring %s=%s (expected an integer from %llu to %llu)\n", name, s,
                 static_cast<unsigned long long>(min), static_cast<unsigned long long>(max));
    return fallback;
  }
  return v;
}

Config load() {
  Config c{};
  c.cpus = affinity_cpus();
  c.threads = read_env("ISO_THREADS", 1, kMaxThreads, c.cpus);
  c.forced_chunk = read_env("ISO_CHUNK_SIZE", 1, std::uint64_t{1} << 48, 0);
  c.spin_ns = read_env("ISO_EXEC_SPIN_US", 0, 1000000, kDefaultSpinUs) * 1000;
  return c;
}

}  // namespace

const Config& config() {
  static const Config c = load();
  return c;
}

}  // namespace iso::exec_detail
