// iso::parallel_for alone: no Python, no allocator, no isolate executable.
#include <cstdio>
#include <functional>
#include <vector>

#include "isolate/exec.h"

int main() {
  std::vector<long> squares(100000);
  iso::parallel_for(0, squares.size(), [&](std::size_t i) { squares[i] = static_cast<long>(i * i); });
  const long sum = iso::parallel_reduce(
      0, squares.size(), 0L, [&](std::size_t i) { return squares[i]; }, std::plus<>());
  std::printf("%ld\n", sum);
  return 0;
}
