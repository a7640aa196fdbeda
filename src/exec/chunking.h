// Automatic chunking: what an item costs at a call site, and the chunk (or
// the inline run) that cost calls for.
#pragma once

#include <cstddef>
#include <cstdint>
#include <typeinfo>

#include "isolate/exec.h"

namespace iso::exec_detail {

// Folds a measurement (ns for `items` items) into the site's estimate.
void learn_cost(Site& site, std::uint64_t ns, std::size_t items) noexcept;

struct Plan {
  std::size_t begin;  // first item left to run
  std::size_t chunk;  // 0: nothing left, all of it ran inline
};

// Whether chunks are timed to learn from (not in the lite build).
#if defined(ISO_EXEC_LITE)
inline constexpr bool kLearnsCosts = false;
#else
inline constexpr bool kLearnsCosts = true;
#endif

// Runs what must run inline (the first items of a site never seen, or the
// whole batch when it is too small to gain) and says how to cut the rest.
// The lite build runs nothing and cuts 8 chunks per participant.
Plan plan_automatic(const Loop& loop, std::size_t begin, std::size_t end, std::size_t participants);

// The site of a boxed body: keyed by the type of the callable it holds.
Site& dyn_site(const std::type_info& callable) noexcept;

}  // namespace iso::exec_detail
