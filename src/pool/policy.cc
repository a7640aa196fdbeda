// The pool's policy (isolate/pool.h): backend names, how many workers, which
// backend. The one place `isolate map`, `import isolate` and C++ callers
// resolve them; the chunk size is MapPool::chunk_size, beside the measurements
// it is made from.
#include <patchlevel.h>  // PY_VERSION_HEX, PY_VERSION: all this file needs of Python.h

#include <cstdlib>
#include <string>

#include "isolate/exec.h"
#include "isolate/pool.h"
#include "isolate/python.h"

namespace iso::pool {

static_assert(kMaxWorkers == iso::kMaxThreads, "ISO_THREADS has one range");

std::optional<Backend> parse_backend(std::string_view name) {
  if (name == "subinterp") return Backend::subinterp;
  if (name == "threads") return Backend::threads;
  if (name == "process") return Backend::process;
  return std::nullopt;
}

std::string_view backend_name(Backend backend) {
  switch (backend) {
    case Backend::subinterp:
      return "subinterp";
    case Backend::threads:
      return "threads";
    case Backend::process:
      return "process";
  }
  return "?";
}

unsigned default_workers() {
  return static_cast<unsigned>(iso::default_concurrency());
}

unsigned resolve_workers(std::size_t requested) {
  if (requested == 0) return default_workers();
  if (requested > kMaxWorkers) {
    throw Error(Error::Kind::setting, "isolate: max_workers must be from 1 to " +
                                          std::to_string(kMaxWorkers) + ", not " + std::to_string(requested));
  }
  return static_cast<unsigned>(requested);
}

Backend auto_backend() {
  const char* force = std::getenv("ISO_FORCE_PROCESS");
  if (force != nullptr && force[0] != '\0' && force[0] != '0') return Backend::process;
  // Whether the GIL came back on is known only once Python runs: MapPool::start
  // (the target turned it on) and import isolate's _open_pool move off threads.
  if (python::build_info().gil_disabled) return Backend::threads;
  if (PY_VERSION_HEX >= 0x030C0000) return Backend::subinterp;
  return Backend::process;
}

BackendChoice choose_backend(std::string_view requested, std::string_view setting, bool main_has_file) {
  bool automatic = requested == "auto";
  if (const char* environment = std::getenv("ISO_BACKEND");
      automatic && environment != nullptr && *environment) {
    requested = environment;
    setting = "ISO_BACKEND";
    automatic = requested == "auto";
  }
  if (automatic) {
    const Backend best = auto_backend();
    // A sub-interpreter cannot import a __main__ that has no file.
    return {best == Backend::subinterp && !main_has_file ? Backend::process : best, true};
  }
  const std::optional<Backend> named = parse_backend(requested);
  if (!named) {
    throw Error(Error::Kind::setting, "isolate: unknown " + std::string(setting) + " '" +
                                          std::string(requested) +
                                          "' (expected one of auto, subinterp, threads, process)");
  }
  if (*named == Backend::subinterp && PY_VERSION_HEX < 0x030C0000) {
    throw Error(Error::Kind::setting,
                "isolate: backend 'subinterp' needs CPython >= 3.12; this build embeds " PY_VERSION);
  }
  return {*named, false};
}

}  // namespace iso::pool
