// Every rank but 0 of an MPI job: it says hello (its pool started, or why
// not), then runs the chunks rank 0 sends until rank 0 says end or stop.
#pragma once

#include <string>

#include "isolate/pool.h"
#include "transport.h"

namespace iso::cluster {

// `pool` is null when this rank's pool did not start (`start_error` says
// why). Returns the rank's exit status. Throws Error on a transport failure.
int serve_rank(Transport& transport, pool::MapPool* pool, const std::string& start_error);

}  // namespace iso::cluster
