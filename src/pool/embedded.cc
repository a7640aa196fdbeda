// The interpreter behind the pool: python3's configuration (its stdlib,
// site-packages and PYTHON* variables), minus Python's signal handlers —
// the command that embeds it owns Ctrl-C.
#include <Python.h>
#include <unistd.h>

#include <cstdio>

#include "isolate/pool.h"
#include "isolate/python.h"

namespace iso::pool {

EmbeddedPython::EmbeddedPython() {
  PyConfig config;
  PyConfig_InitPythonConfig(&config);
  config.install_signal_handlers = 0;
  config.parse_argv = 0;
  config.safe_path = 1;  // TARGET's directory is put on sys.path by the worker module instead
  char empty[] = "";
  char* argv[] = {empty, nullptr};
  const std::string_view executable = python::build_info().executable;
  PyStatus status = PyConfig_SetBytesString(&config, &config.program_name, executable.data());
  if (!PyStatus_Exception(status)) status = PyConfig_SetBytesArgv(&config, 1, argv);
  if (!PyStatus_Exception(status)) status = Py_InitializeFromConfig(&config);
  PyConfig_Clear(&config);
  if (PyStatus_Exception(status)) {
    throw Error(Error::Kind::start, std::string("isolate: cannot start the embedded Python: ") +
                                        (status.err_msg != nullptr ? status.err_msg : "unknown error"));
  }
  main_thread_state_ = PyEval_SaveThread();
}

EmbeddedPython::~EmbeddedPython() {
  PyEval_RestoreThread(static_cast<PyThreadState*>(main_thread_state_));
  Py_FinalizeEx();
}

void EmbeddedPython::quick_exit(int status) {
  std::fflush(nullptr);
  _exit(status);
}

}  // namespace iso::pool
