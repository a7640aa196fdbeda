// How the command line names isolate: the front (src/front/) and the core
// (src/cli/main.cc) must agree on what they dispatch. Plain loops: the front
// has no C library.
#pragma once

#include "text.h"

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

// `isolate call [--socket PATH] [--no-spawn] ARGS…`: the options before
// python3's command line, which starts at argv[first_arg].
struct CallOptions {
  const char* socket = nullptr;  // --socket PATH, --socket=PATH
  bool no_spawn = false;         // the core sets it when it execs the front: report, never go back
  bool socket_without_path = false;
  int first_arg = 2;
};

// argv[0] is the program, argv[1] "call".
inline CallOptions parse_call_options(int argc, char** argv) {
  CallOptions options;
  int i = 2;
  for (; i < argc; ++i) {
    const char* arg = argv[i];
    if (equal(arg, "--no-spawn")) {
      options.no_spawn = true;
    } else if (equal(arg, "--socket")) {
      if (i + 1 >= argc) {
        options.socket_without_path = true;
        break;
      }
      options.socket = argv[++i];
    } else if (starts_with(arg, "--socket=")) {
      options.socket = arg + 9;
    } else {
      break;
    }
  }
  options.first_arg = i;
  return options;
}

}  // namespace iso::contract
