/* MPI's own start and end, nothing else: mpi_bench.py subtracts a job of
   these from isolate's jobs, leaving what isolate adds. */
#include <mpi.h>

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  MPI_Finalize();
  return 0;
}
