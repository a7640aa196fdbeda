// isolate/gpu.h — iso::hybrid_map: an element-wise loop, out[i] = f(in[i]...),
// that runs on the CPU (iso::parallel_for), on a CUDA device, or split
// between the two so that both finish together. The choice is made per call
// site from measured costs (src/gpu/offload_policy.h), as automatic chunking
// is: small batches stay on the CPU, the device is probed on batches worth a
// launch, and its share of a split is learned from the two sides' rates.
//
//   struct Busy {
//     __host__ __device__ int operator()(int x) const { ... }
//   };
//   iso::hybrid_map(n, Busy{}, out, in);            // out[i] = Busy{}(in[i])
//   iso::hybrid_map(n, Saxpy{a}, y, x, y);          // y[i] = a * x[i] + y[i]
//   iso::hybrid_map(iso::Device::split, n, Busy{}, out, in);  // forced
//
// f is written once for both sides. In a translation unit compiled by nvcc
// (component isolate::gpu) the device path exists; compiled by a plain C++
// compiler, hybrid_map is parallel_for. The arrays are host memory: the
// device's share is copied in, computed and copied out, chunk by chunk on
// two streams so that copies overlap kernels. With no device (or
// ISO_DEVICE=cpu) everything runs on the CPU. ISO_DEVICE=cpu|gpu|split|auto,
// read once, says what Device::automatic (the default) means; anything else
// gets a warning on stderr, and auto. A Device named in the call is used as
// given (on a machine without a device, every mode is the CPU).
//
// Status (issue 19): the policy and the CPU path are tested here; the
// device path compiles with nvcc but has not run on a GPU yet.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <thread>
#include <tuple>
#include <type_traits>

#include "isolate/exec.h"

#if defined(__CUDACC__) || defined(ISO_GPU_RUNTIME)  // ISO_GPU_RUNTIME: src/gpu/device.cc
#include <cuda_runtime.h>

#include <mutex>
#define ISO_GPU_HAS_RUNTIME 1
#endif

namespace iso {

// Where hybrid_map runs a call site's batches. automatic: chosen by
// measurement (or as ISO_DEVICE says); the others are forced, split with
// the share that the two sides' measured rates call for.
enum class Device : std::uint8_t { automatic, cpu, gpu, split };

namespace gpu_detail {

enum class Place : std::uint8_t { cpu, gpu, split };

struct Plan {
  Place place = Place::cpu;
  std::size_t gpu_items = 0;  // the items [0, gpu_items) go to the device
};

class Site;  // a call site's policy (src/gpu/site.cc)

// One per call site (an element-wise signature) and Device; thread-safe.
// `device`: whether this process has one; `round_trip`, called once when it
// has, times an empty launch and a one-item copy each way, the latency the
// policy assumes until it has measured its own.
Site& site(const void* key, Device where, bool device, double (*round_trip)());
Plan plan(Site& site, std::size_t items);
// The smallest batch the policy sends to the device; SIZE_MAX: never, or
// not known yet.
std::size_t crossover(Site& site);

template <class F, class Out, class... In>
inline int site_key;  // its address names the call site

template <class F, class Out, class... In>
Site& site_of(Device where);
// What a run measured: either side may be 0 items.
void observe(Site& site, std::size_t cpu_items, double cpu_seconds, std::size_t gpu_items,
             double gpu_seconds);

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

template <class F, class Out, class... In>
void map_on_cpu(std::size_t first, std::size_t last, const F& f, Out* out, const In*... in) {
  iso::parallel_for(first, last, [&](std::size_t i) { out[i] = f(in[i]...); });
}

#if defined(ISO_GPU_HAS_RUNTIME)
bool device_present();  // a CUDA device this process can use

// Device memory and pinned staging for one chunk per stream, kept per call
// site and grown as needed; the host arrays are pageable, so each chunk is
// staged through pinned memory for the copies to be asynchronous. `busy`:
// one device run per site at a time.
struct DeviceBuffers {
  static constexpr int kStreams = 2;
  std::mutex busy;
  cudaStream_t stream[kStreams] = {};
  void* device[kStreams] = {};
  void* pinned[kStreams] = {};
  std::size_t bytes = 0;    // of each buffer
  unsigned max_blocks = 0;  // of 256 threads: enough to fill every SM (set by reserve)
  void reserve(std::size_t need);
};
DeviceBuffers& device_buffers(const void* key);
[[noreturn]] void cuda_failed(const char* what, int code);
#endif

#if defined(__CUDACC__)
template <int = 0>
__global__ void empty_kernel() {}

// The best of three rounds; the first one also pays for the context.
inline double device_round_trip() {
  int host = 0;
  int* dev = nullptr;
  if (const cudaError_t rc = cudaMalloc(&dev, sizeof(int)); rc != cudaSuccess) cuda_failed("cudaMalloc", rc);
  double best = 1;
  for (int round = 0; round < 3; ++round) {
    const auto t0 = std::chrono::steady_clock::now();
    cudaMemcpy(dev, &host, sizeof(int), cudaMemcpyHostToDevice);
    empty_kernel<><<<1, 1>>>();
    if (const cudaError_t rc = cudaMemcpy(&host, dev, sizeof(int), cudaMemcpyDeviceToHost); rc != cudaSuccess)
      cuda_failed("cudaMemcpy", rc);
    const double took = seconds_since(t0);
    best = took < best ? took : best;
  }
  cudaFree(dev);
  return best;
}

template <class F, class Out, class... In>
__global__ void map_kernel(F f, std::size_t n, Out* out, const In*... in) {
  for (std::size_t i = blockIdx.x * std::size_t{blockDim.x} + threadIdx.x; i < n;
       i += std::size_t{gridDim.x} * blockDim.x)
    out[i] = f(in[i]...);
}

constexpr std::size_t kChunk = std::size_t{1} << 22;  // items per device chunk

inline void check(cudaError_t rc, const char* what) {
  if (rc != cudaSuccess) cuda_failed(what, static_cast<int>(rc));
}

// Once per signature, before its first timed device run: the buffers, and
// the kernel's first launch (CUDA loads a kernel lazily then), so that the
// policy's first device measurement is of the work, not of the set-up.
template <class F, class Out, class... In>
void warm_device(const void* key, const F& f) {
  static std::once_flag once;
  std::call_once(once, [&] {
    DeviceBuffers& b = device_buffers(key);
    const std::lock_guard guard(b.busy);
    b.reserve(kChunk * (sizeof(Out) + ... + sizeof(In)));
    map_kernel<<<1, 1, 0, b.stream[0]>>>(f, 0, static_cast<Out*>(nullptr),
                                         static_cast<const In*>(nullptr)...);
    check(cudaGetLastError(), "kernel launch");
    check(cudaStreamSynchronize(b.stream[0]), "cudaStreamSynchronize");
  });
}

template <class F, class Out, class... In>
void map_on_device(const void* key, std::size_t first, std::size_t last, const F& f, Out* out,
                   const In*... in) {
  constexpr std::size_t kItemBytes = (sizeof(Out) + ... + sizeof(In));
  DeviceBuffers& b = device_buffers(key);
  const std::lock_guard guard(b.busy);
  b.reserve(kChunk * kItemBytes);
  // A stream's chunk is issued (stage, copy in, kernel, copy out) and left to
  // run while the other stream's is issued; its results are copied out of
  // the pinned buffer when the stream comes round again, and at the end.
  std::size_t pending_lo[DeviceBuffers::kStreams] = {};
  std::size_t pending_len[DeviceBuffers::kStreams] = {};
  const auto finish = [&](int k) {
    if (pending_len[k] == 0) return;
    check(cudaStreamSynchronize(b.stream[k]), "cudaStreamSynchronize");
    std::memcpy(out + pending_lo[k], b.pinned[k], sizeof(Out) * pending_len[k]);
    pending_len[k] = 0;
  };
  int k = 0;
  for (std::size_t lo = first; lo < last; lo += kChunk, k = (k + 1) % DeviceBuffers::kStreams) {
    finish(k);
    const std::size_t len = last - lo < kChunk ? last - lo : kChunk;
    cudaStream_t st = b.stream[k];
    auto* pin = static_cast<unsigned char*>(b.pinned[k]);
    auto* dev = static_cast<unsigned char*>(b.device[k]);
    std::size_t at = sizeof(Out) * len;  // a chunk's layout: out, then each input
    const auto stage = [&](const auto* a) {
      using T = std::remove_cv_t<std::remove_pointer_t<decltype(a)>>;
      std::memcpy(pin + at, a + lo, sizeof(T) * len);
      check(cudaMemcpyAsync(dev + at, pin + at, sizeof(T) * len, cudaMemcpyHostToDevice, st),
            "cudaMemcpyAsync");
      const auto* d = reinterpret_cast<const T*>(dev + at);
      at += sizeof(T) * len;
      return d;
    };
    const auto launch = [&](const auto*... d) {
      const auto blocks = static_cast<unsigned>(len / 256 + 1 < b.max_blocks ? len / 256 + 1 : b.max_blocks);
      map_kernel<<<blocks, 256, 0, st>>>(f, len, reinterpret_cast<Out*>(dev), d...);
      check(cudaGetLastError(), "kernel launch");
    };
    std::apply(launch, std::tuple<const In*...>{stage(in)...});  // braces: staged in order
    check(cudaMemcpyAsync(pin, dev, sizeof(Out) * len, cudaMemcpyDeviceToHost, st), "cudaMemcpyAsync");
    pending_lo[k] = lo;
    pending_len[k] = len;
  }
  for (int s = 0; s < DeviceBuffers::kStreams; ++s) finish(s);
}
#endif

template <class F, class Out, class... In>
Site& site_of(Device where) {
  static std::atomic<Site*> cached[4];  // one per Device
  std::atomic<Site*>& slot = cached[static_cast<int>(where) & 3];
  Site* s = slot.load(std::memory_order_acquire);
  if (s == nullptr) {
#if defined(__CUDACC__)
    static const bool device = device_present();
    s = &site(&site_key<F, Out, In...>, where, device, &device_round_trip);
#else
    s = &site(&site_key<F, Out, In...>, where, false, nullptr);
#endif
    slot.store(s, std::memory_order_release);
  }
  return *s;
}

}  // namespace gpu_detail

template <class F, class Out, class... In>
void hybrid_map(Device where, std::size_t n, const F& f, Out* out, const In*... in) {
  using namespace gpu_detail;
  using Clock = std::chrono::steady_clock;
  Site& s = site_of<F, Out, In...>(where);
  const Plan p = plan(s, n);
  const std::size_t g = p.place == Place::cpu ? 0 : p.gpu_items;
  double gpu_seconds = 0;
  double cpu_seconds = 0;
#if defined(__CUDACC__)
  const void* key = &site_key<F, Out, In...>;
  if (g > 0) warm_device<F, Out, In...>(key, f);
  if (g == n && n > 0) {
    const auto t0 = Clock::now();
    map_on_device(key, 0, n, f, out, in...);
    gpu_seconds = seconds_since(t0);
  } else if (g > 0) {
    // A thread of its own drives the device's share while this one runs the
    // CPU's share on the pool; each side is timed on its own.
    const auto t0 = Clock::now();
    std::thread device_side([&] {
      map_on_device(key, 0, g, f, out, in...);
      gpu_seconds = seconds_since(t0);
    });
    const auto t1 = Clock::now();
    map_on_cpu(g, n, f, out, in...);
    cpu_seconds = seconds_since(t1);
    device_side.join();
  } else
#endif
  {
    const auto t1 = Clock::now();
    map_on_cpu(0, n, f, out, in...);
    cpu_seconds = seconds_since(t1);
  }
  observe(s, n - g, cpu_seconds, g, gpu_seconds);
}

template <class F, class Out, class... In>
void hybrid_map(std::size_t n, const F& f, Out* out, const In*... in) {
  hybrid_map(Device::automatic, n, f, out, in...);
}

// The batch size from which Device::automatic sends work of this signature
// to the device, as learned so far; SIZE_MAX where it never does (no device,
// ISO_DEVICE=cpu) or has not measured enough to say.
template <class F, class Out, class... In>
std::size_t hybrid_crossover() {
  return gpu_detail::crossover(gpu_detail::site_of<F, Out, In...>(Device::automatic));
}

}  // namespace iso
