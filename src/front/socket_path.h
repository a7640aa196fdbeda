// Which server `isolate call` uses, found by the front: the rule is the
// contract's (src/contract/socket_name.h); what is here is the front's own
// I/O around it. Every failure is a false, and the core, which the front
// then execs, says what is wrong.
#pragma once

#include "contract/socket_name.h"

namespace iso::front {

using contract::Path;
using contract::PreloadList;

// The socket of the server for this caller: `requested` (--socket) if given,
// else the default for the caller's preload list, ISO_PRELOAD or serve.json's
// list as the core left it. Fills `preload` (empty with --socket).
bool find_socket(char** envp, const Path& key, const char* requested, PreloadList* preload, Path* path);

}  // namespace iso::front
