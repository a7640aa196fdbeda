#include "transport.h"

#include <dlfcn.h>
#include <malloc.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string_view>

#include "transport_abi.h"

namespace iso::cluster {

namespace {

const char* env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : nullptr;
}

// The plugin's table, or an Error saying why there is none.
const iso_cluster_transport* load(void*& library) {
  const std::string path = plugin_path();
  if (path.empty() || !std::filesystem::exists(path))
    throw Error("this isolate was built without MPI (install libopenmpi-dev and rebuild)");
  // RTLD_GLOBAL: Open MPI dlopens components of its own that resolve
  // symbols of libmpi.so against the global scope.
  library = dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
  if (library == nullptr) throw Error(std::string("cannot load MPI: ") + dlerror());
  using Entry = const iso_cluster_transport* (*)();
  auto entry = reinterpret_cast<Entry>(dlsym(library, "iso_cluster_transport_v1"));
  const iso_cluster_transport* api = entry != nullptr ? entry() : nullptr;
  if (api == nullptr || api->abi != kIsoClusterAbi)
    throw Error(path + " is not this isolate's MPI plugin (rebuild isolate)");
  return api;
}

}  // namespace

bool launched_by_mpi() {
  if (const char* off = env("ISO_MPI"); off != nullptr && std::string_view(off) == "0") return false;
  return env("OMPI_COMM_WORLD_SIZE") != nullptr || env("PMIX_RANK") != nullptr || env("PMI_RANK") != nullptr;
}

std::string plugin_path() {
#ifdef ISO_MPI_PLUGIN
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  return (self.parent_path() / ISO_MPI_PLUGIN).string();
#else
  return {};
#endif
}

Transport::Transport() : api_(load(library_)) {
  // Messages are chunks of items, often megabytes, made and freed by the
  // hundred per second. glibc's defaults map each one afresh, or give the
  // top of the heap back after each free, and fault it in again: with 2 KB
  // items that was a third of rank 0's time (docs/BENCHMARKS.md, issue 16).
  // Keep up to 64 MiB of freed heap instead (only in a process under MPI).
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  if (api_->init(&rank_, &size_) != 0) throw Error(std::string("cannot start MPI: ") + api_->last_error());
}

Transport::~Transport() {
  api_->finalize();
}

std::string Transport::library_version() const {
  return api_->library_version();
}

void Transport::send(int to, Tag tag, const std::string& bytes) {
  if (api_->send(to, static_cast<int>(tag), bytes.data(), bytes.size()) != 0)
    throw Error(std::string("MPI: ") + api_->last_error());
}

std::optional<Transport::Envelope> Transport::poll() {
  Envelope e;
  int tag = 0;
  const int rc = api_->poll(&e.from, &tag, &e.size);
  if (rc < 0) throw Error(std::string("MPI: ") + api_->last_error());
  if (rc == 0) return std::nullopt;
  e.tag = static_cast<Tag>(tag);
  return e;
}

std::string Transport::receive(const Envelope& message) {
  std::string bytes(message.size, '\0');
  if (api_->receive(message.from, static_cast<int>(message.tag), bytes.data(), bytes.size()) != 0)
    throw Error(std::string("MPI: ") + api_->last_error());
  return bytes;
}

void Transport::abort(int code) {
  api_->abort(code);
  std::_Exit(code);
}

std::string mpi_description() {
  void* library = nullptr;
  try {
    const iso_cluster_transport* api = load(library);
    return std::string("yes (") + api->library_version() + ")";
  } catch (const Error& e) {
    return std::string("no: ") + e.what();
  }
}

}  // namespace iso::cluster
