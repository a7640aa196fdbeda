// iso::hybrid_map in a user's CUDA translation unit: SAXPY written once for
// both sides. Without a device (or with ISO_DEVICE=cpu) it runs on the CPU;
// either way the result must equal the plain loop's.
#include <cstdio>
#include <vector>

#include "isolate/gpu.h"

struct Saxpy {
  float a;
  __host__ __device__ float operator()(float x, float y) const { return a * x + y; }
};

int main() {
  const std::size_t n = 1 << 20;
  std::vector<float> x(n), y(n), z(n);
  for (std::size_t i = 0; i < n; ++i) {
    x[i] = static_cast<float>(i % 1000);
    y[i] = 1.0f;
  }
  iso::hybrid_map(n, Saxpy{2.0f}, z.data(), x.data(), y.data());
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < n; ++i) wrong += z[i] != 2.0f * x[i] + 1.0f;
  std::printf("saxpy %zu items, %zu wrong\n", n, wrong);
  return wrong == 0 ? 0 : 1;
}
