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

// What a serving rank does on SIGINT, SIGTERM or SIGHUP (mpirun's Ctrl-C, or
// the job being ended): its worker processes are killed and it leaves at
// once with 128 + the signal. Call before any other thread starts.
void end_on_stop_signals();

}  // namespace iso::cluster
