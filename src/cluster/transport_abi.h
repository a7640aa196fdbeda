// The one contract between the core and its MPI plugin (isolate-mpi.so, built
// from mpi_plugin.cc where MPI is found). The core never links MPI: it
// dlopens the plugin only when `isolate map` runs under mpirun or srun, so
// `isolate run` and `isolate call` start exactly as they did without it.
// Plain C types only: the two sides are built together, but the plugin is
// compiled by the MPI wrapper's flags and loaded at run time.
#pragma once

#include <cstddef>

extern "C" {

inline constexpr int kIsoClusterAbi = 1;

struct iso_cluster_transport {
  int abi;  // kIsoClusterAbi
  // MPI_Init_thread (serialized: one thread at a time makes the calls
  // below). 0 on success; else a message for last_error().
  int (*init)(int* rank, int* size);
  // Queues a message (MPI_Isend on a copy): never blocks, so two ranks that
  // send to each other at once cannot deadlock. 0 on success.
  int (*send)(int to, int tag, const void* data, std::size_t size);
  // 1 and the message's envelope if one has arrived (MPI_Iprobe, which also
  // moves queued sends along); 0 if none; -1 on error.
  int (*poll)(int* from, int* tag, std::size_t* size);
  // Receives the message poll() announced into `data` (`size` bytes). 0 on success.
  int (*receive)(int from, int tag, void* data, std::size_t size);
  // Waits for the queued sends, then MPI_Finalize.
  void (*finalize)(void);
  // MPI_Abort on the world: every rank of the job ends with `code`.
  void (*abort)(int code);
  const char* (*last_error)(void);
  const char* (*library_version)(void);  // MPI_Get_library_version's first line
};

// The plugin's one exported symbol.
const iso_cluster_transport* iso_cluster_transport_v1(void);
}
