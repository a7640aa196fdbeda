"""Shared helpers for the e2e tests: run isolate and the reference python3 the same way."""
import json
import os
import subprocess
import tempfile
import unittest

ISOLATE = os.path.abspath(os.environ.get("ISOLATE_BIN", "build/bin/isolate"))
# The executable that embeds CPython, which the `isolate` front execs (src/front/).
ISOLATE_CORE = os.path.abspath(os.environ.get("ISOLATE_CORE", "build/libexec/isolate/isolate-core"))
PYTHON = os.environ.get("ISOLATE_REF_PYTHON", "")


def environment(**extra):
    env = dict(os.environ, PYTHONHASHSEED="0")
    for key, value in extra.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run(argv, *, stdin=b"", env=None, cwd=None, timeout=60, stdout=subprocess.PIPE):
    return subprocess.run(argv, input=stdin, stdout=stdout, stderr=subprocess.PIPE,
                          env=env or environment(), cwd=cwd, timeout=timeout)


class PeerTestCase(unittest.TestCase):
    """Asserts that `isolate run ARGS` and `python3 ARGS` give the same bytes and status."""

    maxDiff = None

    def assertSameAsPython(self, args, **kwargs):
        ref = run([PYTHON, *args], **kwargs)
        got = run([ISOLATE, "run", *args], **kwargs)
        self.assertEqual(got.stderr.decode(errors="backslashreplace"),
                         ref.stderr.decode(errors="backslashreplace"), f"stderr of {args}")
        self.assertEqual(got.stdout.decode(errors="backslashreplace"),
                         ref.stdout.decode(errors="backslashreplace"), f"stdout of {args}")
        self.assertEqual(got.returncode, ref.returncode, f"exit status of {args}")
        return got


def build_info():
    """`isolate info --json` of this build."""
    out = subprocess.run([ISOLATE, "info", "--json"], capture_output=True, check=True)
    return json.loads(out.stdout)


def build_backends():
    """The pool backends `isolate info` reports for this build."""
    return build_info()["backends"]


def free_threaded():
    """Whether this build embeds a free-threaded CPython (python3.13t)."""
    return build_info()["gil_disabled"]


class ScratchDirTestCase(unittest.TestCase):
    """A temporary directory per class (self.cwd) holding FILES, {name: text}."""

    maxDiff = None
    FILES = {}

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        cls.cwd = cls.dir.name
        for name, text in cls.FILES.items():
            with open(os.path.join(cls.cwd, name), "w") as f:
                f.write(text)

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()
