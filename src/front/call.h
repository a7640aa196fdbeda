// `isolate call ARGS…` in the front (call.cc).
#pragma once

namespace iso::front {

// argv is the whole command line ("isolate", "call", options, python3's
// arguments); `core` is the executable the front execs for everything else.
// Never returns: the process ends as the child ended, or execs the core.
[[noreturn]] void call(int argc, char** argv, char** envp, const char* core);

}  // namespace iso::front
