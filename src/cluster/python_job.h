// `isolate run` under an MPI launcher: rank 0 runs python3's command line,
// and the pools its script opens with backend "mpi" (isolate.map's default
// there, PoolExecutor(cluster="mpi")) spread calls over every rank; every
// other rank serves them from a pool of its own until rank 0's script ends.
#pragma once

namespace iso::cluster {

// Whether `isolate run` should run as a rank: a launcher started this
// process (launched_by_mpi) for a job of more than one rank.
bool python_job_wanted();

// `isolate run ARGS` (argv without "run") as one rank of the job.
int run_python_job(int argc, char** argv);

}  // namespace iso::cluster
