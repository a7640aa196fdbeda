// Process start-up of `isolate run` versus the python3 binary it embeds.
//
// Each iteration posix_spawn()s the command with stdin/stdout/stderr on
// /dev/null and waits for it; wall-clock time is reported (UseRealTime) and
// the child's user+sys CPU time is reported as the counter `child_cpu_ms`.
// Before registering, each command runs once and must exit 0 (this is also
// the warm-up).  Repetitions are interleaved at random across the benchmarks
// (--benchmark_enable_random_interleaving, on unless given explicitly) and
// only aggregates (mean, median, stddev, cv, min) are shown.
//
// Compile definitions:
//   ISO_BENCH_PYTHON         path of the reference python binary (string)
//   ISO_BENCH_ISOLATE        path of the isolate binary (string); it is
//                            called as `ISO_BENCH_ISOLATE run ARGS...`
//   ISO_BENCH_WORKLOADS_DIR  optional: directory holding imports.py; by
//                            default the workloads/ directory next to this
//                            source file
// Environment:
//   ISO_BENCH_ISOLATE_ARGS   whitespace-separated words placed between the
//                            isolate binary and the python arguments instead
//                            of `run`; set it empty for a stand-in binary that
//                            takes python's argv directly.
// Children run with PYTHONHASHSEED=0.

#include <benchmark/benchmark.h>

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#ifndef ISO_BENCH_PYTHON
#error "define ISO_BENCH_PYTHON as the path of the reference python binary"
#endif
#ifndef ISO_BENCH_ISOLATE
#error "define ISO_BENCH_ISOLATE as the path of the isolate binary"
#endif

extern char** environ;

namespace {

constexpr int kRepetitions = 20;
constexpr benchmark::IterationCount kIterations = 5;

using Argv = std::vector<std::string>;

std::string workloads_dir() {
#ifdef ISO_BENCH_WORKLOADS_DIR
  return ISO_BENCH_WORKLOADS_DIR;
#else
  return (std::filesystem::path(__FILE__).parent_path() / "workloads").string();
#endif
}

Argv isolate_prefix() {
  Argv argv{ISO_BENCH_ISOLATE};
  const char* words = std::getenv("ISO_BENCH_ISOLATE_ARGS");
  if (words == nullptr) {
    argv.emplace_back("run");
    return argv;
  }
  std::istringstream in(words);
  for (std::string w; in >> w;) argv.push_back(std::move(w));
  return argv;
}

double timeval_s(const timeval& tv) {
  return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) * 1e-6;
}

struct RunResult {
  int error = 0;       // errno of a failed spawn/wait, 0 otherwise
  int status = 0;      // wait status
  double cpu_s = 0.0;  // child user + sys
};

class Spawner {
 public:
  explicit Spawner(const Argv& argv) : args_(argv) {
    for (auto& a : args_) ptrs_.push_back(a.data());
    ptrs_.push_back(nullptr);
    posix_spawn_file_actions_init(&actions_);
    for (int fd : {0, 1, 2})
      posix_spawn_file_actions_addopen(&actions_, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0);
  }
  ~Spawner() { posix_spawn_file_actions_destroy(&actions_); }
  Spawner(const Spawner&) = delete;
  Spawner& operator=(const Spawner&) = delete;

  RunResult run() {
    RunResult r;
    pid_t pid = 0;
    r.error = posix_spawn(&pid, ptrs_[0], &actions_, nullptr, ptrs_.data(), environ);
    if (r.error != 0) return r;
    rusage ru{};
    while (wait4(pid, &r.status, 0, &ru) < 0) {
      if (errno != EINTR) {
        r.error = errno;
        return r;
      }
    }
    r.cpu_s = timeval_s(ru.ru_utime) + timeval_s(ru.ru_stime);
    return r;
  }

  std::string describe() const {
    std::string s;
    for (const auto& a : args_) s += (s.empty() ? "" : " ") + a;
    return s;
  }

 private:
  Argv args_;
  std::vector<char*> ptrs_;
  posix_spawn_file_actions_t actions_{};
};

std::string failure(const Spawner& sp, const RunResult& r) {
  std::string why;
  if (r.error != 0)
    why = std::strerror(r.error);
  else if (WIFEXITED(r.status))
    why = "exit status " + std::to_string(WEXITSTATUS(r.status));
  else if (WIFSIGNALED(r.status))
    why = "killed by signal " + std::to_string(WTERMSIG(r.status));
  else
    why = "wait status " + std::to_string(r.status);
  return sp.describe() + ": " + why;
}

bool ok(const RunResult& r) {
  return r.error == 0 && WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0;
}

void BM_Spawn(benchmark::State& state, const Argv& argv) {
  Spawner sp(argv);
  double cpu_s = 0.0;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the loop variable is the API
    RunResult r = sp.run();
    if (!ok(r)) {
      state.SkipWithError(failure(sp, r).c_str());
      break;
    }
    cpu_s += r.cpu_s;
  }
  state.counters["child_cpu_ms"] = benchmark::Counter(cpu_s * 1e3, benchmark::Counter::kAvgIterations);
}

double min_of(const std::vector<double>& v) {
  return v.empty() ? 0.0 : *std::min_element(v.begin(), v.end());
}

// Registers BM_Python/LABEL and BM_Isolate/LABEL; returns false (after
// saying why) if either command does not run successfully once.
bool register_pair(const std::string& label, const Argv& python_args) {
  Argv py{ISO_BENCH_PYTHON};
  Argv iso = isolate_prefix();
  py.insert(py.end(), python_args.begin(), python_args.end());
  iso.insert(iso.end(), python_args.begin(), python_args.end());
  for (const auto& [name, argv] : {std::pair{"BM_Python/", py}, std::pair{"BM_Isolate/", iso}}) {
    Spawner sp(argv);
    if (RunResult r = sp.run(); !ok(r)) {
      std::fprintf(stderr, "startup_bench: %s\n", failure(sp, r).c_str());
      return false;
    }
    benchmark::RegisterBenchmark((name + label).c_str(), BM_Spawn, argv)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond)
        ->Iterations(kIterations)
        ->Repetitions(kRepetitions)
        ->ReportAggregatesOnly(true)
        ->ComputeStatistics("min", min_of);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  setenv("PYTHONHASHSEED", "0", 1);

  // Interleave repetitions of all benchmarks unless the caller decides.
  std::vector<char*> args(argv, argv + argc);
  std::string interleave = "--benchmark_enable_random_interleaving=true";
  if (std::none_of(args.begin(), args.end(), [](const char* a) {
        return std::string_view(a).starts_with("--benchmark_enable_random_interleaving");
      }))
    args.insert(args.begin() + 1, interleave.data());
  int n = static_cast<int>(args.size());
  args.push_back(nullptr);

  benchmark::Initialize(&n, args.data());
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 1;

  if (!register_pair("-c pass", {"-c", "pass"}) ||
      !register_pair("imports.py", {workloads_dir() + "/imports.py"}))
    return 1;

  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
