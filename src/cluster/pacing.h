// How rank 0's coordinator and every other rank's loop pace themselves;
// both sides must agree, so it is written once.
#pragma once

#include <chrono>
#include <cstddef>

namespace iso::cluster {

// How long a loop sleeps when nothing moved: short at first, so a request is
// answered at once, then up to 1 ms, so an idle loop does not take a core
// from the pool beside it.
inline constexpr std::chrono::microseconds kFirstWait{50};
inline constexpr std::chrono::microseconds kLongestWait{1000};

// The chunks a pool of `workers` holds at once to hide the hand-over: what
// a rank asks for in its hello, and what rank 0 keeps in its own pool.
inline std::size_t chunks_held(unsigned workers) {
  return 2 * static_cast<std::size_t>(workers);
}

}  // namespace iso::cluster
