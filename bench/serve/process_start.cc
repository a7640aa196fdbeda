// What starting a process costs, before any of its own work: the floor under
// every `isolate call` (docs/BENCHMARKS.md, issue 6).
//
//   build/bin/bench_process_start [RUNS]
//
// Interleaved over RUNS rounds, each program is started with posix_spawn and
// waited for: /bin/true (dynamic glibc), the same empty program linked
// statically with glibc, and an empty program with no C library at all. The
// difference between the last two is glibc's start-up, which probes the CPU
// with CPUID; the cost of one CPUID instruction (a trap to the hypervisor on
// a virtual machine) is measured too. Then `isolate --version` against
// `isolate-core --version`: the front's exec on the way to the core.
#include <cpuid.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

extern char** environ;

namespace {

double now_ms() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

double run_once(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  const double start = now_ms();
  pid_t pid = 0;
  if (posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ) != 0) {
    std::fprintf(stderr, "bench_process_start: cannot start %s\n", args[0]);
    std::exit(1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  const double elapsed = now_ms() - start;
  posix_spawn_file_actions_destroy(&actions);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "bench_process_start: %s failed\n", args[0]);
    std::exit(1);
  }
  return elapsed;
}

double cpuid_us() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  const double start = now_ms();
  for (unsigned i = 0; i < 1000; ++i) __cpuid_count(0x8000001D, i & 3, a, b, c, d);
  if ((a | b | c | d) == 0xdeadbeef) std::puts("");  // keeps the results live
  return (now_ms() - start) * 1e3 / 1000;
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 300;
  const std::string bin = ISO_BENCH_BIN_DIR;
  const std::vector<std::pair<std::string, std::vector<std::string>>> programs = {
      {"/bin/true (dynamic glibc)", {"/bin/true"}},
      {"empty program, static glibc", {bin + "/bench_empty_static_glibc"}},
      {"empty program, no C library", {bin + "/bench_empty_no_libc"}},
      {"isolate-core --version", {ISO_BENCH_CORE, "--version"}},
      {"isolate --version (front, exec of the core)", {ISO_BENCH_FRONT, "--version"}},
  };
  std::vector<std::vector<double>> samples(programs.size());
  for (int round = 0; round < runs; ++round) {
    for (std::size_t i = 0; i < programs.size(); ++i) samples[i].push_back(run_once(programs[i].second));
  }
  std::printf("| program | median ms | p10 ms |\n|---|---:|---:|\n");
  for (std::size_t i = 0; i < programs.size(); ++i) {
    std::vector<double>& v = samples[i];
    std::sort(v.begin(), v.end());
    std::printf("| %s | %.3f | %.3f |\n", programs[i].first.c_str(), v[v.size() / 2], v[v.size() / 10]);
  }
  std::printf("\none CPUID instruction: %.2f us (median of 5 x 1000)\n", [] {
    std::vector<double> v;
    for (int i = 0; i < 5; ++i) v.push_back(cpuid_us());
    std::sort(v.begin(), v.end());
    return v[2];
  }());
  return 0;
}
