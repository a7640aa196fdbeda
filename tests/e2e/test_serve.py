"""`isolate serve` / `isolate call`: python3's behaviour through a warm server
(output, status, stdin, a terminal, signals, Ctrl-C), isolation between
requests, crashes, the unhappy paths, security and 200 concurrent calls.

Every test class runs its servers in a private XDG_RUNTIME_DIR and stops
them at the end. ISO_CALL_REQUIRE_WARM=1 makes a call that would silently
fall back to a cold `isolate run` fail instead, so the warm path is what is
tested unless a test says otherwise.
"""
import json
import os
import pty
import resource
import select
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from peer import ISOLATE, PYTHON, ScratchDirTestCase, environment, free_threaded  # noqa: E402

FILES = {
    "hello.py": "import sys\nprint('hello', sys.argv[1:])\n",
    "show.py": (
        "import os, sys\n"
        "print(sys.argv, sys.path[0] == os.path.dirname(os.path.abspath(__file__)))\n"
        "print(os.getcwd(), os.environ.get('SERVE_TEST'), oct(os.umask(0)))\n"
        "print(sys.flags.optimize, sys.flags.dont_write_bytecode, sys.stdout.line_buffering)\n"
        "print(sorted(k for k in sys.modules if not k.startswith('_')))\n"
    ),
    "fail.py": "def f():\n    raise ValueError('boom')\nf()\n",
    "exit_codes.py": "import sys\nsys.exit(sys.argv[1] if not sys.argv[1].isdigit() else int(sys.argv[1]))\n",
    "echo.py": "import sys\ndata = sys.stdin.read()\nprint(len(data), data.upper(), end='')\n",
    "loop.py": (
        "import sys, time\n"
        "try:\n"
        "    print('ready', flush=True)\n"
        "    while True:\n"
        "        time.sleep(0.01)\n"
        "finally:\n"
        "    print('finally ran', flush=True)\n"
    ),
    "mutate.py": (
        "import json, os, sys\n"
        "print(hasattr(json, 'marker'), os.environ.get('MUTATED'), 'extra' in sys.modules)\n"
        "json.marker = 1\nos.environ['MUTATED'] = '1'\nsys.modules['extra'] = json\n"
    ),
    "finalize.py": (
        "import atexit\n"
        "class D:\n"
        "    def __init__(self, name): self.name = name\n"
        "    def __del__(self): print('del', self.name)\n"
        "a = D('global')\n_b = D('underscore')\n"
        "atexit.register(print, 'atexit')\n"
        "print('end')\n"
    ),
    "thread_exit.py": (
        "import threading, time\n"
        "def work():\n    time.sleep(0.05)\n    print('thread done')\n"
        "threading.Thread(target=work).start()\nprint('main done')\n"
    ),
}


# A free-threaded CPython has no warm children: there every call runs cold,
# and these tests check that the cold path keeps the same behaviour.
FREE_THREADED = free_threaded()
NEEDS_WARM = unittest.skipIf(FREE_THREADED, "what a warm child sees: a free-threaded CPython runs every call cold")


def runtime_env(runtime):
    # A server a failed test leaves behind goes by itself after two minutes.
    return environment(XDG_RUNTIME_DIR=runtime, ISO_CALL_REQUIRE_WARM="0" if FREE_THREADED else "1",
                       ISO_SERVE_IDLE_TIMEOUT="120",
                       ISO_PRELOAD=None, ISO_CALL_VERBOSE=None)


class ServeTestCase(ScratchDirTestCase):
    FILES = FILES

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.runtime = tempfile.mkdtemp(prefix="iso-serve-")
        os.chmod(cls.runtime, 0o700)
        cls.env = runtime_env(cls.runtime)

    @classmethod
    def tearDownClass(cls):
        # Every server this class started: one per preload list and environment.
        sockets = os.path.join(cls.runtime, "isolate")
        for name in sorted(os.listdir(sockets)) if os.path.isdir(sockets) else []:
            if name.endswith(".sock"):
                subprocess.run([ISOLATE, "serve", "--stop", "--socket", os.path.join(sockets, name)],
                               env=cls.env, capture_output=True, timeout=30)
        subprocess.run(["rm", "-rf", cls.runtime])
        super().tearDownClass()

    def call(self, *args, env=None, stdin=b"", timeout=60, cwd=None):
        return subprocess.run([ISOLATE, "call", *args], input=stdin, capture_output=True, env=env or self.env,
                              cwd=cwd or self.cwd, timeout=timeout)

    def python(self, *args, env=None, stdin=b"", cwd=None):
        env = dict(env or self.env)
        return subprocess.run([PYTHON, *args], input=stdin, capture_output=True, env=env, cwd=cwd or self.cwd,
                              timeout=60)

    def assertSameAsPython(self, *args, env=None, stdin=b""):
        ref = self.python(*args, env=env, stdin=stdin)
        got = self.call(*args, env=env, stdin=stdin)
        self.assertEqual(got.stderr.decode(errors="replace"), ref.stderr.decode(errors="replace"), args)
        self.assertEqual(got.stdout.decode(errors="replace"), ref.stdout.decode(errors="replace"), args)
        self.assertEqual(got.returncode, ref.returncode, args)
        return got


class Behaviour(ServeTestCase):
    """The same bytes and status as python3, warm."""

    def test_scripts_commands_modules_and_stdin(self):
        self.assertSameAsPython("hello.py", "a", "b c")
        self.assertSameAsPython("-c", "import sys; print(sys.argv, __name__)", "x")
        self.assertSameAsPython("-m", "json.tool", stdin=b'{"b": 1, "a": [1, 2]}')
        self.assertSameAsPython("-", "arg", stdin=b"import sys\nprint('from stdin', sys.argv)\n")
        self.assertSameAsPython("echo.py", stdin=b"piped text\n" * 1000)

    def test_process_state_is_the_callers(self):
        env = dict(self.env, SERVE_TEST="value")
        old = os.umask(0o027)
        try:
            self.assertSameAsPython("show.py", "arg", env=env)
        finally:
            os.umask(old)

    def test_resource_limits_are_the_callers(self):
        self.assertEqual(self.call("hello.py").returncode, 0)  # the server starts with ours
        script = ("import resource\n"
                  "for name in ('RLIMIT_NOFILE', 'RLIMIT_CORE', 'RLIMIT_FSIZE', 'RLIMIT_STACK'):\n"
                  "    print(name, resource.getrlimit(getattr(resource, name)))\n")
        saved = {r: resource.getrlimit(r) for r in (resource.RLIMIT_NOFILE, resource.RLIMIT_CORE,
                                                     resource.RLIMIT_FSIZE)}
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (300, saved[resource.RLIMIT_NOFILE][1]))
            resource.setrlimit(resource.RLIMIT_CORE, (0, saved[resource.RLIMIT_CORE][1]))
            resource.setrlimit(resource.RLIMIT_FSIZE, (10 << 20, saved[resource.RLIMIT_FSIZE][1]))
            got = self.assertSameAsPython("-c", script)
            self.assertIn(b"RLIMIT_NOFILE (300,", got.stdout)
            self.assertIn(b"RLIMIT_FSIZE (10485760,", got.stdout)
        finally:  # soft limits only: any user may raise them back
            for r, value in saved.items():
                resource.setrlimit(r, value)

    def test_per_request_flags(self):
        for flags in (["-u"], ["-B"], ["-q"], ["-P"]):
            self.assertSameAsPython(*flags, "show.py")

    def test_failures_and_exit_statuses(self):
        self.assertSameAsPython("fail.py")
        for code in ("0", "3", "255", "256", "text"):
            self.assertSameAsPython("exit_codes.py", code)
        self.assertSameAsPython("-c", "import os; os._exit(7)")
        self.assertSameAsPython("missing.py")
        self.assertSameAsPython("-c", "syntax error here")

    def test_command_line_answers(self):
        self.assertSameAsPython("--version")
        self.assertSameAsPython("-VV")
        self.assertSameAsPython("-Z")  # python3's usage error, status 2
        self.assertSameAsPython("--help")

    def test_exit_sequence(self):
        self.assertSameAsPython("finalize.py")
        self.assertSameAsPython("thread_exit.py")

    def test_closed_stdio(self):
        code = "import sys; print(sys.stdin, sys.stdout, sys.stderr, file=open('streams.txt', 'w'))"
        for redirect in ("0<&-", "1>&-", "2>&-"):
            seen = []
            for runner in ("'%s'" % PYTHON, "'%s' call" % ISOLATE):
                done = subprocess.run(["sh", "-c", '%s -c "%s" %s' % (runner, code, redirect)], env=self.env,
                                      cwd=self.cwd, capture_output=True, timeout=60)
                with open(os.path.join(self.cwd, "streams.txt")) as f:
                    seen.append((done.returncode, f.read()))
            self.assertEqual(seen[1], seen[0], redirect)
            self.assertIn("None", seen[1][1])

    def test_exit_by_signal(self):
        got = self.call("-c", "import os, signal; os.kill(os.getpid(), signal.SIGTERM)")
        self.assertEqual(got.returncode, -signal.SIGTERM)
        got = self.call("-c", "import ctypes; ctypes.string_at(0)")
        self.assertEqual(got.returncode, -signal.SIGSEGV)
        self.assertEqual(self.call("hello.py").returncode, 0, "the server serves on after a crash")

    def test_settings_fixed_at_start_up_run_cold(self):
        env = dict(self.env, ISO_CALL_REQUIRE_WARM="0")
        for flags in (["-E"], ["-I"], ["-O"], ["-S"], ["-W", "error"], ["-X", "dev"]):
            self.assertSameAsPython(*flags, "-c", "import sys; print(sys.flags)", env=env)
        strict = self.call("-O", "-c", "pass", env=dict(self.env, ISO_CALL_REQUIRE_WARM="1"))
        self.assertEqual(strict.returncode, 1)
        why = ("a free-threaded CPython (3.13" if FREE_THREADED else "the request sets optimization_level")
        self.assertIn("no warm start: " + why, strict.stderr.decode())

    def test_terminal(self):
        code = "import sys, os; print(sys.stdin.isatty(), sys.stdout.isatty(), sys.stdout.line_buffering, os.get_terminal_size().columns > 0)"
        outputs = []
        for argv in ([PYTHON, "-c", code], [ISOLATE, "call", "-c", code]):
            pid, fd = pty.fork()
            if pid == 0:
                os.chdir(self.cwd)
                os.execve(argv[0], argv, self.env)
            data = b""
            while True:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                data += chunk
            _, status = os.waitpid(pid, 0)
            os.close(fd)
            outputs.append((data, os.waitstatus_to_exitcode(status)))
        self.assertEqual(outputs[1], outputs[0])
        self.assertTrue(outputs[1][0].startswith(b"True True "), outputs[1])


class Signals(ServeTestCase):
    def tearDown(self):
        for proc in getattr(self, "procs", []):
            proc.stdout.close()
            proc.stderr.close()

    def start(self, script, env=None):
        proc = subprocess.Popen([ISOLATE, "call", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=env or self.env, cwd=self.cwd)
        self.procs = getattr(self, "procs", []) + [proc]
        self.assertEqual(proc.stdout.readline(), b"ready\n")
        return proc

    def test_ctrl_c_is_keyboard_interrupt(self):
        results = []
        for argv in ([PYTHON, "loop.py"], [ISOLATE, "call", "loop.py"]):
            proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env, cwd=self.cwd)
            self.assertEqual(proc.stdout.readline(), b"ready\n")
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=30)
            results.append((out, err.decode().splitlines()[-1], proc.returncode))
        self.assertEqual(results[1], results[0])
        self.assertEqual(results[1], (b"finally ran\n", "KeyboardInterrupt", -signal.SIGINT))

    def test_sigterm_reaches_the_child(self):
        proc = self.start("loop.py")
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, -signal.SIGTERM)

    def test_a_handler_in_the_script_sees_forwarded_signals(self):
        code = ("import signal, sys, time\n"
                "signal.signal(signal.SIGUSR1, lambda *a: (print('usr1', flush=True), sys.exit(4)))\n"
                "print('ready', flush=True)\n"
                "time.sleep(30)\n")
        with open(os.path.join(self.cwd, "usr1.py"), "w") as f:
            f.write(code)
        proc = self.start("usr1.py")
        proc.send_signal(signal.SIGUSR1)
        out, _ = proc.communicate(timeout=30)
        self.assertEqual((out, proc.returncode), (b"usr1\n", 4))

    def test_the_callers_death_kills_the_child(self):
        code = "import os, time\nprint('ready', flush=True)\nprint(os.getpid(), flush=True)\ntime.sleep(60)\n"
        with open(os.path.join(self.cwd, "sleeper.py"), "w") as f:
            f.write(code)
        proc = self.start("sleeper.py")
        child = int(proc.stdout.readline())
        proc.kill()
        proc.communicate()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(child, 0)
            except ProcessLookupError:
                break
            time.sleep(0.02)
        else:
            self.fail("the request outlived its caller")


class Isolation(ServeTestCase):
    def test_a_request_never_sees_an_earlier_one(self):
        env = dict(self.env, ISO_PRELOAD="json")
        first = self.call("mutate.py", env=env)
        second = self.call("mutate.py", env=env)
        self.assertEqual(first.stdout, b"False None False\n")
        self.assertEqual(second.stdout, first.stdout)

    def test_random_state_differs_between_requests(self):
        values = {self.call("-c", "import random; print(random.random())").stdout for _ in range(3)}
        self.assertEqual(len(values), 3)

    def test_crashes_leave_the_server_serving(self):
        for code in ("import os; os.abort()", "import os; os._exit(3)", "import ctypes; ctypes.string_at(0)"):
            self.call("-c", code)
        writer = subprocess.Popen([ISOLATE, "call", "-c", "while True: print('x' * 1000)"], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=self.env, cwd=self.cwd)
        writer.stdout.read(10)
        writer.stdout.close()  # output into a closed pipe: BrokenPipeError, as in python3
        writer.wait(timeout=30)
        writer.stderr.close()
        self.assertNotEqual(writer.returncode, 0)
        self.assertEqual(self.call("hello.py").stdout, b"hello []\n")

    @NEEDS_WARM
    def test_preload_lists_get_their_own_servers(self):
        plain = self.call("-c", "import sys; print('decimal' in sys.modules)")
        preloaded = self.call("-c", "import sys; print('decimal' in sys.modules)", env=dict(self.env, ISO_PRELOAD="decimal"))
        self.assertEqual((plain.stdout, preloaded.stdout), (b"False\n", b"True\n"))

    def test_concurrent_calls(self):
        count = 200
        procs = [subprocess.Popen([ISOLATE, "call", "hello.py", str(i)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  env=self.env, cwd=self.cwd) for i in range(count)]
        bad = []
        for i, proc in enumerate(procs):
            out, err = proc.communicate(timeout=120)
            if proc.returncode != 0 or out != ("hello ['%d']\n" % i).encode():
                bad.append((i, proc.returncode, out, err[-200:]))
        self.assertEqual(bad, [])


class Control(ServeTestCase):
    def test_status_and_stop(self):
        self.assertEqual(self.call("hello.py").returncode, 0)
        status = subprocess.run([ISOLATE, "serve", "--status", "--json"], capture_output=True, env=self.env)
        self.assertEqual(status.returncode, 0, status.stderr)
        info = json.loads(status.stdout)
        self.assertGreaterEqual(info["requests"], 1)
        self.assertEqual(info["preload"], [])
        text = subprocess.run([ISOLATE, "serve", "--status"], capture_output=True, env=self.env)
        self.assertIn(b"running (pid %d)" % info["pid"], text.stdout)
        stop = subprocess.run([ISOLATE, "serve", "--stop"], capture_output=True, env=self.env, timeout=30)
        self.assertEqual(stop.returncode, 0, stop.stderr)
        self.assertFalse(os.path.exists(info["socket"]))
        after = subprocess.run([ISOLATE, "serve", "--status"], capture_output=True, env=self.env)
        self.assertEqual(after.returncode, 3)
        self.assertIn(b"no server is running", after.stderr)

    @NEEDS_WARM
    def test_the_front_finds_the_server_the_core_started(self):
        # The front names the socket itself (src/front/socket_path.cc); only
        # when it finds no server does the core resolve the call and start one.
        subprocess.run([ISOLATE, "serve", "--stop"], capture_output=True, env=self.env, timeout=30)
        for extra in ({}, {"ISO_PRELOAD": " json,decimal, json", "TZ": "UTC", "LC_ALL": "C.UTF-8"}):
            env = dict(self.env, ISO_CALL_VERBOSE="1", **extra)
            first = self.call("hello.py", env=env)
            self.assertEqual(first.returncode, 0, first.stderr)
            self.assertIn(b"the core resolved the call", first.stderr)
            socket_path = first.stderr.decode().split("the server at ")[1].split()[0]
            again = self.call("hello.py", env=env)
            self.assertEqual((again.returncode, again.stdout, again.stderr), (0, b"hello []\n", b""))
            status = subprocess.run([ISOLATE, "serve", "--status", "--json"], capture_output=True, env=env)
            self.assertEqual(json.loads(status.stdout)["socket"], socket_path)
            subprocess.run([ISOLATE, "serve", "--stop"], capture_output=True, env=env, timeout=30)

    def test_silent_connections_hold_no_spare(self):
        # The spares accept calls themselves; a caller that connects and sends
        # nothing must not keep them from the next call, and a header that
        # comes late is still answered (by the server, which waits for it).
        self.assertEqual(self.call("hello.py").returncode, 0)
        path = json.loads(subprocess.run([ISOLATE, "serve", "--status", "--json"], capture_output=True,
                                         env=self.env, check=True).stdout)["socket"]
        silent = []
        for _ in range(4):
            s = socket.socket(socket.AF_UNIX)
            s.connect(path)
            silent.append(s)
        try:
            started = time.monotonic()
            got = self.call("hello.py", "after")
            self.assertEqual((got.returncode, got.stdout), (0, b"hello ['after']\n"), got.stderr)
            self.assertLess(time.monotonic() - started, 5)
            late = silent[0]
            time.sleep(0.3)
            late.sendall((0x4f53494b).to_bytes(4, "little") + (2).to_bytes(2, "little") +
                         (1).to_bytes(2, "little") + (0).to_bytes(4, "little"))  # a status request
            late.settimeout(10)
            reply = b""
            while chunk := late.recv(65536):
                reply += chunk
            self.assertEqual(int.from_bytes(reply[4:6], "little"), 20, reply)  # status_reply
            self.assertEqual(json.loads(reply[12:])["socket"], path)
        finally:
            for s in silent:
                s.close()
        self.assertEqual(self.call("hello.py").returncode, 0)

    def test_no_spawn(self):
        subprocess.run([ISOLATE, "serve", "--stop"], capture_output=True, env=self.env, timeout=30)
        got = self.call("--no-spawn", "hello.py")
        self.assertEqual(got.returncode, 1)
        self.assertIn("no server is running", got.stderr.decode())
        # The front says it itself: with --no-spawn there is nothing for the core to do.
        path = os.path.join(self.runtime, "none.sock")
        got = self.call("--socket", path, "--no-spawn", "hello.py", env=dict(self.env, ISO_CALL_VERBOSE="1"))
        self.assertEqual((got.returncode, got.stderr.decode()), (1, "isolate: no server is running at %s "
                         "(No such file or directory); start one with 'isolate serve'\n" % path))

    @NEEDS_WARM
    def test_explicit_socket_and_idle_timeout(self):
        path = os.path.join(self.runtime, "explicit.sock")
        server = subprocess.Popen([ISOLATE, "serve", "--socket", path, "--preload", "json", "--idle-timeout", "2"],
                                  stderr=subprocess.PIPE, env=self.env)
        line = server.stderr.readline().decode()
        self.assertIn("serving Python", line)
        self.assertIn("preload: json", line)
        got = self.call("--socket", path, "-c", "import sys; print('json' in sys.modules)")
        self.assertEqual(got.stdout, b"True\n")
        again = subprocess.run([ISOLATE, "serve", "--socket", path], capture_output=True, env=self.env, timeout=30)
        self.assertEqual(again.returncode, 1)
        self.assertIn(b"already running", again.stderr)
        self.assertEqual(server.wait(timeout=30), 0, "the idle timeout ends the server")
        server.stderr.close()
        self.assertFalse(os.path.exists(path))

    def test_stale_socket_is_replaced(self):
        subprocess.run([ISOLATE, "serve", "--stop"], capture_output=True, env=self.env, timeout=30)
        self.assertEqual(self.call("hello.py").returncode, 0)
        info = json.loads(subprocess.run([ISOLATE, "serve", "--status", "--json"], capture_output=True,
                                         env=self.env).stdout)
        os.kill(info["pid"], signal.SIGKILL)  # leaves its socket behind
        time.sleep(0.2)
        self.assertTrue(os.path.exists(info["socket"]))
        self.assertEqual(self.call("hello.py", "again").stdout, b"hello ['again']\n")
        new = json.loads(subprocess.run([ISOLATE, "serve", "--status", "--json"], capture_output=True,
                                        env=self.env).stdout)
        self.assertNotEqual(new["pid"], info["pid"])

    @NEEDS_WARM
    def test_bad_settings(self):
        got = self.call("hello.py", env=dict(self.env, ISO_PRELOAD="json, not a module"))
        self.assertEqual(got.returncode, 1)
        self.assertIn("'not a module' is not a module name", got.stderr.decode())
        got = self.call("hello.py", env=dict(self.env, ISO_PRELOAD="no_such_module_here"))
        self.assertEqual(got.returncode, 1)
        self.assertIn("cannot preload 'no_such_module_here': ModuleNotFoundError", got.stderr.decode())
        config = tempfile.mkdtemp(dir=self.runtime)
        os.makedirs(os.path.join(config, "isolate"))
        with open(os.path.join(config, "isolate", "serve.json"), "w") as f:
            f.write("{not json")
        got = self.call("hello.py", env=dict(self.env, XDG_CONFIG_HOME=config))
        self.assertEqual(got.returncode, 1)
        self.assertIn("serve.json: not valid JSON", got.stderr.decode())
        with open(os.path.join(config, "isolate", "serve.json"), "w") as f:
            json.dump({"preload": ["decimal"]}, f)
        # The core reads serve.json (the front has no JSON parser) and leaves
        # the list for the front, which reads it itself until the file changes.
        check = "import sys; print('decimal' in sys.modules, 'json' in sys.modules)"
        env = dict(self.env, XDG_CONFIG_HOME=config, ISO_CALL_VERBOSE="1")
        for through_the_core in (True, False):
            got = self.call("-c", check, env=env)
            self.assertEqual(got.stdout, b"True False\n", got.stderr)
            self.assertEqual(b"the core resolved the call" in got.stderr, through_the_core, got.stderr)
        with open(os.path.join(config, "isolate", "serve.json"), "w") as f:
            json.dump({"preload": ["json"], "comment": {"nested": [1, 2.5, None, "x"]}}, f)
        for through_the_core in (True, False):
            got = self.call("-c", check, env=env)
            self.assertEqual(got.stdout, b"False True\n", got.stderr)
            self.assertEqual(b"the core resolved the call" in got.stderr, through_the_core, got.stderr)
        got = self.call("--socket")
        self.assertEqual(got.returncode, 1)
        self.assertIn("--socket needs a path", got.stderr.decode())

    def test_a_socket_directory_others_can_enter_is_refused(self):
        runtime = tempfile.mkdtemp(dir=self.runtime)
        os.mkdir(os.path.join(runtime, "isolate"), 0o755)
        os.chmod(os.path.join(runtime, "isolate"), 0o755)
        got = self.call("hello.py", env=dict(self.env, XDG_RUNTIME_DIR=runtime))
        self.assertEqual(got.returncode, 1)
        self.assertIn("is not private (mode 0755, not 0700)", got.stderr.decode())


@unittest.skipUnless(os.geteuid() == 0 and os.path.exists("/usr/bin/setpriv"), "needs root and setpriv")
class OtherUsers(ServeTestCase):
    def test_another_uid_is_refused(self):
        shared = tempfile.mkdtemp(prefix="iso-shared-")
        os.chmod(shared, 0o755)
        path = os.path.join(shared, "serve.sock")
        server = subprocess.Popen([ISOLATE, "serve", "--socket", path], stderr=subprocess.PIPE, env=self.env)
        try:
            server.stderr.readline()
            os.chmod(path, 0o777)  # only SO_PEERCRED stands in the way now
            # The binary's directories must be reachable for the other user.
            got = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", ISOLATE, "call",
                                  "--socket", path, "-c", "print('ran')"], capture_output=True, env=self.env,
                                 cwd="/", timeout=60)
            if b"Permission denied" in got.stderr:
                self.skipTest("the isolate binary is not reachable for uid 65534")
            # The client refuses a server of another user itself ...
            self.assertEqual((got.returncode, got.stdout), (1, b""))
            self.assertIn(b"the server at %s belongs to uid 0, not to you" % path.encode(), got.stderr)
            # ... and the server refuses a client of another user (SO_PEERCRED).
            raw = ("import socket, sys\n"
                   "s = socket.socket(socket.AF_UNIX)\n"
                   "s.connect(sys.argv[1])\n"
                   "data = b''\n"
                   "while chunk := s.recv(4096):\n"
                   "    data += chunk\n"
                   "sys.stdout.buffer.write(data[12:])\n")
            system_python = next((p for p in ("/usr/bin/python3", "/usr/bin/python3.11") if os.path.exists(p)), None)
            if system_python is None:
                self.skipTest("no system python3 for the raw client")
            got = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", system_python,
                                  "-c", raw, path], capture_output=True, env=self.env, cwd="/", timeout=60)
            self.assertEqual(got.returncode, 0, got.stderr)
            self.assertEqual(got.stdout, b"isolate: refused: the server at %s serves only uid 0, not uid 65534"
                             % path.encode())
            self.assertEqual(self.call("--socket", path, "-c", "print('ran')").stdout, b"ran\n")
        finally:
            server.terminate()
            server.wait(timeout=30)
            server.stderr.close()
            subprocess.run(["rm", "-rf", shared])


if __name__ == "__main__":
    unittest.main()
