// The executor's environment switches, read once (first use) into a Config.
#pragma once

#include <cstddef>
#include <cstdint>

namespace iso::exec_detail {

struct Config {
  std::size_t cpus;          // CPUs this process may run on (affinity mask)
  std::size_t threads;       // ISO_THREADS, else cpus: the default pool's size
  std::size_t forced_chunk;  // ISO_CHUNK_SIZE, 0 when unset: replaces automatic chunking
  std::uint64_t spin_ns;     // ISO_EXEC_SPIN_US: how long idle threads spin before sleeping
};

const Config& config();

}  // namespace iso::exec_detail
