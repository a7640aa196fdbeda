// isolate/gpu.h in a plain C++ translation unit: hybrid_map is parallel_for.
#include <cstdio>
#include <vector>

#include "isolate/gpu.h"

struct Square {
  long operator()(long x) const { return x * x; }
};

int main() {
  std::vector<long> in(100000), out(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<long>(i);
  iso::hybrid_map(in.size(), Square{}, out.data(), in.data());
  long sum = 0;
  for (long v : out) sum += v;
  std::printf("%ld\n", sum);
  return 0;
}
