"""`isolate map` across MPI ranks (mpirun on localhost) and `--resume`: the
output of 1, 2 and 3 ranks is byte for byte that of one machine, for every
backend and both formats, with the same errors and exit status; a failed
start on any rank is reported once and stops the job; runs killed at random
moments (rank 0, another rank, mpirun itself) and resumed give exactly the
output of an uninterrupted run."""
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from peer import ISOLATE, ScratchDirTestCase, build_backends, environment  # noqa: E402

MPIRUN = [shutil.which("mpirun") or "mpirun", "--allow-run-as-root", "--oversubscribe"]

FUNCTIONS = '''
import os, time

def square(x):
    return x * x

def boom(x):
    if x % 7 == 3:
        raise ValueError(f"bad {x}")
    return {"x": x, "half": x / 2}

def slow_boom(x):
    time.sleep(0.01)
    return boom(x)

def rank(x):
    return int(os.environ.get("OMPI_COMM_WORLD_RANK", "-1"))
'''

PICKY = '''
import os
if os.environ.get("OMPI_COMM_WORLD_RANK") == "1":
    raise ImportError("not on rank 1")
def f(x):
    return x
'''


def backends():
    found = build_backends()
    return found if "threads" in found else found + ["threads"]


class MpiTestCase(ScratchDirTestCase):
    FILES = {"fns.py": FUNCTIONS, "picky.py": PICKY}

    def setUp(self):
        super().setUp()
        with open(os.path.join(self.cwd, "in.jsonl"), "w") as f:
            f.write("".join(f"{i}\n" for i in range(600)))

    def map(self, *args, ranks=None, timeout=120, stdin=b""):
        argv = [ISOLATE, "map", *args]
        if ranks is not None:
            argv = [*MPIRUN, "-np", str(ranks), *argv]
        return subprocess.run(argv, input=stdin, capture_output=True, cwd=self.cwd, env=environment(),
                              timeout=timeout)

    def read(self, name):
        with open(os.path.join(self.cwd, name), "rb") as f:
            return f.read()


class SameAsOneMachine(MpiTestCase):
    def test_every_rank_count_backend_and_format_gives_the_same_bytes_errors_and_status(self):
        for backend in backends():
            for fmt in ("values", "records"):
                common = ["fns.py:boom", "-i", "in.jsonl", "--format", fmt, "--backend", backend, "-q"]
                ref = self.map(*common, "-o", "ref.out", "--errors", "ref.err")
                self.assertEqual(ref.returncode, 1, ref.stderr.decode())
                for n in (1, 2, 3):
                    r = self.map(*common, "-o", f"{n}.out", "--errors", f"{n}.err", ranks=n)
                    what = f"{backend} {fmt} -np {n}"
                    self.assertEqual(r.returncode, 1, f"{what}: {r.stderr.decode()}")
                    self.assertEqual(self.read(f"{n}.out"), self.read("ref.out"), what)
                    self.assertEqual(self.read(f"{n}.err"), self.read("ref.err"), what)

    def test_stdout_and_stdin_pass_through_rank_0_and_every_rank_works(self):
        r = self.map("fns.py:square", "-q", ranks=2, stdin=b"1\n2\n3\n")
        self.assertEqual((r.returncode, r.stdout), (0, b"1\n4\n9\n"), r.stderr.decode())
        # Slow items spread over both ranks: each one ran some.
        with open(os.path.join(self.cwd, "many.jsonl"), "w") as f:
            f.write("1\n" * 400)
        r = self.map("fns.py:rank", "-i", "many.jsonl", "-j", "1", "--chunk", "4", ranks=2)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertEqual(sorted(set(r.stdout.split())), [b"0", b"1"])
        self.assertIn("2 ranks, 2 workers", r.stderr.decode())

    def test_a_start_that_fails_anywhere_is_one_clear_error(self):
        r = self.map("nosuch.py:f", "-i", "in.jsonl", ranks=2)
        self.assertEqual(r.returncode, 2)
        self.assertIn("isolate: map: target 'nosuch.py:f': no such file", r.stderr.decode())
        r = self.map("picky.py:f", "-i", "in.jsonl", ranks=3, timeout=60)
        self.assertEqual(r.returncode, 2)
        self.assertIn("isolate: map: rank 1: cannot load picky.py:f: ImportError: not on rank 1", r.stderr.decode())
        r = self.map("fns.py:square", "-i", "missing.jsonl", ranks=2, timeout=60)
        self.assertEqual(r.returncode, 2)
        self.assertIn("isolate: map: cannot open input missing.jsonl", r.stderr.decode())
        self.assertEqual(r.stderr.decode().count("isolate: map:"), 1, r.stderr.decode())

    def test_info_names_the_mpi_it_loads(self):
        r = subprocess.run([ISOLATE, "info"], capture_output=True, env=environment())
        self.assertRegex(r.stdout.decode(), r"mpi: +yes \(Open MPI v\d")


JOB = '''
import os, sys, time, isolate

def where(x):
    time.sleep(0.002)
    return (x * x, int(os.environ.get("OMPI_COMM_WORLD_RANK", "-1")))

def picky(x):
    if x == 150:
        raise KeyError(f"k{x}")
    return x

if __name__ == "__main__":
    out = isolate.map(where, range(600))
    assert [v for v, _ in out] == [x * x for x in range(600)], out
    print("map", sorted({r for _, r in out}))
    with isolate.PoolExecutor(backend="mpi") as ex:
        got = list(ex.map(where, range(300)))
        assert [v for v, _ in got] == [x * x for x in range(300)]
        print("executor", ex.backend, sorted({r for _, r in got}))
        print("future", ex.submit(where, 7).result()[0])
    try:
        isolate.map(picky, range(400), chunksize=10)
    except KeyError as e:
        print("raised", e)
    out = isolate.map(where, range(600), backend="mpi")
    print("again", sorted({r for _, r in out}))
    sys.exit(int(sys.argv[1]))
'''


class PythonApi(MpiTestCase):
    """`mpirun -np N isolate run script.py`: rank 0 runs the script, and its
    maps and executors spread over every rank's pool."""
    FILES = {**MpiTestCase.FILES, "job.py": JOB}

    def run_job(self, ranks, *args, env=()):
        argv = [*MPIRUN, "-np", str(ranks), *[w for k in env for w in ("-x", k)], ISOLATE, "run", *args]
        return subprocess.run(argv, capture_output=True, cwd=self.cwd, env=environment(), timeout=120)

    def test_map_and_executor_spread_over_every_rank_on_every_backend(self):
        for backend in [b for b in backends() if b != "threads"] + ["threads"]:
            for n in (2, 3):
                r = self.run_job(n, "job.py", "0", env=[f"ISO_BACKEND={backend}"])
                what = f"{backend} -np {n}"
                self.assertEqual(r.returncode, 0, f"{what}: {r.stderr.decode()[-3000:]}")
                lines = r.stdout.decode().splitlines()
                ranks = str(list(range(n)))
                self.assertEqual(lines[1:], [f"executor mpi {ranks}", "future 49", "raised 'k150'", f"again {ranks}"],
                                 what)
                self.assertTrue(lines[0].startswith("map ["), what)

    def test_the_scripts_exit_status_and_scripts_that_never_map(self):
        r = self.run_job(2, "job.py", "3")
        self.assertEqual(r.returncode, 3, r.stderr.decode()[-3000:])
        with open(os.path.join(self.cwd, "plain.py"), "w") as f:
            f.write("import isolate\nprint('no map')\n")
        r = self.run_job(3, "plain.py")
        self.assertEqual((r.returncode, r.stdout), (0, b"no map\n"), r.stderr.decode())
        r = self.run_job(2, "-c", "print('no isolate at all')")
        self.assertEqual((r.returncode, r.stdout), (0, b"no isolate at all\n"), r.stderr.decode())

    def test_backend_mpi_outside_a_job_is_a_clear_error(self):
        r = subprocess.run([ISOLATE, "run", "-c", "import isolate, math\ntry:\n    isolate.map(math.sqrt, [1], "
                            "backend='mpi')\nexcept RuntimeError as e:\n    print(e)"],
                           capture_output=True, cwd=self.cwd, env=environment(), timeout=60)
        self.assertEqual(r.stdout.decode().strip(),
                         "isolate: backend 'mpi' runs under an MPI launcher: mpirun -np N isolate run script.py")


class Resume(MpiTestCase):
    """Kills at random moments, then --resume until done: the output is the
    uninterrupted run's. The seed is printed, to replay a failure."""

    def processes(self, out):
        """{rank: pid} of the rank processes writing `out` (not their forked workers)."""
        found = {}
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
                if b"map" not in argv or out.encode() not in argv:
                    continue
                with open(f"/proc/{pid}/environ", "rb") as f:
                    env = dict(v.split(b"=", 1) for v in f.read().split(b"\0") if b"=" in v)
                with open(f"/proc/{pid}/stat") as f:
                    parent = f.read().rsplit(")", 1)[1].split()[1]
                with open(f"/proc/{parent}/cmdline", "rb") as f:
                    parent_argv = f.read().split(b"\0")
                if parent_argv[0].endswith((b"isolate", b"isolate-core")) and out.encode() in parent_argv:
                    continue  # a process-backend worker of a rank
                found[int(env.get(b"OMPI_COMM_WORLD_RANK", b"0"))] = int(pid)
            except (OSError, ValueError):
                continue
        return found

    def killed_then_resumed(self, victim, ranks, seed):
        rng = random.Random(seed)
        common = ["fns.py:slow_boom", "-i", "in.jsonl", "--format", "records", "--errors", "k.err", "-q",
                  "-o", "k.out", *(["-j", "1"] if ranks else [])]  # 2-3 s of work: a kill lands before its end
        ref = self.map("fns.py:slow_boom", "-i", "in.jsonl", "--format", "records", "--errors", "ref.err", "-q",
                       "-o", "ref.out")
        for path in ("k.out", "k.err"):
            if os.path.exists(os.path.join(self.cwd, path)):
                os.unlink(os.path.join(self.cwd, path))
        for attempt in range(2):
            argv = [ISOLATE, "map", *common, *(["--resume"] if attempt else [])]
            if ranks:
                argv = [*MPIRUN, "-np", str(ranks), *argv]
            p = subprocess.Popen(argv, cwd=self.cwd, env=environment(), stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, start_new_session=True)
            time.sleep(rng.uniform(0.2, 0.9))
            if victim == "mpirun":
                p.kill()
            else:
                pid = self.processes("k.out").get(victim)
                if pid:
                    os.kill(pid, signal.SIGKILL)
            try:
                p.wait(timeout=60)
            finally:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            if attempt == 0:
                path = os.path.join(self.cwd, "k.out")
                lines = 0
                if os.path.exists(path):
                    with open(path, "rb") as f:
                        lines = f.read().count(b"\n")
                self.assertLess(lines, 600, "killed after the end: make the work longer")
        deadline = time.monotonic() + 30
        while self.processes("k.out") and time.monotonic() < deadline:
            time.sleep(0.1)  # a killed mpirun's ranks notice and end
        r = self.map(*common, "--resume", ranks=ranks)
        what = f"{victim} of {ranks or 'one machine'}, seed {seed}"
        self.assertEqual(r.returncode, ref.returncode, f"{what}: {r.stderr.decode()}")
        self.assertEqual(self.read("k.out"), self.read("ref.out"), what)
        self.assertEqual(self.read("k.err"), self.read("ref.err"), what)

    def test_one_machine(self):
        self.killed_then_resumed(0, None, random.randrange(1 << 30))

    def test_rank_0_killed(self):
        self.killed_then_resumed(0, 2, random.randrange(1 << 30))

    def test_another_rank_killed(self):
        self.killed_then_resumed(1, 3, random.randrange(1 << 30))

    def test_mpirun_killed(self):
        self.killed_then_resumed("mpirun", 2, random.randrange(1 << 30))

    def test_resume_refuses_what_it_cannot_continue(self):
        r = self.map("fns.py:square", "-i", "in.jsonl", "--resume")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--resume needs --output FILE", r.stderr.decode())
        with open(os.path.join(self.cwd, "other.out"), "w") as f:
            f.write('{"i": 5, "ok": 1}\n')
        r = self.map("fns.py:square", "-i", "in.jsonl", "--resume", "-o", "other.out", "--format", "records")
        self.assertEqual(r.returncode, 2)
        self.assertIn("line 1 of the output is not this command's record 0", r.stderr.decode())
        with open(os.path.join(self.cwd, "long.out"), "w") as f:
            f.write("1\n" * 700)
        r = self.map("fns.py:square", "-i", "in.jsonl", "--resume", "-o", "long.out")
        self.assertEqual(r.returncode, 2)
        self.assertIn("long.out has 700 lines but the input only 600", r.stderr.decode())

    def test_a_cut_last_line_is_run_again(self):
        ref = self.map("fns.py:square", "-i", "in.jsonl", "-o", "ref.out", "-q")
        self.assertEqual(ref.returncode, 0)
        whole = self.read("ref.out")
        with open(os.path.join(self.cwd, "cut.out"), "wb") as f:
            f.write(whole[:whole.index(b"\n", 500) + 3])  # two bytes into a line
        r = self.map("fns.py:square", "-i", "in.jsonl", "-o", "cut.out", "--resume")
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertEqual(self.read("cut.out"), whole)
        self.assertRegex(r.stderr.decode(), r"items after \d+ resumed")


if __name__ == "__main__":
    unittest.main()
