// The warm interpreter of `isolate serve` (src/serve/): initialised once,
// then forked for every request; the child becomes the python3 that the
// request's command line would have started. The server and its request
// children (src/serve/*.cc) call these; the files of this folder implement
// them: start.cc (initialise, prepare a request, run it), config.cc (which
// settings a warm interpreter can take on), streams.cc (sys.std*, os.environ,
// signal handlers rebuilt in the child), exit.cc (a child's finalisation).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace iso::serve::warm {

// Initialises CPython as `python3` with no arguments would be (the same
// environment rules, allocator choice and signal handlers), imports every
// module of `preload`, and keeps the GIL on the calling thread. Throws
// std::runtime_error with a one-line message. Call at most once per process.
void initialize(const std::vector<std::string>& preload);

// Around the server's fork(): CPython's own fork protocol, including the
// os.register_at_fork() hooks (random reseeds itself in the child).
void before_fork();
void after_fork_parent();
void after_fork_child();

struct Start {
  enum class Outcome {
    ready,   // run_and_exit() runs the request
    cold,    // only a fresh interpreter can run it (cold_reason says why); nothing ran
    exited,  // python3's command line ended it (--version, a bad option): exit_code
  };
  Outcome outcome = Outcome::cold;
  std::string cold_reason;
  int exit_code = 0;
};

// In a forked child whose process already has the caller's working
// directory, environment and stdio: reads `args` (python3's command line,
// without the program name) as python3 would, and unless a setting fixed at
// initialisation differs (-E, -O, -X dev, -W, ...), gives the interpreter
// that command line's configuration, new sys.std* streams on fds 0-2, the
// caller's os.environ and python3's signal handlers for a caller whose
// ignored signals are `ignored_signals` (bit N-1 for signal N).
Start prepare(const std::vector<std::string>& args, std::uint64_t ignored_signals);

// In a spare child forked ahead of its request: does, on throwaway objects,
// the work every request does (parse a command line, make std streams,
// compile and run a line), so that the pages it writes are copied now
// rather than while a caller waits.
void pretouch();

// Runs the prepared command line as Py_RunMain does and leaves the process
// with its exit status. Just before that, with the std streams flushed and
// fds 0-2 closed, `report` (if set) gets the status; a death by signal is
// not reported.
[[noreturn]] void run_and_exit(void (*report)(int exit_status));

}  // namespace iso::serve::warm
