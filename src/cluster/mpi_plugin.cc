// isolate-mpi.so: the transport of transport_abi.h over MPI. Compiled with
// MPI's flags and loaded by the core with dlopen; nothing else links MPI.
// The C API only: Open MPI's deprecated C++ bindings would need libmpi_cxx.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <climits>
#include <cstring>
#include <list>
#include <string>
#include <vector>

#include "transport_abi.h"

namespace {

struct Queued {
  std::vector<char> data;
  MPI_Request request = MPI_REQUEST_NULL;
};

std::list<Queued> queued;  // sends in flight; a list, so each buffer stays put
std::string error;
std::string version;

int failed(const char* what, int code) {
  char text[MPI_MAX_ERROR_STRING] = {};
  int length = 0;
  MPI_Error_string(code, text, &length);
  error = std::string(what) + ": " + text;
  return -1;
}

// Frees the buffers of the sends MPI has finished with.
void reap() {
  for (auto it = queued.begin(); it != queued.end();) {
    int done = 0;
    MPI_Test(&it->request, &done, MPI_STATUS_IGNORE);
    it = done ? queued.erase(it) : std::next(it);
  }
}

int init(int* rank, int* size) {
  int provided = 0;
  // Errors come back as codes, not as an abort inside MPI: the core reports them.
  if (const int rc = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided); rc != MPI_SUCCESS)
    return failed("MPI_Init_thread", rc);
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, rank);
  MPI_Comm_size(MPI_COMM_WORLD, size);
  return 0;
}

int send(int to, int tag, const void* data, std::size_t size) {
  if (size > static_cast<std::size_t>(INT_MAX)) {
    error = "a message of " + std::to_string(size) + " bytes is past MPI's 2 GiB limit";
    return -1;
  }
  reap();
  Queued& q = queued.emplace_back();
  q.data.assign(static_cast<const char*>(data), static_cast<const char*>(data) + size);
  // The request is completed by reap() or finalize(), which the checker cannot follow through the list.
  // NOLINTNEXTLINE(clang-analyzer-optin.mpi.MPI-Checker)
  const int rc =
      MPI_Isend(q.data.data(), static_cast<int>(size), MPI_BYTE, to, tag, MPI_COMM_WORLD, &q.request);
  if (rc != MPI_SUCCESS) {
    queued.pop_back();
    return failed("MPI_Isend", rc);
  }
  return 0;
}

int poll(int* from, int* tag, std::size_t* size) {
  int arrived = 0;
  MPI_Status status;
  if (const int rc = MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &arrived, &status);
      rc != MPI_SUCCESS)
    return failed("MPI_Iprobe", rc);
  if (!queued.empty()) reap();
  if (!arrived) return 0;
  int count = 0;
  MPI_Get_count(&status, MPI_BYTE, &count);
  *from = status.MPI_SOURCE;
  *tag = status.MPI_TAG;
  *size = static_cast<std::size_t>(count);
  return 1;
}

int receive(int from, int tag, void* data, std::size_t size) {
  if (const int rc =
          MPI_Recv(data, static_cast<int>(size), MPI_BYTE, from, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      rc != MPI_SUCCESS)
    return failed("MPI_Recv", rc);
  return 0;
}

void finalize() {
  for (Queued& q : queued)
    MPI_Wait(&q.request, MPI_STATUS_IGNORE);  // NOLINT(clang-analyzer-optin.mpi.MPI-Checker)
  queued.clear();
  MPI_Finalize();
}

void abort_all(int code) {
  MPI_Abort(MPI_COMM_WORLD, code);
}

const char* last_error() {
  return error.c_str();
}

const char* library_version() {
  char text[MPI_MAX_LIBRARY_VERSION_STRING] = {};
  int length = 0;
  MPI_Get_library_version(text, &length);
  version.assign(text, strcspn(text, ",\n"));
  return version.c_str();
}

constexpr iso_cluster_transport kTransport = {
    kIsoClusterAbi, init, send, poll, receive, finalize, abort_all, last_error, library_version,
};

}  // namespace

extern "C" __attribute__((visibility("default"))) const iso_cluster_transport* iso_cluster_transport_v1(
    void) {
  return &kTransport;
}
