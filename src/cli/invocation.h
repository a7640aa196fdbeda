// How the command line names isolate: shared by the front (front.cc) and the
// core (main.cc), which must agree on what they dispatch.
#pragma once

#include <cstring>
#include <string_view>

namespace iso::cli {

// Invoked through a link named python*, isolate is that interpreter.
inline bool invoked_as_python(const char* argv0) {
  const char* slash = std::strrchr(argv0, '/');
  return std::string_view(slash ? slash + 1 : argv0).starts_with("python");
}

// `isolate call ARGS…`: the warm path, which the front runs itself.
inline bool is_call(int argc, char** argv) {
  return argc >= 2 && !invoked_as_python(argv[0]) && std::strcmp(argv[1], "call") == 0;
}

}  // namespace iso::cli
