// How the command line names isolate: the front (src/front/) and the core
// (src/cli/main.cc) must agree on what they dispatch. Plain loops: the front
// has no C library.
#pragma once

namespace iso::contract {

// Invoked through a link named python*, isolate is that interpreter.
inline bool invoked_as_python(const char* argv0) {
  const char* name = argv0;
  for (const char* c = argv0; *c != '\0'; ++c) {
    if (*c == '/') name = c + 1;
  }
  const char* prefix = "python";
  while (*prefix != '\0' && *name == *prefix) {
    ++name;
    ++prefix;
  }
  return *prefix == '\0';
}

// `isolate call ARGS…`: the warm path, which the front runs itself.
inline bool is_call(int argc, char** argv) {
  if (argc < 2 || invoked_as_python(argv[0])) return false;
  const char* word = argv[1];
  return word[0] == 'c' && word[1] == 'a' && word[2] == 'l' && word[3] == 'l' && word[4] == '\0';
}

}  // namespace iso::contract
