"""`isolate run` with CPython's memory domains served by isoalloc or malloc
(ISO_PYMALLOC / -X iso_pymalloc): the same behaviour as python3, the choice
really taking effect, and clear errors for bad choices."""
import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from peer import ISOLATE, PYTHON, environment, free_threaded, run  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CHOICES = ("isoalloc", "malloc")


def isolate(args, **env):
    return run([ISOLATE, "run", *args], env=environment(**env), timeout=300)


def mapped_peak(stderr):
    m = re.search(rb"mapped_peak_bytes=(\d+)", stderr)
    return int(m.group(1)) if m else None


FREE_THREADED = free_threaded()
NOT_ON_FREE_THREADED = unittest.skipIf(FREE_THREADED, "a free-threaded CPython refuses other allocators "
                                                      "(FreeThreaded below)")


class FreeThreaded(unittest.TestCase):
    @unittest.skipUnless(FREE_THREADED, "this build embeds a CPython with a GIL")
    def test_other_allocators_are_refused_in_one_line(self):
        for choice in CHOICES:
            for args, env, source in ((["-c", "print('ran')"], {"ISO_PYMALLOC": choice}, "ISO_PYMALLOC"),
                                      (["-X", f"iso_pymalloc={choice}", "-c", "print('ran')"], {},
                                       "-X iso_pymalloc")):
                r = isolate(args, **env)
                self.assertEqual((r.returncode, r.stdout), (2, b""), r.stderr)
                self.assertEqual(r.stderr.decode(), f"isolate: {source}={choice}: a free-threaded CPython needs its "
                                 "own allocator (mimalloc); use pymalloc, which means the build's own\n")
        r = isolate(["-c", "print('ran')"], ISO_PYMALLOC="pymalloc")
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, b"ran\n", b""))


@NOT_ON_FREE_THREADED
class Choice(unittest.TestCase):
    def test_isoalloc_serves_the_interpreter(self):
        code = "x = [str(i) * 4 for i in range(200000)]; print(len(x))"
        # The iso_* API reports what it mapped at exit: nothing under pymalloc.
        default = isolate(["-c", code], ISO_ALLOC_STATS="1")
        chosen = isolate(["-c", code], ISO_ALLOC_STATS="1", ISO_PYMALLOC="isoalloc")
        for r in (default, chosen):
            self.assertEqual((r.returncode, r.stdout), (0, b"200000\n"), r.stderr)
        self.assertEqual(mapped_peak(default.stderr), 0)
        self.assertGreater(mapped_peak(chosen.stderr), 16 << 20, chosen.stderr)

    def test_x_option_wins_over_the_environment(self):
        code = "import sys; print(sys._xoptions)"
        r = isolate(["-X", "iso_pymalloc=isoalloc", "-c", code], ISO_ALLOC_STATS="1", ISO_PYMALLOC="pymalloc")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, b"{'iso_pymalloc': 'isoalloc'}\n")
        self.assertGreater(mapped_peak(r.stderr), 0)
        r = isolate(["-X", "iso_pymalloc=pymalloc", "-c", "pass"], ISO_ALLOC_STATS="1", ISO_PYMALLOC="isoalloc")
        self.assertEqual(mapped_peak(r.stderr), 0, r.stderr)

    def test_words_after_the_script_are_not_options(self):
        r = isolate(["-c", "import sys; print(sys.argv[1:])", "-X", "iso_pymalloc=bogus"])
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, b"['-X', 'iso_pymalloc=bogus']\n", b""))

    def test_unknown_allocator_is_one_line_and_status_2(self):
        r = isolate(["-c", "print('ran')"], ISO_PYMALLOC="tcmalloc")
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stdout, b"")
        self.assertEqual(r.stderr, b"isolate: ISO_PYMALLOC=tcmalloc: expected isoalloc, pymalloc or malloc\n")
        r = isolate(["-X", "iso_pymalloc=", "-c", "print('ran')"], ISO_PYMALLOC="isoalloc")
        self.assertEqual(r.returncode, 0, r.stderr)  # an empty -X value means "not set"

    def test_conflict_with_pythonmalloc(self):
        r = isolate(["-c", "print('ran')"], ISO_PYMALLOC="isoalloc", PYTHONMALLOC="malloc")
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr, b"isolate: ISO_PYMALLOC=isoalloc conflicts with PYTHONMALLOC=malloc; "
                                   b"set only one of them\n")
        # -E makes python3 ignore PYTHONMALLOC, so there is nothing to conflict with.
        r = isolate(["-E", "-c", "print('ran')"], ISO_PYMALLOC="isoalloc", PYTHONMALLOC="malloc")
        self.assertEqual((r.returncode, r.stdout), (0, b"ran\n"), r.stderr)
        # pymalloc is "leave python3's choice alone".
        r = isolate(["-c", "print('ran')"], ISO_PYMALLOC="pymalloc", PYTHONMALLOC="malloc")
        self.assertEqual((r.returncode, r.stdout), (0, b"ran\n"), r.stderr)

    def test_a_bad_command_line_is_reported_once(self):
        ref = run([PYTHON, "-Z"])
        for choice in CHOICES:
            r = isolate(["-Z"], ISO_PYMALLOC=choice)
            self.assertEqual((r.returncode, r.stdout, r.stderr), (ref.returncode, ref.stdout, ref.stderr))

    def test_dev_mode_keeps_the_debug_hooks(self):
        # The hooks pad every block and check the pad on free: a one-byte
        # overflow is a fatal error under -X dev whatever serves the memory.
        code = "import _testcapi; _testcapi.pymem_buffer_overflow()"
        ref = run([PYTHON, "-X", "dev", "-c", code])
        self.assertNotEqual(ref.returncode, 0)
        self.assertIn(b"bad trailing pad byte", ref.stderr)
        for choice in CHOICES:
            r = isolate(["-X", "dev", "-c", code], ISO_PYMALLOC=choice)
            self.assertEqual(r.returncode, ref.returncode, (choice, r.stderr[-2000:]))
            self.assertIn(b"bad trailing pad byte", r.stderr, choice)

    def test_threads_and_subinterpreters_share_it(self):
        code = """
import threading, json
try:
    import _interpreters as I
except ImportError:
    I = None
def work(n):
    return len(json.dumps({str(i): [i] * 3 for i in range(n)}))
results = []
ts = [threading.Thread(target=lambda: results.append(work(50000))) for _ in range(4)]
for t in ts: t.start()
for t in ts: t.join()
if I is not None:
    ids = [I.create() for _ in range(2)]
    src = "import json; json.dumps([str(j) for j in range(100000)])"
    ts = [threading.Thread(target=I.run_string, args=(i, src)) for i in ids]
    for t in ts: t.start()
    for t in ts: t.join()
    for i in ids: I.destroy(i)
print(sorted(results))
"""
        ref = run([PYTHON, "-c", code], timeout=300)
        self.assertEqual(ref.returncode, 0, ref.stderr)
        for choice in CHOICES:
            r = isolate(["-c", code], ISO_PYMALLOC=choice, ISO_ALLOC_CHECKS="1")
            self.assertEqual((r.returncode, r.stdout, r.stderr), (0, ref.stdout, b""), choice)


@NOT_ON_FREE_THREADED
class SameAsPython(unittest.TestCase):
    """The bit-exactness programs and a slice of CPython's tests, with each
    allocator checked on every call (ISO_ALLOC_CHECKS=1)."""

    def runner(self, choice):
        return f"/usr/bin/env ISO_PYMALLOC={choice} ISO_ALLOC_CHECKS=1 {ISOLATE} run"

    def test_bitexact_programs(self):
        for choice in CHOICES:
            r = subprocess.run([sys.executable, os.path.join(HERE, "bitexact", "run_case.py"),
                                "--runner", self.runner(choice), "--python", PYTHON, "--all"],
                               capture_output=True, timeout=600)
            self.assertEqual(r.returncode, 0, (choice, r.stdout[-4000:], r.stderr[-2000:]))
            self.assertRegex(r.stdout, rb"\n[1-9]\d* passed, 0 failed\n")

    def test_cpython_slice(self):
        # test_str is test_unicode before 3.12: whichever the reference's test package has.
        wanted = ["test_dict", "test_list", "test_set", "test_json", "test_re", "test_str", "test_unicode",
                  "test_bytes", "test_weakref", "test_gc", "test_pickle", "test_tracemalloc"]
        present = run([PYTHON, "-c", "import importlib.util, sys\n"
                       "print(*[m for m in sys.argv[1:] if importlib.util.find_spec('test.' + m)])", *wanted])
        modules = present.stdout.decode().split()
        self.assertEqual(len(modules), 11, (present.stdout, present.stderr))
        for module in modules:
            r = subprocess.run([sys.executable, os.path.join(HERE, "cpython", "regrtest_peer.py"),
                                "--runner", self.runner("isoalloc"), "--python", PYTHON, "--module", module],
                               capture_output=True, timeout=900)
            self.assertEqual(r.returncode, 0, (module, r.stdout[-4000:], r.stderr[-2000:]))


if __name__ == "__main__":
    unittest.main()
