"""`isolate run` against the reference python3: command-line forms, flags,
environment, errors, signals, broken pipes and the interactive prompt.

Every assertion compares with what the reference interpreter does in the same
situation, so the expectations are python3's, never hand-written.
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from peer import ISOLATE, PYTHON, PeerTestCase, environment, run  # noqa: E402

PROBE = r"""
import sys, warnings
print(sys.argv)
print(sys.orig_argv)
print(sys.path)
print(sys.flags)
print(sys.prefix, sys.exec_prefix, sys.base_prefix)
print(sys.executable, sys._base_executable)
print(sys.warnoptions, sorted(sys._xoptions.items()))
print(__debug__, sys.dont_write_bytecode, 'site' in sys.modules)
print(sys.stdout.line_buffering, sys.stdout.write_through, sys.stdout.encoding, sys.stdout.errors)
print(sys.stdin.encoding, sys.stderr.errors, sys.getfilesystemencoding())
warnings.warn("probe warning")
def f():
    "docstring"
print(f.__doc__)
"""

VERSION = tuple(int(x) for x in run([PYTHON, "-c", "import sys; print(*sys.version_info[:2])"])
                .stdout.split())


class Workdir(PeerTestCase):
    """Runs each test in a fresh directory holding the probe script."""

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.dir = self._tmp.name
        self.write("probe.py", PROBE)

    def tearDown(self):
        self._tmp.cleanup()

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def same(self, args, **kwargs):
        kwargs.setdefault("cwd", self.dir)
        return self.assertSameAsPython(args, **kwargs)


class Forms(Workdir):
    def test_script_with_arguments(self):
        self.same(["probe.py", "a", "-b", "--c=d", "é"])

    def test_command(self):
        self.same(["-c", "import sys; print(sys.argv, sys.path[0] == '')", "x", "y"])

    def test_module(self):
        self.same(["-m", "json.tool"], stdin=b'{"b": [1, 2.50, null], "a": "\\u00e9"}')

    def test_module_from_cwd(self):
        self.write("mymod.py", "import sys\nprint(__name__, sys.argv)\n")
        self.same(["-m", "mymod", "arg"])

    def test_package_main(self):
        os.mkdir(os.path.join(self.dir, "pkg"))
        self.write("pkg/__init__.py", "")
        self.write("pkg/__main__.py", "import sys\nprint('pkg main', __package__, sys.argv)\n")
        self.same(["-m", "pkg", "1"])
        self.same(["pkg"])  # a directory with __main__.py

    def test_zipapp(self):
        import zipfile
        with zipfile.ZipFile(os.path.join(self.dir, "app.pyz"), "w") as z:
            z.writestr("__main__.py", "import sys\nprint('zip', sys.argv, sys.path[0].endswith('app.pyz'))\n")
        self.same(["app.pyz", "q"])

    def test_script_on_stdin(self):
        self.same(["-"], stdin=b"import sys\nprint(sys.argv, sys.path[0] == '')\n")
        self.same(["-", "x"], stdin=b"import sys\nprint(sys.argv)\n")

    def test_script_on_stdin_without_dash(self):
        self.same([], stdin=b"print('from stdin')\nraise SystemExit(4)\n")

    def test_non_utf8_arguments(self):
        self.same(["-c", "import sys; print(ascii(sys.argv)); print(ascii(sys.orig_argv))",
                   b"\xff\xfe".decode("utf-8", "surrogateescape")])

    def test_help_and_version(self):
        for args in (["--help"], ["-h"], ["--version"], ["-V"], ["-VV"]):
            self.same(args)
        if VERSION >= (3, 11):
            self.same(["--help-env"])
            self.same(["--help-xoptions"])
            self.same(["--help-all"])


class Errors(Workdir):
    def test_missing_script(self):
        self.same(["does_not_exist.py"])

    def test_missing_module(self):
        self.same(["-m", "no_such_module_here"])

    def test_directory_without_main(self):
        os.mkdir(os.path.join(self.dir, "empty"))
        self.same(["empty"])

    def test_syntax_error(self):
        self.write("bad.py", "x = (1,\nprint(x\n")
        self.same(["bad.py"])
        self.same(["-c", "def f(:\n pass"])

    def test_unknown_and_incomplete_options(self):
        for args in (["-Z"], ["-c"], ["-m"], ["-W"], ["-X"], ["--bogus"]):
            self.same(args)

    def test_uncaught_exception_in_module(self):
        self.same(["-m", "json.tool", "missing.json"])

    def test_system_exit_variants(self):
        for arg in ("0", "3", "None", "'text'", "256", "-1", "(1, 2)", "True", "3.5"):
            self.same(["-c", f"raise SystemExit({arg})"])

    def test_exception_in_excepthook(self):
        self.same(["-c", "import sys\ndef hook(*a): raise ValueError('hook')\nsys.excepthook = hook\n1/0"])


class Flags(Workdir):
    def test_each_flag(self):
        flag_sets = [["-I"], ["-E"], ["-s"], ["-S"], ["-u"], ["-O"], ["-OO"], ["-B"], ["-q"],
                     ["-W", "error"], ["-W", "ignore"], ["-Wd"], ["-X", "dev"], ["-X", "utf8"],
                     ["-X", "utf8=0"], ["-X", "int_max_str_digits=1000"], ["-X", "warn_default_encoding"],
                     ["-b"], ["-bb"], ["-d"], ["-P"], ["-I", "-S", "-u"], ["-OO", "-B", "-s"]]
        for flags in flag_sets:
            with self.subTest(flags=flags):
                self.same([*flags, "probe.py", "arg"])

    def test_verbose_imports(self):
        # -v names loader objects by address, which differs between any two runs.
        def normalise(b):
            return re.sub(rb"0x[0-9a-f]+", b"0x?", b)
        for args in (["-v", "-c", "import json"], ["-vv", "-c", "pass"]):
            ref = run([PYTHON, *args], cwd=self.dir)
            got = run([ISOLATE, "run", *args], cwd=self.dir)
            self.assertEqual(normalise(got.stderr), normalise(ref.stderr))
            self.assertEqual(got.stdout, ref.stdout)
            self.assertEqual(got.returncode, ref.returncode)

    def test_inspect_after_script_with_piped_stdin(self):
        self.same(["-i", "-c", "x = 6"], stdin=b"print(x * 7)\n")
        self.same(["-i", "probe.py"], stdin=b"print(len(sys.argv))\nraise SystemExit(9)\n")

    def test_environment_variables(self):
        cases = [dict(PYTHONOPTIMIZE="2"), dict(PYTHONDONTWRITEBYTECODE="1"),
                 dict(PYTHONWARNINGS="error::DeprecationWarning"), dict(PYTHONIOENCODING="latin-1:replace"),
                 dict(PYTHONUTF8="1"), dict(PYTHONPATH=self.dir + "/nowhere"), dict(PYTHONNOUSERSITE="1"),
                 dict(PYTHONUNBUFFERED="1"), dict(PYTHONSAFEPATH="1"), dict(PYTHONVERBOSE=None),
                 dict(PYTHONINSPECT=None, LC_ALL="C"), dict(PYTHONHOME=None, PYTHONPLATLIBDIR=None)]
        for extra in cases:
            with self.subTest(env=extra):
                self.same(["probe.py"], env=environment(**extra))
                self.same(["-E", "probe.py"], env=environment(**extra))


class Signals(unittest.TestCase):
    # The signal lands in the long sleep (the test waits after 'ready'), so the
    # traceback is the same line in every run.
    LOOP = "import time\nprint('ready', flush=True)\ntime.sleep(60)\n"

    def interrupted(self, argv, sig):
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment())
        self.assertEqual(p.stdout.readline(), b"ready\n")
        time.sleep(0.3)
        p.send_signal(sig)
        out, err = p.communicate(timeout=30)
        return p.returncode, err

    def test_sigint_gives_keyboard_interrupt_and_python3s_status(self):
        ref = self.interrupted([PYTHON, "-c", self.LOOP], signal.SIGINT)
        got = self.interrupted([ISOLATE, "run", "-c", self.LOOP], signal.SIGINT)
        self.assertEqual(got, ref)
        self.assertEqual(got[0], -signal.SIGINT)  # python3 re-raises SIGINT: the shell sees 130
        self.assertIn(b"KeyboardInterrupt", got[1])

    def test_sigterm_kills_like_python3(self):
        ref = self.interrupted([PYTHON, "-c", self.LOOP], signal.SIGTERM)
        got = self.interrupted([ISOLATE, "run", "-c", self.LOOP], signal.SIGTERM)
        self.assertEqual(got, ref)

    def test_keyboard_interrupt_raised_by_code(self):
        PeerTestCase.assertSameAsPython(self, ["-c", "raise KeyboardInterrupt"])


class BrokenPipe(unittest.TestCase):
    def closed_reader(self, argv):
        read_end, write_end = os.pipe()
        os.close(read_end)
        try:
            p = subprocess.run(argv, stdout=write_end, stderr=subprocess.PIPE, env=environment(), timeout=60)
        finally:
            os.close(write_end)
        return p.returncode, p.stderr

    def test_writing_to_a_closed_pipe(self):
        for code in ("for i in range(100000): print(i)", "import sys; sys.stdout.write('x' * 100000)"):
            with self.subTest(code=code):
                ref = self.closed_reader([PYTHON, "-c", code])
                got = self.closed_reader([ISOLATE, "run", "-c", code])
                self.assertEqual(got, ref)
                self.assertIn(b"BrokenPipeError", got[1])

    def test_head_closes_early(self):
        code = "for i in range(10**6): print(i)"
        outs = []
        for argv in ([PYTHON, "-c", code], [ISOLATE, "run", "-c", code]):
            p = subprocess.run(f"{argv[0]} {' '.join(argv[1:-1])} '{code}' | head -n 3; exit ${{PIPESTATUS[0]}}",
                               shell=True, executable="/bin/bash", capture_output=True, env=environment(),
                               timeout=60)
            outs.append((p.returncode, p.stdout))
        self.assertEqual(outs[1], outs[0])


class Interactive(unittest.TestCase):
    """The prompt on a terminal: python3's REPL, driven through a pseudo-terminal."""

    def session(self, argv, lines, env):
        """Types each line at a fresh prompt; returns (exit status, everything the terminal showed)."""
        import pty
        import select
        pid, fd = pty.fork()
        if pid == 0:
            os.execve(argv[0], argv, env)
        transcript = b""
        deadline = time.monotonic() + 30

        def read_until(done):
            nonlocal transcript
            while not done() and time.monotonic() < deadline:
                if not select.select([fd], [], [], 0.1)[0]:
                    continue
                try:
                    chunk = os.read(fd, 4096)
                except OSError:  # EIO: the child closed the terminal
                    return
                if not chunk:
                    return
                transcript += chunk

        for line in lines:
            prompts = transcript.count(b">>> ")
            read_until(lambda: transcript.count(b">>> ") > prompts)
            os.write(fd, line + b"\n")
        read_until(lambda: False)  # until the child exits and the terminal closes
        _, status = os.waitpid(pid, 0)
        os.close(fd)
        return os.waitstatus_to_exitcode(status), transcript

    def compare(self, env):
        lines = [b"x = 6 * 7", b"print(x)", b"import sys; sys.exit(5)"]
        ref = self.session([PYTHON, "-q"], lines, env)
        got = self.session([ISOLATE, "run", "-q"], lines, env)
        return ref, got

    def test_basic_prompt_is_byte_identical(self):
        env = environment(PYTHON_BASIC_REPL="1", TERM="dumb")
        ref, got = self.compare(env)
        self.assertEqual(got, ref)
        self.assertEqual(got[0], 5)
        self.assertIn(b"42", got[1])

    def test_default_prompt_runs_commands(self):
        # 3.13's REPL redraws the line as it goes; the bytes depend on timing,
        # so compare what any terminal user sees: the result and the status.
        env = environment(TERM="xterm")
        ref, got = self.compare(env)
        self.assertEqual(got[0], ref[0])
        self.assertIn(b"42\r\n", got[1])
        self.assertIn(b"42\r\n", ref[1])


if __name__ == "__main__":
    unittest.main()
