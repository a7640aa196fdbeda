// gpu_hybrid_bench: iso::hybrid_map in each of its modes against the peers a
// user would otherwise write, in one run (docs/BENCHMARKS.md, issue 19).
//
// Kernels, each written once for both sides:
//   busy   the seed report's busy_work: 512 rounds of acc = (acc*7 + 13) % 997
//          over int32 (compute-bound; 8 bytes cross the bus per item)
//   saxpy  z[i] = a*x[i] + y[i] over float (memory-bound; 12 bytes per item)
// Columns (median seconds of the timed runs after one untimed run per cell):
//   cpu    hybrid_map(Device::cpu): iso::parallel_for on every core
//   gpu    hybrid_map(Device::gpu): chunks staged through pinned memory on two streams
//   split  hybrid_map(Device::split): both sides, the share learned from their rates
//   auto   hybrid_map(Device::automatic): the policy, learning as it goes
//   cuda   a plain CUDA program: cudaMemcpy in, one launch, cudaMemcpy out
//          (device arrays allocated once, outside the timing)
//   tbb    tbb::parallel_for over the same body
// Every output of every run is checked (busy against a table of the 1000
// input values, saxpy against the same expression on the host); a wrong item
// ends the program with exit 1.
//
// Without a CUDA device only cpu, auto and tbb run, and the program says so.
// After the table: the crossover the policy learned (hybrid_crossover)
// against the one measured by a sweep of sizes 2x apart.
#include <cuda_runtime.h>
#include <oneapi/tbb/parallel_for.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "isolate/gpu.h"
#include "workloads.h"

namespace {

using iso_workloads::Busy;
using iso_workloads::Saxpy;

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "gpu_hybrid_bench: %s\n", what.c_str());
  std::exit(1);
}

void check_cuda(cudaError_t rc, const char* what) {
  if (rc != cudaSuccess) fail(std::string(what) + ": " + cudaGetErrorString(rc));
}

double seconds(const std::function<void()>& run) {
  const auto t0 = std::chrono::steady_clock::now();
  run();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 == 1 ? v[m] : (v[m - 1] + v[m]) / 2;
}

template <class F, class Out, class... In>
__global__ void plain_kernel(F f, std::size_t n, Out* out, const In*... in) {
  const std::size_t i = blockIdx.x * std::size_t{blockDim.x} + threadIdx.x;
  if (i < n) out[i] = f(in[i]...);
}

// What a user writes without isolate: copy in, launch, copy out.
template <class F, class Out, class... In>
struct PlainCuda {
  Out* d_out = nullptr;
  std::tuple<In*...> d_in{};

  explicit PlainCuda(std::size_t n) {
    const std::size_t m = std::max<std::size_t>(n, 1);
    check_cuda(cudaMalloc(&d_out, sizeof(Out) * m), "cudaMalloc");
    std::apply([m](auto*&... d) { (check_cuda(cudaMalloc(&d, sizeof(*d) * m), "cudaMalloc"), ...); }, d_in);
  }
  ~PlainCuda() {
    cudaFree(d_out);
    std::apply([](auto*... d) { (cudaFree(d), ...); }, d_in);
  }
  PlainCuda(const PlainCuda&) = delete;
  PlainCuda& operator=(const PlainCuda&) = delete;
  void run(std::size_t n, const F& f, Out* out, const In*... in) {
    std::apply(
        [&](auto*... d) {
          (check_cuda(cudaMemcpy(d, in, sizeof(*d) * n, cudaMemcpyHostToDevice), "cudaMemcpy"), ...);
          const unsigned blocks = static_cast<unsigned>((n + 255) / 256);
          plain_kernel<<<blocks, 256>>>(f, n, d_out, static_cast<const In*>(d)...);
        },
        d_in);
    check_cuda(cudaGetLastError(), "launch");
    check_cuda(cudaMemcpy(out, d_out, sizeof(Out) * n, cudaMemcpyDeviceToHost), "cudaMemcpy");
  }
};

struct Options {
  std::vector<std::size_t> sizes{1000, 10000, 100000, 1000000, 10000000, 100000000};
  std::vector<std::string> kernels{"busy", "saxpy"};
  int runs = 5;
  double cell_seconds = 2.0;  // fewer runs (at least 1) for cells slower than this over all runs
  bool crossover = true;
  bool markdown = false;
};

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    out.emplace_back(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
  }
  return out;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    const auto value = [&]() -> std::string_view {
      if (i + 1 >= argc) fail(std::string(a) + " needs a value");
      return argv[++i];
    };
    if (a == "--sizes") {
      o.sizes.clear();
      for (const std::string& s : split_list(value())) {
        char* end = nullptr;
        const double v = std::strtod(s.c_str(), &end);
        if (end == s.c_str() || *end != '\0' || !(v >= 1) || v > 1e10)
          fail("--sizes: not a batch size: " + s);
        o.sizes.push_back(static_cast<std::size_t>(v));
      }
    } else if (a == "--kernels") {
      o.kernels = split_list(value());
      for (const std::string& k : o.kernels)
        if (k != "busy" && k != "saxpy") fail("--kernels: unknown kernel " + k + " (busy, saxpy)");
    } else if (a == "--runs") {
      o.runs = std::atoi(std::string(value()).c_str());
      if (o.runs < 1 || o.runs > 1000) fail("--runs: expected 1 to 1000");
    } else if (a == "--cell-seconds") {
      o.cell_seconds = std::atof(std::string(value()).c_str());
    } else if (a == "--no-crossover") {
      o.crossover = false;
    } else if (a == "--markdown") {
      o.markdown = true;
    } else if (a == "--help" || a == "-h") {
      std::puts(
          "usage: gpu_hybrid_bench [--sizes N,N,...] [--kernels busy,saxpy] [--runs R]\n"
          "                        [--cell-seconds S] [--no-crossover] [--markdown]");
      std::exit(0);
    } else {
      fail("unknown argument " + std::string(a) + " (try --help)");
    }
  }
  return o;
}

// One kernel's arrays for the largest size, and its per-item check.
struct Workload {
  std::string name;
  std::size_t bytes_per_item;
  std::vector<int> busy_in, busy_out;
  std::vector<float> x, y, z;
  int table[1000] = {};

  Workload(std::string kernel, std::size_t n) : name(std::move(kernel)) {
    if (name == "busy") {
      bytes_per_item = 8;
      busy_in.resize(n);
      busy_out.resize(n);
      for (std::size_t i = 0; i < n; ++i) busy_in[i] = static_cast<int>(i % 1000);
      for (int v = 0; v < 1000; ++v) table[v] = Busy{}(v);
    } else {
      bytes_per_item = 12;
      x.resize(n);
      y.resize(n);
      z.resize(n);
      for (std::size_t i = 0; i < n; ++i) {
        x[i] = static_cast<float>(i % 4096);
        y[i] = static_cast<float>(i % 17);
      }
    }
  }
  void clear(std::size_t n) {
    if (name == "busy")
      std::fill_n(busy_out.begin(), n, -1);
    else
      std::fill_n(z.begin(), n, -1.0f);
  }
  void check(std::size_t n, const char* column) const {
    for (std::size_t i = 0; i < n; ++i) {
      const bool ok = name == "busy" ? busy_out[i] == table[busy_in[i]] : z[i] == 2.5f * x[i] + y[i];
      if (!ok)
        fail(name + " " + column + " n=" + std::to_string(n) + ": item " + std::to_string(i) + " is wrong");
    }
  }
  void hybrid(iso::Device d, std::size_t n) {
    if (name == "busy")
      iso::hybrid_map(d, n, Busy{}, busy_out.data(), busy_in.data());
    else
      iso::hybrid_map(d, n, Saxpy{2.5f}, z.data(), x.data(), y.data());
  }
  void tbb_loop(std::size_t n) {
    if (name == "busy") {
      tbb::parallel_for(std::size_t{0}, n, [&](std::size_t i) { busy_out[i] = Busy{}(busy_in[i]); });
    } else {
      tbb::parallel_for(std::size_t{0}, n, [&](std::size_t i) { z[i] = Saxpy{2.5f}(x[i], y[i]); });
    }
  }
  std::size_t learned_crossover() const {
    return name == "busy" ? iso::hybrid_crossover<Busy, int, int>()
                          : iso::hybrid_crossover<Saxpy, float, float, float>();
  }
};

struct Column {
  const char* name;
  std::function<void(std::size_t)> run;
};

std::vector<Column> columns(Workload& w, bool device, std::function<void(std::size_t)>& cuda_peer) {
  std::vector<Column> c;
  c.push_back({"cpu", [&w](std::size_t n) { w.hybrid(iso::Device::cpu, n); }});
  if (device) {
    c.push_back({"gpu", [&w](std::size_t n) { w.hybrid(iso::Device::gpu, n); }});
    c.push_back({"split", [&w](std::size_t n) { w.hybrid(iso::Device::split, n); }});
  }
  c.push_back({"auto", [&w](std::size_t n) { w.hybrid(iso::Device::automatic, n); }});
  if (device) c.push_back({"cuda", [&cuda_peer](std::size_t n) { cuda_peer(n); }});
  c.push_back({"tbb", [&w](std::size_t n) { w.tbb_loop(n); }});
  return c;
}

// Median seconds per column at size n, the columns interleaved run by run.
std::vector<double> measure(Workload& w, std::vector<Column>& cols, std::size_t n, const Options& o) {
  std::vector<std::vector<double>> times(cols.size());
  double first_round = 0;
  for (int round = -1; round < o.runs; ++round) {
    double this_round = 0;
    for (std::size_t c = 0; c < cols.size(); ++c) {
      w.clear(n);
      const double t = seconds([&] { cols[c].run(n); });
      w.check(n, cols[c].name);
      this_round += t;
      if (round >= 0) times[c].push_back(t);
    }
    if (round == -1) first_round = this_round;
    if (round >= 0 && first_round * (round + 2) > o.cell_seconds) break;  // enough for a slow cell
  }
  std::vector<double> med;
  for (auto& t : times) med.push_back(median(t));
  return med;
}

std::string size_name(std::size_t n) {
  if (n >= 1000000 && n % 1000000 == 0) return std::to_string(n / 1000000) + "M";
  if (n >= 1000 && n % 1000 == 0) return std::to_string(n / 1000) + "k";
  return std::to_string(n);
}

void run_kernel(const std::string& kernel, const Options& o, bool device) {
  const std::size_t largest = *std::max_element(o.sizes.begin(), o.sizes.end());
  Workload w(kernel, largest);
  std::function<void(std::size_t)> cuda_peer;  // set per size: it owns device arrays of that size
  std::vector<Column> cols = columns(w, device, cuda_peer);
  const char* sep = o.markdown ? " | " : "  ";
  std::printf("\n%s%s%10s", o.markdown ? "| " : "", kernel.c_str(), "");
  for (const Column& c : cols) std::printf("%s%10s", sep, c.name);
  const std::vector<const char*> ratios =
      device ? std::vector<const char*>{"auto/best", "split/min(cpu,gpu)", "gpu/cuda", "cpu/tbb"}
             : std::vector<const char*>{"auto/cpu", "cpu/tbb"};
  for (const char* r : ratios) std::printf("%s%s", sep, r);
  std::printf("%s\n", o.markdown ? " |" : "");
  if (o.markdown) {
    std::printf("|---");
    for (std::size_t c = 0; c < cols.size() + ratios.size(); ++c) std::printf("|---:");
    std::printf("|\n");
  }
  for (std::size_t n : o.sizes) {
    cuda_peer = nullptr;  // frees the last size's arrays first
    if (device && kernel == "busy") {
      auto peer = std::make_shared<PlainCuda<Busy, int, int>>(n);
      cuda_peer = [peer, &w](std::size_t m) { peer->run(m, Busy{}, w.busy_out.data(), w.busy_in.data()); };
    } else if (device) {
      auto peer = std::make_shared<PlainCuda<Saxpy, float, float, float>>(n);
      cuda_peer = [peer, &w](std::size_t m) {
        peer->run(m, Saxpy{2.5f}, w.z.data(), w.x.data(), w.y.data());
      };
    }
    const std::vector<double> t = measure(w, cols, n, o);
    std::printf("%s%-7s (ms)", o.markdown ? "| " : "", size_name(n).c_str());
    for (double s : t) std::printf("%s%10.3f", sep, s * 1e3);
    const auto at = [&](const char* name) {
      for (std::size_t c = 0; c < cols.size(); ++c)
        if (std::strcmp(cols[c].name, name) == 0) return t[c];
      return 0.0;
    };
    std::vector<double> r;
    if (device) {
      r = {at("auto") / std::min({at("cpu"), at("gpu"), at("split")}),
           at("split") / std::min(at("cpu"), at("gpu")), at("gpu") / at("cuda"), at("cpu") / at("tbb")};
    } else {
      r = {at("auto") / at("cpu"), at("cpu") / at("tbb")};
    }
    for (std::size_t k = 0; k < r.size(); ++k)
      std::printf("%s%*.2f", sep, static_cast<int>(std::strlen(ratios[k])), r[k]);
    std::printf("%s\n", o.markdown ? " |" : "");
  }
  // Ratios are time over time: below 1 the first is faster.
  const std::size_t learned = w.learned_crossover();
  std::printf("%s: the policy's crossover: %s\n", kernel.c_str(),
              learned == SIZE_MAX ? "none (the device never pays, or there is none)"
                                  : std::to_string(learned).c_str());
  if (!device || !o.crossover) return;
  // The measured crossover: from 256 items up by 2x, the first size from
  // which the device (alone or in the split) beats the CPU at three sizes in
  // a row.
  Options sweep = o;
  sweep.runs = 5;
  sweep.cell_seconds = 0.5;
  std::vector<Column> pair{cols[0], cols[1], cols[2]};  // cpu, gpu, split
  std::size_t wins = 0;
  std::size_t first_win = 0;
  for (std::size_t n = 256; n <= std::min<std::size_t>(largest, std::size_t{1} << 26) && wins < 3; n *= 2) {
    const std::vector<double> t = measure(w, pair, n, sweep);
    if (std::min(t[1], t[2]) < t[0]) {
      if (wins++ == 0) first_win = n;
    } else {
      wins = 0;
    }
  }
  if (wins == 3) {
    std::printf("%s: the measured crossover: %zu (sizes 2x apart); learned/measured %.2f\n", kernel.c_str(),
                first_win,
                learned == SIZE_MAX ? 0.0 : static_cast<double>(learned) / static_cast<double>(first_win));
  } else {
    std::printf("%s: the measured crossover: none up to %zu items\n", kernel.c_str(), largest);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  int count = 0;
  const bool device = cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
  if (device) {
    cudaDeviceProp prop{};
    check_cuda(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
    std::printf("device: %s, %d SMs; CPU: %u threads\n", prop.name, prop.multiProcessorCount,
                static_cast<unsigned>(iso::default_concurrency()));
  } else {
    std::printf("no CUDA device: only the cpu, auto and tbb columns run; CPU: %u threads\n",
                static_cast<unsigned>(iso::default_concurrency()));
  }
  for (const std::string& k : o.kernels) run_kernel(k, o, device);
  return 0;
}
