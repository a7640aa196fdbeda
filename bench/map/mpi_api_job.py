"""mpi_bench.py's Python API case: isolate.map of `work.heavy` over 200
items, timed inside the script: the first map (which, under mpirun, starts
the job's pool: MPI_Init and every rank's hello) and a second one on the
warm pool. Prints "first_s second_s ranks_used"."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import isolate  # noqa: E402
import work  # noqa: E402


def heavy_on(x):
    return work.heavy(x), os.environ.get("OMPI_COMM_WORLD_RANK", "0")


if __name__ == "__main__":
    times, ranks = [], set()
    for _ in range(2):
        start = time.perf_counter()
        out = isolate.map(heavy_on, range(200))
        times.append(time.perf_counter() - start)
        ranks |= {r for _, r in out}
    print(f"{times[0]:.4f} {times[1]:.4f} {len(ranks)}")
