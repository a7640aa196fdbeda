// The parts of a warm interpreter that python3 builds from its process at
// start-up, rebuilt in the forked child from the caller's process: sys.std*
// on fds 0-2, os.environ, and the signal module's handlers.
#include "streams.h"

#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <cstring>

#include "python/py_ref.h"

extern char** environ;

namespace iso::serve::warm {

using python::Ref;

namespace {

// CPython's create_stdio (Python/pylifecycle.c) for one stream: the same
// buffering, line buffering, names and modes, so that a script sees the
// streams python3 would give it on these fds.
PyObject* create_stdio(PyObject* io, const PyConfig& config, int fd, bool write_mode, const char* name,
                       const wchar_t* errors) {
  if (fcntl(fd, F_GETFD) < 0) Py_RETURN_NONE;  // a closed fd: sys.stdX is None, as in python3
  const bool buffered = config.buffered_stdio != 0;
  // stdin is always buffered: TextIOWrapper needs read1().
  const int buffering = (!buffered && write_mode) ? 0 : -1;
  Ref buf(PyObject_CallMethod(io, "open", "isiOOOO", fd, write_mode ? "wb" : "rb", buffering, Py_None,
                              Py_None, Py_None, Py_False));
  if (!buf) return nullptr;
  Ref raw(buffering != 0 ? PyObject_GetAttrString(buf.p, "raw") : Py_NewRef(buf.p));
  if (!raw) return nullptr;
  Ref text(PyUnicode_FromString(name));
  if (!text || PyObject_SetAttrString(raw.p, "name", text.p) < 0) return nullptr;
  Ref isatty_result(PyObject_CallMethod(raw.p, "isatty", nullptr));
  if (!isatty_result) return nullptr;
  const int isatty = PyObject_IsTrue(isatty_result.p);
  if (isatty < 0) return nullptr;
  PyObject* write_through = buffered ? Py_False : Py_True;
  PyObject* line_buffering = (buffered && (isatty != 0 || fd == STDERR_FILENO)) ? Py_True : Py_False;
  Ref encoding(PyUnicode_FromWideChar(config.stdio_encoding, -1));
  Ref errors_text(PyUnicode_FromWideChar(errors, -1));
  if (!encoding || !errors_text) return nullptr;
  PyObject* stream = PyObject_CallMethod(io, "TextIOWrapper", "OOOsOO", buf.p, encoding.p, errors_text.p,
                                         "\n", line_buffering, write_through);
  if (stream == nullptr) return nullptr;
  Ref mode(PyUnicode_FromString(write_mode ? "w" : "r"));
  if (!mode || PyObject_SetAttrString(stream, "mode", mode.p) < 0) {
    Py_DECREF(stream);
    return nullptr;
  }
  return stream;
}

bool set_stream(PyObject* stream, const char* name, const char* dunder) {
  if (stream == nullptr) return false;
  const bool ok = PySys_SetObject(dunder, stream) == 0 && PySys_SetObject(name, stream) == 0;
  Py_DECREF(stream);
  return ok;
}

}  // namespace

bool rebuild_stdio(const PyConfig& config) {
  Ref io(PyImport_ImportModule("io"));
  if (!io) return false;
  // The server's streams hold nothing unwritten (it never runs user code), so
  // dropping them loses no output.
  return set_stream(create_stdio(io.p, config, STDIN_FILENO, false, "<stdin>", config.stdio_errors), "stdin",
                    "__stdin__") &&
         set_stream(create_stdio(io.p, config, STDOUT_FILENO, true, "<stdout>", config.stdio_errors),
                    "stdout", "__stdout__") &&
         set_stream(create_stdio(io.p, config, STDERR_FILENO, true, "<stderr>", L"backslashreplace"),
                    "stderr", "__stderr__");
}

bool rebuild_environ() {
  // os.environ's mapping is posix.environ itself on POSIX, so refilling that
  // one dict gives os.environ and os.environb the caller's variables.
  Ref posix(PyImport_ImportModule("posix"));
  if (!posix) return false;
  Ref mapping(PyObject_GetAttrString(posix.p, "environ"));
  if (!mapping || !PyDict_Check(mapping.p)) return false;
  PyDict_Clear(mapping.p);
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const char* equals = std::strchr(*entry, '=');
    if (equals == nullptr) continue;
    Ref key(PyBytes_FromStringAndSize(*entry, equals - *entry));
    Ref value(PyBytes_FromString(equals + 1));
    if (!key || !value) return false;
    // The first of repeated names wins, as in posixmodule.c's convertenviron.
    if (PyDict_SetDefault(mapping.p, key.p, value.p) == nullptr) return false;
  }
  return true;
}

namespace {

enum class Handler : unsigned char { unknown, dfl, ign, int_handler, other };
Handler g_server_handlers[65];  // the server's Python-level handler per signal

struct SignalModule {
  Ref module{PyImport_ImportModule("_signal")};
  Ref sig_dfl{module ? PyObject_GetAttrString(module.p, "SIG_DFL") : nullptr};
  Ref sig_ign{module ? PyObject_GetAttrString(module.p, "SIG_IGN") : nullptr};
  Ref int_handler{module ? PyObject_GetAttrString(module.p, "default_int_handler") : nullptr};
  bool ok() const { return sig_dfl && sig_ign && int_handler; }
  PyObject* object(Handler handler) const {
    return handler == Handler::ign ? sig_ign.p : handler == Handler::int_handler ? int_handler.p : sig_dfl.p;
  }
};

// What python3 starts with: signals its parent ignored stay ignored;
// SIGPIPE and SIGXFSZ are ignored; SIGINT raises KeyboardInterrupt.
Handler python3_handler(int signum, std::uint64_t ignored_signals) {
  if ((ignored_signals >> (signum - 1) & 1) != 0 || signum == SIGPIPE || signum == SIGXFSZ)
    return Handler::ign;
  return signum == SIGINT ? Handler::int_handler : Handler::dfl;
}

}  // namespace

bool record_signal_handlers() {
  const SignalModule signal_module;
  if (!signal_module.ok()) return false;
  for (int signum = 1; signum <= 64; ++signum) {
    Ref current(PyObject_CallMethod(signal_module.module.p, "getsignal", "i", signum));
    if (!current) {
      PyErr_Clear();  // a number the signal module does not handle
      continue;
    }
    g_server_handlers[signum] = current.p == signal_module.sig_dfl.p       ? Handler::dfl
                                : current.p == signal_module.sig_ign.p     ? Handler::ign
                                : current.p == signal_module.int_handler.p ? Handler::int_handler
                                                                           : Handler::other;
  }
  return true;
}

bool reset_signal_handlers(std::uint64_t ignored_signals) {
  const SignalModule signal_module;
  if (!signal_module.ok()) return false;
  for (int signum = 1; signum <= 64; ++signum) {
    if (signum == SIGKILL || signum == SIGSTOP || g_server_handlers[signum] == Handler::unknown) continue;
    const Handler wanted = python3_handler(signum, ignored_signals);
    if (wanted == g_server_handlers[signum]) continue;
    Ref done(
        PyObject_CallMethod(signal_module.module.p, "signal", "iO", signum, signal_module.object(wanted)));
    if (!done && signum == SIGINT) return false;
    PyErr_Clear();  // a number the C library reserves for itself (32, 33)
  }
  return true;
}

}  // namespace iso::serve::warm
