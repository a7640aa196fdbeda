// The `isolate` command: a small static executable with no Python in it.
//
// `isolate call` runs here, whole: its own process start is part of every
// call's latency, and a static binary of this size starts in about half the
// time of the core, which carries libpython (docs/BENCHMARKS.md, issue 6).
// Every other command, and python3's own command line when isolate is invoked
// as python*, belongs to the core, which this execs with argv unchanged.
#include <unistd.h>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "../serve/identity.h"
#include "invocation.h"
#include "isolate/serve.h"

namespace {

// The core is installed at the same place relative to this binary in the
// build tree and under the install prefix (src/cli/CMakeLists.txt).
std::string core_path() {
  char self[PATH_MAX];
  const ssize_t size = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (size <= 0) return ISO_CORE_FROM_FRONT;
  std::string path(self, static_cast<std::size_t>(size));
  path.erase(path.rfind('/') + 1);
  path += ISO_CORE_FROM_FRONT;
  char resolved[PATH_MAX];
  // The server computes its build key from its own canonical path.
  return realpath(path.c_str(), resolved) != nullptr ? std::string(resolved) : path;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string core = core_path();
  if (iso::cli::is_call(argc, argv)) {
    iso::serve::set_core_executable(core);
    const int status = iso::serve::call_main(argc - 2, argv + 2);
    std::fflush(nullptr);
    _exit(status);
  }
  execv(core.c_str(), argv);
  std::fprintf(stderr, "isolate: cannot run the isolate core %s: %s\n", core.c_str(), std::strerror(errno));
  return 127;
}
