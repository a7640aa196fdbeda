// The core's side of the MPI plugin: finding out whether an MPI launcher
// started this process, loading isolate-mpi.so, and typed messages over it.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

struct iso_cluster_transport;

namespace iso::cluster {

// A one-line message for the user, without the "isolate: map: " prefix.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// mpirun (OMPI_COMM_WORLD_SIZE), srun --mpi=pmix or pmi2 (PMIX_RANK, PMI_RANK)
// set these; a plain run has none. ISO_MPI=0 turns the detection off.
bool launched_by_mpi();

// isolate-mpi.so beside the core executable; empty where this build has no MPI.
std::string plugin_path();

enum class Tag : int {
  hello = 1,    // rank -> 0: its pool started (or why not) and the chunks it can take
  work = 2,     // 0 -> rank: chunks of items
  results = 3,  // rank -> 0: answered chunks, and as many chunks more it can take
  end = 4,      // 0 -> rank: every item is answered; finish
  stop = 5,     // 0 -> rank: the job could not start; finish without work
};

class Transport {
 public:
  // Loads the plugin and initialises MPI. Throws Error.
  Transport();
  ~Transport();  // MPI_Finalize, once every queued send has left
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  std::string library_version() const;

  void send(int to, Tag tag, const std::string& bytes);  // never blocks; throws Error
  struct Envelope {
    int from = 0;
    Tag tag = Tag::hello;
    std::size_t size = 0;
  };
  std::optional<Envelope> poll();                // a message that has arrived, if any; throws Error
  std::string receive(const Envelope& message);  // throws Error
  [[noreturn]] void abort(int code);

 private:
  void* library_ = nullptr;
  const iso_cluster_transport* api_ = nullptr;
  int rank_ = 0;
  int size_ = 1;
};

// The plugin's MPI, for `isolate info`: "Open MPI v4.1.4", or why there is none.
std::string mpi_description();

}  // namespace iso::cluster
