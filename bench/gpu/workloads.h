// The two workloads of issue 19, written once for gpu_hybrid_bench and the
// hybrid_map tests (tests/gpu/), for nvcc and for a plain C++ compiler.
#pragma once

#if defined(__CUDACC__)
#define ISO_WORKLOAD_FN __host__ __device__
#else
#define ISO_WORKLOAD_FN
#endif

namespace iso_workloads {

// The seed report's busy_work: 512 rounds of acc = (acc*7 + 13) % 997 (compute-bound).
struct Busy {
  ISO_WORKLOAD_FN int operator()(int x) const {
    int acc = x;
    for (int k = 0; k < 512; ++k) acc = (acc * 7 + 13) % 997;
    return acc;
  }
};

// z = a*x + y: one multiply-add per 12 bytes moved (memory-bound; transfers dominate).
struct Saxpy {
  float a;
  ISO_WORKLOAD_FN float operator()(float x, float y) const { return a * x + y; }
};

}  // namespace iso_workloads
