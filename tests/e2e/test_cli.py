"""The isolate command line itself: info, --help, --version and its usage errors."""
import json
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from peer import ISOLATE, PYTHON, run  # noqa: E402


class Info(unittest.TestCase):
    def test_json_has_the_documented_keys_and_true_values(self):
        r = run([ISOLATE, "info", "--json"])
        self.assertEqual(r.returncode, 0, r.stderr)
        info = json.loads(r.stdout)
        for key in ("python_version", "python_executable", "libpython_static", "backends", "mpi", "gpu"):
            self.assertIn(key, info)
        self.assertRegex(info["gpu"], r"^(yes|no) \(.+\)$")
        self.assertEqual(info["python_executable"], PYTHON)
        ref_version = run([PYTHON, "-c", "import platform; print(platform.python_version())"]).stdout
        self.assertEqual(info["python_version"], ref_version.decode().strip())
        self.assertIs(info["libpython_static"], True)
        self.assertEqual(info["backends"][-1], "process")
        major, minor = map(int, info["python_version"].split(".")[:2])
        self.assertEqual("subinterp" in info["backends"], (major, minor) >= (3, 12))

    def test_libpython_is_not_loaded_as_a_shared_library(self):
        # Static linking is the point (docs/ARCHITECTURE.md, Build): no libpython*.so may be mapped.
        maps = run([ISOLATE, "run", "-c", "print(open('/proc/self/maps').read())"]).stdout.decode()
        self.assertNotRegex(maps, r"libpython3\.\d+t?\.so")

    def test_text_names_the_same_facts(self):
        r = run([ISOLATE, "info"])
        self.assertEqual(r.returncode, 0)
        text = r.stdout.decode()
        self.assertIn(PYTHON, text)
        self.assertRegex(text, r"libpython_static:\s+yes")


class Usage(unittest.TestCase):
    def test_help_lists_the_subcommands(self):
        r = run([ISOLATE, "--help"])
        self.assertEqual(r.returncode, 0)
        for name in (b"run", b"info"):
            self.assertIn(name, r.stdout)

    def test_version(self):
        r = run([ISOLATE, "--version"])
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout.decode(), r"^\d+\.\d+\.\d+\n$")

    def assertUsageError(self, argv, pattern):
        r = run([ISOLATE, *argv])
        self.assertEqual(r.returncode, 2, r)
        self.assertEqual(r.stdout, b"")
        err = r.stderr.decode()
        self.assertEqual(err.count("\n"), 1, f"one line expected: {err!r}")
        self.assertRegex(err, pattern)

    def test_no_command(self):
        self.assertUsageError([], r"^isolate: .*subcommand")

    def test_unknown_command(self):
        self.assertUsageError(["frobnicate"], r"^isolate: unknown command 'frobnicate'")

    def test_unknown_option(self):
        self.assertUsageError(["info", "--bogus"], r"^isolate: .*--bogus")

    def test_run_passes_help_to_python(self):
        # `isolate run --help` is python3's --help, not ours.
        ref = run([PYTHON, "--help"])
        got = run([ISOLATE, "run", "--help"])
        self.assertEqual(got.stdout, ref.stdout)
        self.assertEqual(got.returncode, ref.returncode)

    def test_invoked_through_a_python_named_link_it_is_python(self):
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            link = os.path.join(tmp, "python3")
            os.symlink(os.path.abspath(ISOLATE), link)
            r = run([link, "-c", "import sys; print(sys.executable)"])
            self.assertEqual(r.stdout.decode(), PYTHON + "\n")
            self.assertEqual(r.returncode, 0)


if __name__ == "__main__":
    unittest.main()
