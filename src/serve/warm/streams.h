// The parts of a warm interpreter that python3 builds from its own process at
// start-up, rebuilt in a forked child. Each needs the GIL and returns false
// with a Python exception set on failure.
#pragma once

#include <Python.h>

#include <cstdint>

namespace iso::serve::warm {

// sys.stdin/stdout/stderr (and sys.__std*__) on fds 0-2 as python3 would
// create them under `config` (-u, PYTHONIOENCODING, the locale's encoding).
bool rebuild_stdio(const PyConfig& config);

// os.environ and os.environb from the process's environment.
bool rebuild_environ();

// In the server: remembers the signal module's handlers, so that a child
// changes only the ones that differ.
bool record_signal_handlers();

// The signal module's handlers as python3 sets them up for a parent that
// ignored `ignored_signals` (bit N-1 for signal N).
bool reset_signal_handlers(std::uint64_t ignored_signals);

}  // namespace iso::serve::warm
