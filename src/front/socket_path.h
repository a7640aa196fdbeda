// Which server `isolate call` uses: the socket path the core derives from the
// build key, the preload list and the start-up environment (src/serve/
// settings.cc and identity.cc), computed here the same way without a C
// library. The e2e tests check that both agree.
#pragma once

#include "text.h"

namespace iso::front {

inline constexpr int kMaxModules = 64;
inline constexpr std::size_t kPathCapacity = 4096;
using Path = Text<kPathCapacity>;

struct Preload {
  const char* names[kMaxModules];  // pointers into `storage`
  int count = 0;
  Text<8192> storage;
};

// ISO_PRELOAD's modules, as the core parses them; false if the value is not a
// comma-separated list of module names (the core reports that).
bool parse_preload(const char* value, Preload* out);

// The value of `name` in `envp`, or nullptr.
const char* find_variable(char** envp, const char* name);

// The socket directory (identity.cc: socket_directory()), created 0700 if
// missing; false when it is not private to the user (the core explains why).
bool private_directory(char** envp, Path* out);

// The preload list of $XDG_CONFIG_HOME/isolate/serve.json (or ~/.config/…),
// which the core reads (it has a JSON parser) and leaves, checked, in the
// socket `directory` for this front (settings.cc: leave_for_the_front).
enum class Config { none, read, for_the_core };
Config config_preload(char** envp, const Path& directory, Preload* out);

// The key a server and its callers must share (identity.cc: build_key).
void build_key(const char* core, Path* out);

// Appends to `path`, the socket directory, the name of this caller's server's
// socket (settings.cc: default_socket_path).
bool add_socket_name(const char* key, const Preload& preload, char** envp, Path* path);

}  // namespace iso::front
