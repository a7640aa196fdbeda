"""Real programs run correctly with isoalloc as their malloc (LD_PRELOAD):
python3 (and a slice of CPython's tests), g++, git, and isolate run itself."""
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from peer import ISOLATE, PYTHON, environment, free_threaded  # noqa: E402

LIBISOALLOC = os.path.abspath(os.environ.get("ISOALLOC_SO", "build/lib/libisoalloc.so"))
# PYTHONMALLOC=malloc sends every Python object through isoalloc too; a
# free-threaded CPython knows only its own mimalloc, so there only its raw
# allocations (and every C library's) do.
ALL_OBJECTS = {} if free_threaded() else {"PYTHONMALLOC": "malloc"}


def preloaded(argv, **kwargs):
    # ISO_ALLOC_CHECKS validates every free, so a corruption fails the run.
    env = environment(LD_PRELOAD=LIBISOALLOC, ISO_ALLOC_CHECKS="1", **kwargs.pop("env_extra", {}))
    return subprocess.run(argv, env=env, capture_output=True, timeout=600, **kwargs)


class Preload(unittest.TestCase):
    def test_the_library_is_really_loaded(self):
        r = preloaded(["cat", "/proc/self/maps"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"libisoalloc.so", r.stdout)

    def test_python3_computes_the_same(self):
        code = "import json, decimal; print(json.dumps([sum(range(10**6)), str(decimal.Decimal(1) / 7)]))"
        plain = subprocess.run([PYTHON, "-c", code], capture_output=True, env=environment())
        r = preloaded([PYTHON, "-c", code], env_extra=ALL_OBJECTS)
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, plain.stdout, b""))

    def test_cpython_test_slice(self):
        r = preloaded([PYTHON, "-m", "test", "test_dict", "test_list", "test_set", "test_json", "test_re"],
                      env_extra=ALL_OBJECTS)
        self.assertEqual(r.returncode, 0, r.stdout[-3000:] + r.stderr[-3000:])
        self.assertIn(b"SUCCESS", r.stdout)

    def test_gxx_compiles_and_the_program_runs(self):
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, "m.cc")
            with open(src, "w") as f:
                f.write("#include <map>\n#include <string>\n#include <iostream>\n"
                        "int main() { std::map<std::string, int> m; for (int i = 0; i < 1000; ++i)"
                        " m[std::to_string(i)] = i; std::cout << m.size() << '\\n'; }\n")
            r = preloaded(["g++", "-std=c++20", "-O2", src, "-o", os.path.join(tmp, "m")])
            self.assertEqual(r.returncode, 0, r.stderr)
            r = preloaded([os.path.join(tmp, "m")])
            self.assertEqual((r.returncode, r.stdout), (0, b"1000\n"))

    def test_git_on_a_repository(self):
        with tempfile.TemporaryDirectory() as tmp:
            git = ["git", "-C", tmp, "-c", "user.name=t", "-c", "user.email=t@t.invalid"]
            self.assertEqual(preloaded([*git, "init", "-q"]).returncode, 0)
            for i in range(20):
                with open(os.path.join(tmp, f"f{i}.txt"), "w") as f:
                    f.write(f"file {i}\n" * (i + 1))
            self.assertEqual(preloaded([*git, "add", "."]).returncode, 0)
            self.assertEqual(preloaded([*git, "commit", "-qm", "c"]).returncode, 0)
            r = preloaded([*git, "log", "--stat", "--oneline"])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(b"20 files changed", r.stdout)
            self.assertEqual(preloaded([*git, "fsck", "--strict"]).returncode, 0)

    def test_isolate_run(self):
        r = preloaded([ISOLATE, "run", "-c", "import sqlite3; c = sqlite3.connect(':memory:');"
                       " print(c.execute('select 6*7').fetchone()[0])"])
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, b"42\n", b""))


if __name__ == "__main__":
    unittest.main()
