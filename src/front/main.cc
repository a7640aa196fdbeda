// The `isolate` command: a small executable with no C library and no Python
// in it (start.cc, src/contract/sys.h).
//
// `isolate call` runs here, whole: its own process start is part of every
// call's latency, and this process starts in a fraction of the time of the
// core, which carries libpython and the C and C++ runtimes
// (docs/BENCHMARKS.md, issue 6). Every other command, and python3's own
// command line when isolate is invoked as python*, belongs to the core, which
// this execs with argv unchanged.
#include "call.h"
#include "contract/invocation.h"
#include "contract/sys.h"
#include "contract/text.h"

namespace iso::front {

namespace sys = contract::sys;
using contract::kPathCapacity;
using contract::Text;

// The core sits at the same place relative to this binary in the build tree
// and under the install prefix (src/front/CMakeLists.txt).
int main(int argc, char** argv, char** envp) {
  static contract::Path core;
  char self[kPathCapacity] = {};
  const long size = sys::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (size > 0) {
    long slash = size - 1;
    while (slash > 0 && self[slash] != '/') --slash;
    core.add(self, static_cast<std::size_t>(slash) + 1);
  }
  core.add(ISO_CORE_FROM_FRONT);
  if (contract::is_call(argc, argv)) call(argc, argv, envp, core.c_str());
  sys::execve(core.c_str(), argv, envp);
  Text<kPathCapacity + 64> message;
  message.add("isolate: cannot run the isolate core ").add(core.c_str()).add('\n');
  (void)sys::write(2, message.c_str(), message.size());
  return 127;
}

}  // namespace iso::front
