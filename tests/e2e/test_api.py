"""The Python API, `import isolate`: isolate.map and isolate.PoolExecutor,
inside `isolate run` and, through the extension module, in the python3 of
the same build. Each test runs a script both ways; the results must equal a
sequential run in plain Python."""
import os
import signal
import subprocess
import sys
import textwrap
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from peer import free_threaded, ISOLATE, PYTHON, ScratchDirTestCase, build_backends, environment  # noqa: E402

# The extension module's folder (build/python); absent in sanitizer builds,
# whose instrumented module cannot load into an uninstrumented python3.
EXTENSION_DIR = os.environ.get("ISOLATE_PYEXT_DIR", "")

WORK = '''
import json, os, time

class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y
    def __eq__(self, other):
        return (self.x, self.y) == (other.x, other.y)
    def __repr__(self):
        return f"Point({self.x}, {self.y})"

def describe(x, scale=1):
    return {"x": x, "kind": type(x).__name__, "text": repr(x)[:20], "scaled": x * scale if isinstance(x, int) else None}

def shift(p, by=1):
    return Point(p.x + by, p.y - by)

def boom(x):
    if x % 4 == 3:
        raise ValueError(f"bad {x}")
    return x

class Unpicklable(Exception):
    def __init__(self, a, b):  # pickle re-creates it with one argument: TypeError
        super().__init__(a)
        self.b = b

def weird(x):
    if x == 1:
        raise Unpicklable("one", "two")
    if x == 2:
        return lambda: None
    return x

def die(x):
    if x == 5:
        os._exit(3)
    return x

def slow(x):
    time.sleep(0.05)
    return x

def pid(x):
    return os.getpid()

def add(a, b, c=0):
    return a + b + c

def nap(x):
    time.sleep(0.005)
    return os.getpid()

def logged(x, log):
    with open(log, "a") as f:  # one line per call, whichever isolate runs it
        f.write(f"{x}\\n")
    return repr(x)
'''


def vias():
    """(name, argv prefix, extra environment) for each way to run a script."""
    out = [("isolate run", [ISOLATE, "run"], {})]
    if EXTENSION_DIR:
        out.append(("python3 + extension", [PYTHON], {"PYTHONPATH": EXTENSION_DIR}))
    return out


# threads works on every build (one item at a time under a GIL).
BACKENDS = [b for b in ("subinterp", "process", "threads") if b in build_backends() or b == "threads"]


class ApiTestCase(ScratchDirTestCase):
    FILES = {"work.py": WORK}

    def script(self, name, body):
        path = os.path.join(self.cwd, name)
        with open(path, "w") as f:
            f.write(textwrap.dedent(body))
        return path

    def run_each_way(self, path, *args, timeout=120, **env):
        """Yields (via, CompletedProcess) for every way of running path."""
        for via, argv, extra in vias():
            r = subprocess.run([*argv, path, *args], capture_output=True, cwd=self.cwd, timeout=timeout,
                               env=environment(**extra, **env))
            yield via, r


class Results(ApiTestCase):
    def test_map_equals_a_sequential_loop_on_every_backend(self):
        path = self.script("same.py", '''
            import json, sys, isolate, work
            values = [0, 1, -7, 10**20, 3.5, "text", "ünï", None, True, [1, [2]], {"a": 1}, b"raw"] * 20
            expected = [work.describe(v) for v in values]
            for backend in sys.argv[1:]:
                for workers in (1, 3):
                    for chunksize in ("auto", 1, 7):
                        got = isolate.map(work.describe, values, workers=workers, backend=backend,
                                          chunksize=chunksize)
                        assert got == expected, (backend, workers, chunksize)
                print(backend, "ok")
        ''')
        for via, r in self.run_each_way(path, *BACKENDS):
            self.assertEqual(r.returncode, 0, f"{via}: {r.stderr.decode()}")
            self.assertEqual(r.stdout.decode().split(), [w for b in BACKENDS for w in (b, "ok")], via)

    def test_functions_and_classes_of_the_main_script_cross_both_ways(self):
        path = self.script("main_classes.py", '''
            import sys, isolate

            class Box:
                def __init__(self, v):
                    self.v = v

            def grow(box, by):
                return Box(box.v * by)

            if __name__ == "__main__":
                for backend in sys.argv[1:]:
                    with isolate.PoolExecutor(2, backend=backend) as ex:
                        got = [b.v for b in ex.map(grow, [Box(i) for i in range(50)], [3] * 50, chunksize=4)]
                        one = ex.submit(grow, Box(2), by=5).result()
                    print(backend, got == [3 * i for i in range(50)], type(one).__module__, one.v)
        ''')
        for via, r in self.run_each_way(path, *BACKENDS):
            self.assertEqual(r.returncode, 0, f"{via}: {r.stderr.decode()}")
            self.assertEqual(r.stdout.decode().splitlines(), [f"{b} True __main__ 10" for b in BACKENDS], via)

    def test_workers_are_isolated_and_warm(self):
        # subinterp and threads share the process; process workers are other
        # processes, the same ones for the whole pool.
        path = self.script("pids.py", '''
            import os, isolate, work
            for backend in ("subinterp", "process"):
                if backend not in isolate.backends():
                    continue
                pids = set(isolate.map(work.pid, range(200), workers=2, backend=backend, chunksize=1))
                print(backend, "self" if pids == {os.getpid()} else len(pids - {os.getpid()}))
        ''')
        for via, r in self.run_each_way(path):
            self.assertEqual(r.returncode, 0, f"{via}: {r.stderr.decode()}")
            lines = r.stdout.decode().splitlines()
            if "subinterp" in build_backends():
                self.assertIn("subinterp self", lines, via)
            self.assertIn("process 2", lines, via)

    def test_a_script_run_with_dash_c_uses_processes(self):
        # A sub-interpreter could not import functions of a __main__ without
        # a file; threads need no import, and "auto" takes them without a GIL.
        expected = b"threads" if free_threaded() else b"process"
        code = ("import isolate\ndef f(x): return x * 2\n"
                "with isolate.PoolExecutor(1) as ex: print(isolate.map(f, range(5)), ex.backend, ex.submit(f, 4).result())")
        for via, argv, extra in vias():
            r = subprocess.run([*argv, "-c", code], capture_output=True, cwd=self.cwd, timeout=60,
                               env=environment(**extra))
            self.assertEqual(r.returncode, 0, f"{via}: {r.stderr.decode()}")
            self.assertEqual(r.stdout, b"[0, 2, 4, 6, 8] " + expected + b" 8\n", via)

    def test_futures_work_with_wait_and_as_completed(self):
        path = self.script("futures.py", '''
            import concurrent.futures as cf, sys, isolate, work
            with isolate.PoolExecutor(max_workers=2, backend=sys.argv[1]) as ex:
                fs = {ex.submit(work.describe, i, scale=2): i for i in range(40)}
                done, pending = cf.wait(fs, timeout=60)
                assert not pending and len(done) == 40
                seen = sorted(f.result()["scaled"] for f in cf.as_completed(fs, timeout=60))
                assert seen == [2 * i for i in range(40)], seen
                bad = ex.submit(work.boom, 3)
                assert isinstance(bad.exception(timeout=60), ValueError)
                first = cf.wait([bad, ex.submit(work.slow, 1)], return_when=cf.FIRST_EXCEPTION, timeout=60)
                assert bad in first.done
            try:
                ex.submit(work.describe, 1)
            except RuntimeError as e:
                print("after shutdown:", e)
            print("ok")
        ''')
        for backend in BACKENDS:
            for via, r in self.run_each_way(path, backend):
                self.assertEqual(r.returncode, 0, f"{via} {backend}: {r.stderr.decode()}")
                self.assertEqual(r.stdout, b"after shutdown: cannot schedule new futures after shutdown\nok\n",
                                 f"{via} {backend}")


class Failures(ApiTestCase):
    def test_the_first_failing_item_raises_with_the_worker_traceback(self):
        path = self.script("raises.py", '''
            import sys, traceback, isolate, work
            try:
                isolate.map(work.boom, range(20), backend=sys.argv[1])
            except ValueError as e:
                print(repr(e))
                # The worker's frames: in the __cause__ where the exception
                # crossed as a pickle, in its own traceback on threads.
                shown = "".join(traceback.format_exception(e))
                print("in work.py" if 'work.py", line' in shown else shown)
            with isolate.PoolExecutor(2, backend=sys.argv[1]) as ex:
                fs = [ex.submit(work.boom, i) for i in range(8)]
                print([f.result() if f.exception() is None else type(f.exception()).__name__ for f in fs])
        ''')
        for backend in BACKENDS:
            for via, r in self.run_each_way(path, backend):
                self.assertEqual(r.returncode, 0, f"{via} {backend}: {r.stderr.decode()}")
                self.assertEqual(r.stdout.decode().splitlines(),
                                 ["ValueError('bad 3')", "in work.py", "[0, 1, 2, 'ValueError', 4, 5, 6, 'ValueError']"],
                                 f"{via} {backend}")

    def test_a_failure_stops_map_from_reading_further(self):
        path = self.script("endless.py", '''
            import itertools, sys, isolate, work
            try:
                size = "auto" if sys.argv[2] == "auto" else int(sys.argv[2])
                isolate.map(work.boom, itertools.count(), backend=sys.argv[1], chunksize=size)
            except ValueError as e:
                print(e)
        ''')
        for backend in BACKENDS:
            for chunksize in ("1", "auto"):
                for via, r in self.run_each_way(path, backend, chunksize, timeout=60):
                    self.assertEqual((r.returncode, r.stdout), (0, b"bad 3\n"), f"{via} {backend}: {r.stderr}")

    def test_what_cannot_cross_fails_that_item_only(self):
        path = self.script("weird.py", '''
            import sys, isolate, work
            with isolate.PoolExecutor(2, backend=sys.argv[1]) as ex:
                fs = [ex.submit(work.weird, i) for i in range(4)]
                fs.append(ex.submit(work.describe, lambda: 1))  # an argument that does not pickle
                for f in fs:
                    e = f.exception()
                    print(f.result() if e is None else type(e).__name__, getattr(e, "type", ""), sep="|")
        ''')
        for backend in BACKENDS:
            for via, r in self.run_each_way(path, backend):
                self.assertEqual(r.returncode, 0, f"{via} {backend}: {r.stderr.decode()}")
                lines = r.stdout.decode().splitlines()
                if backend == "threads":  # nothing crosses: every object arrives as it is
                    self.assertEqual([lines[0], lines[1], lines[3]], ["0|", "Unpicklable|", "3|"], lines)
                    self.assertTrue(lines[2].startswith("<function weird.<locals>.<lambda> at "), lines)
                    self.assertTrue(lines[4].startswith("{'x': <function <lambda> at "), lines)
                    continue
                self.assertEqual(lines, [
                    "0|",
                    "WorkerError|TypeError",  # its exception pickles but cannot be re-created here
                    "TypeError|",             # the return value (a lambda) does not pickle
                    "3|",
                    "PicklingError|",         # neither does the argument
                ], f"{via} {backend}")

    def test_lambdas_closures_and_bound_methods_are_refused_with_a_reason(self):
        path = self.script("refused.py", '''
            import isolate, work
            def outer():
                def inner(x):
                    return x
                return inner
            for fn in (lambda x: x, outer(), work.Point(1, 2).__eq__, 42):
                try:
                    isolate.map(fn, [1])
                except TypeError as e:
                    print(e)
        ''')
        for via, r in self.run_each_way(path):
            self.assertEqual(r.returncode, 0, f"{via}: {r.stderr.decode()}")
            lines = r.stdout.decode().splitlines()
            self.assertEqual(len(lines), 4, lines)
            self.assertIn("a lambda has none; define it with def at the top level", lines[0])
            self.assertIn("a function defined inside another function has none", lines[1])
            self.assertIn("(a bound method, a functools.partial or a replaced name?)", lines[2])
            self.assertIn("42 is not callable", lines[3])

    def test_an_unguarded_script_is_told_to_use_the_main_guard(self):
        if "subinterp" not in build_backends():
            self.skipTest("only a sub-interpreter imports the main script")
        path = self.script("unguarded.py", '''
            import isolate
            def f(x):
                return x
            print(isolate.map(f, [1, 2], backend="subinterp", chunksize=1))
        ''')
        for via, r in self.run_each_way(path):
            self.assertEqual(r.returncode, 1, via)
            self.assertIn(b"put that work under `if __name__ == \"__main__\":`", r.stderr, via)

    def test_a_worker_process_that_dies_fails_its_items_and_is_replaced(self):
        path = self.script("dies.py", '''
            import isolate, work
            with isolate.PoolExecutor(2, backend="process") as ex:
                fs = [ex.submit(work.die, i) for i in range(12)]
                for i, f in enumerate(fs):
                    e = f.exception()
                    print(i, f.result() if e is None else f"{type(e).__name__}:{e.type}")
                print("later", ex.submit(work.describe, 7).result()["x"])
        ''')
        for via, r in self.run_each_way(path):
            self.assertEqual(r.returncode, 0, f"{via}: {r.stderr.decode()}")
            lines = r.stdout.decode().splitlines()
            self.assertEqual(lines[5], "5 WorkerError:WorkerDied", via)
            self.assertEqual([l for i, l in enumerate(lines[:12]) if i != 5],
                             [f"{i} {i}" for i in range(12) if i != 5], via)
            self.assertEqual(lines[-1], "later 7", via)

    @unittest.skipUnless(free_threaded(), "only a free-threaded CPython runs without a GIL")
    def test_threads_move_off_when_the_gil_turns_on(self):
        # _testmultiphase_null_slots declares no Py_mod_gil: loading it turns
        # the GIL on. The batches before run on threads, those after on the
        # fallback; none is lost or repeated.
        path = self.script("gil_on.py", '''
            import importlib.util, sys, warnings, _testmultiphase, isolate, work
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                with isolate.PoolExecutor(2) as ex:
                    before = ex.backend
                    first = [ex.submit(work.describe, i) for i in range(50)]
                    spec = importlib.util.spec_from_file_location("_testmultiphase_null_slots",
                                                                  _testmultiphase.__file__)
                    spec.loader.exec_module(importlib.util.module_from_spec(spec))
                    assert sys._is_gil_enabled()
                    later = list(ex.map(work.describe, range(50, 100)))
                    print(before, ex.backend)
                    print([f.result()["x"] for f in first] + [d["x"] for d in later] == list(range(100)))
                print(isolate.map(work.describe, [7])[0]["x"])
            ours = [str(w.message) for w in caught if str(w.message).startswith("isolate: the GIL is on")]
            print(len(ours), ours[0])
        ''')
        for via, r in self.run_each_way(path):
            self.assertEqual(r.returncode, 0, f"{via}: {r.stderr.decode()}")
            lines = r.stdout.decode().splitlines()
            self.assertEqual(lines[0].split()[0], "threads", via)
            self.assertIn(lines[0].split()[1], ("subinterp", "process"), via)
            self.assertEqual(lines[1:3], ["True", "7"], via)
            # Once for the executor that moved, once for the map that started with the GIL on.
            self.assertTrue(lines[3].startswith("2 isolate: the GIL is on (an imported extension module needs "
                                                "it), so threads would run one at a time; using backend"), lines)

    def test_a_module_that_refuses_sub_interpreters_falls_back_under_auto(self):
        if "subinterp" not in build_backends():
            self.skipTest("no subinterp backend in this build")
        probe = subprocess.run([PYTHON, "-c", "import _testsinglephase"], capture_output=True)
        if probe.returncode != 0:
            self.skipTest("this CPython has no _testsinglephase")
        with open(os.path.join(self.cwd, "single.py"), "w") as f:
            f.write("import _testsinglephase\ndef f(x):\n    return x + 1\n")
        path = self.script("fallback.py", '''
            import isolate, single, warnings
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                print(isolate.map(single.f, [1, 2], chunksize=1))
            print(caught[-1].message)
            try:
                isolate.map(single.f, [1], backend="subinterp", chunksize=1)
            except ImportError as e:
                print(e.name, "|", e)
            # An executor's functions are not known at start: a module this
            # process has loaded that sub-interpreters refuse is enough.
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                with isolate.PoolExecutor(2) as ex:
                    print(ex.backend, ex.submit(single.f, 5).result())
            print(caught[-1].message)
            print(len(caught))
        ''')
        # "auto" picks threads on a free-threaded CPython, unless the GIL is
        # on: PYTHON_GIL=1 makes it move to subinterp, then to process.
        gil = {"PYTHON_GIL": "1"} if free_threaded() else {}
        for via, r in self.run_each_way(path, **gil):
            self.assertEqual(r.returncode, 0, f"{via}: {r.stderr.decode()}")
            lines = r.stdout.decode().splitlines()
            self.assertEqual(lines[0], "[2, 3]", via)
            self.assertEqual(lines[1], "isolate: module _testsinglephase cannot be loaded in a sub-interpreter; "
                                       "using backend 'process' instead", via)
            self.assertTrue(lines[2].startswith("_testsinglephase | "), lines[2])
            self.assertEqual(lines[3:5], ["process 6", "isolate: module _testsinglephase cannot be loaded in a "
                                          "sub-interpreter; using backend 'process' instead"], via)
            self.assertEqual(lines[5], "2" if gil else "1", via)  # the GIL's warning first

    def test_bad_arguments_are_clear_errors(self):
        path = self.script("bad_args.py", '''
            import isolate, work
            for kwargs in ({"backend": "gpu"}, {"workers": 0}, {"chunksize": 0}, {"chunksize": "big"}):
                try:
                    isolate.map(work.describe, [1], **kwargs)
                except ValueError as e:
                    print(e)
        ''')
        for via, r in self.run_each_way(path):
            self.assertEqual(r.returncode, 0, f"{via}: {r.stderr.decode()}")
            self.assertEqual(r.stdout.decode().splitlines(), [
                "isolate: unknown backend 'gpu' (expected one of auto, subinterp, threads, process)",
                "isolate: max_workers must be a positive int, not 0",
                "isolate: chunksize must be a positive int or 'auto', not 0",
                "isolate: chunksize must be a positive int or 'auto', not 'big'",
            ], via)

    def test_map_speaks_the_executor_vocabulary(self):
        # max_workers, chunksize and timeout as in concurrent.futures, several
        # iterables as in Executor.map, and workers= a deprecated alias.
        path = self.script("vocabulary.py", '''
            import isolate, warnings, work
            print(isolate.map(work.add, [1, 2, 3], [10, 20, 30], max_workers=2))
            print(isolate.map(work.add, [1, 2, 3], [10, 20], [100, 200, 300, 400], chunksize=1))
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                print(isolate.map(work.add, [1], [2], workers=1))
            print(caught[0].category.__name__, caught[0].message, caught[0].filename.endswith("vocabulary.py"))
            for bad in (lambda: isolate.map(work.add), lambda: isolate.map(work.add, [1], [2], max_workers=1, workers=1)):
                try:
                    bad()
                except TypeError as e:
                    print(e)
            try:
                isolate.map(work.slow, range(100), max_workers=2, chunksize=1, timeout=0.3)
            except TimeoutError:
                print("timed out")
            with isolate.PoolExecutor(max_workers=2) as ex:
                print(ex.max_workers, list(ex.map(work.add, [1, 2], [3, 4])))
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    print(ex.workers, caught[0].category.__name__)
        ''')
        for via, r in self.run_each_way(path, timeout=60):
            self.assertEqual(r.returncode, 0, f"{via}: {r.stderr.decode()}")
            self.assertEqual(r.stdout.decode().splitlines(), [
                "[11, 22, 33]",
                "[111, 222]",
                "[3]",
                "DeprecationWarning isolate.map(workers=...) is deprecated; use max_workers= True",
                "isolate.map() needs at least one iterable",
                "isolate.map() got both max_workers and its deprecated alias workers",
                "timed out",
                "2 [4, 6]",
                "2 DeprecationWarning",
            ], via)

    def test_the_environment_chooses_the_backend_under_auto(self):
        path = self.script("env_backend.py", '''
            import isolate
            try:
                with isolate.PoolExecutor(1) as ex:
                    print(ex.backend)
            except ValueError as e:
                print(e)
        ''')
        for env, expected in ((dict(ISO_BACKEND="process"), "process"), (dict(ISO_FORCE_PROCESS="1"), "process"),
                              (dict(ISO_BACKEND="threads"), "threads"),
                              (dict(ISO_BACKEND="gpu"), "isolate: unknown ISO_BACKEND 'gpu' (expected one of "
                                                        "auto, subinterp, threads, process)")):
            for via, r in self.run_each_way(path, **env):
                self.assertEqual(r.stdout.decode().strip(), expected, f"{via} {env}: {r.stderr.decode()}")

    def test_ctrl_c_interrupts_map_promptly(self):
        path = self.script("interrupt.py", '''
            import sys, isolate, work
            print("started", flush=True)
            try:
                isolate.map(work.slow, range(100000), workers=2, backend=sys.argv[1])
            except KeyboardInterrupt:
                print("interrupted", flush=True)
                raise
        ''')
        for backend in BACKENDS:
            for via, argv, extra in vias():
                with subprocess.Popen([*argv, path, backend], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      cwd=self.cwd, env=environment(**extra)) as p:
                    self.assertEqual(p.stdout.readline(), b"started\n")
                    time.sleep(1.0)
                    sent = time.monotonic()
                    p.send_signal(signal.SIGINT)
                    out, err = p.communicate(timeout=30)
                    took = time.monotonic() - sent
                self.assertEqual(out, b"interrupted\n", f"{via} {backend}: {err.decode()}")
                self.assertEqual(p.returncode, -signal.SIGINT, f"{via} {backend}")
                self.assertIn(b"KeyboardInterrupt", err)
                self.assertLess(took, 10, f"{via} {backend}")


class Adaptive(ApiTestCase):
    def test_the_caller_works_too_and_the_pool_stays_warm(self):
        # With the process backend the caller's own calls show as its pid:
        # both it and the workers ran calls, and ten maps in a row used the
        # same two worker processes (the pool stayed warm).
        path = self.script("warm.py", '''
            import os, isolate, work
            seen = set()
            for _ in range(10):
                pids = set(isolate.map(work.nap, range(60), max_workers=3, backend="process"))
                seen |= pids
                assert os.getpid() in pids, "the caller ran no call"
            print(len(seen - {os.getpid()}))
            print(isolate.map(work.nap, range(3), max_workers=1) == [os.getpid()] * 3)
        ''')
        for via, r in self.run_each_way(path):
            self.assertEqual(r.returncode, 0, f"{via}: {r.stderr.decode()}")
            self.assertEqual(r.stdout.decode().split(), ["2", "True"], via)

    def test_short_work_stays_on_the_caller(self):
        # 2 quick items never need a pool: no worker process is forked.
        path = self.script("short.py", '''
            import os, isolate, work
            print(isolate.map(work.pid, [1, 2], backend="process") == [os.getpid()] * 2)
            print(isolate._warm == {} or [s.pool for s in isolate._warm.values()] == [None])
        ''')
        for via, r in self.run_each_way(path):
            self.assertEqual(r.returncode, 0, f"{via}: {r.stderr.decode()}")
            self.assertEqual(r.stdout.decode().split(), ["True", "True"], via)

    def test_inline_calls_raise_the_first_failure_whatever_the_input(self):
        # The caller's chunks read lists and tuples by slices and anything
        # else through its iterator; every way raises at the first failure.
        path = self.script("inline_fail.py", '''
            import isolate, work
            def late(x):
                if x in (4321, 9000):
                    raise ValueError(f"late {x}")
                return x
            def late_sum(a, b):
                return late(a + b)
            n = 10000
            for calls in (list(range(n)), tuple(range(n)), range(n), (x for x in range(n))):
                try:
                    isolate.map(late, calls, max_workers=1)
                except ValueError as e:
                    print(type(calls).__name__, e)
            try:
                isolate.map(late_sum, list(range(n)), tuple(range(n)), max_workers=1)
            except ValueError as e:
                print("star", e)
            print(isolate.map(abs, tuple(range(0, -5, -1)), max_workers=1))
        ''')
        for via, r in self.run_each_way(path):
            self.assertEqual(r.returncode, 0, f"{via}: {r.stderr.decode()}")
            self.assertEqual(r.stdout.decode().splitlines(),
                             ["list late 4321", "tuple late 4321", "range late 4321", "generator late 4321",
                              "star late 9000", "[0, 1, 2, 3, 4]"], via)

    def test_shutdown_closes_the_warm_pools_and_the_next_map_starts_anew(self):
        # A process worker holds the caller's fds: after shutdown() the
        # reader of a pipe the caller wrote to sees its end.
        path = self.script("shutdown.py", '''
            import os, select, isolate, work
            r, w = os.pipe()
            assert len(isolate.map(work.nap, range(60), max_workers=3, backend="process")) == 60
            os.close(w)
            isolate.shutdown()
            ended = select.select([r], [], [], 10)[0] and os.read(r, 1) == b""
            print(bool(ended), isolate._warm == {})
            print(len(isolate.map(work.nap, range(60), max_workers=3, backend="process")))
        ''')
        for via, r in self.run_each_way(path):
            self.assertEqual(r.returncode, 0, f"{via}: {r.stderr.decode()}")
            self.assertEqual(r.stdout.decode().split(), ["True", "True", "60"], via)

    def test_a_function_redefined_after_the_fork_is_not_run_stale(self):
        # Forked workers have the functions of their fork time: one defined
        # or redefined later runs on the caller, and the next map forks anew.
        path = self.script("redefined.py", '''
            import isolate

            def f(x):
                return x + 1

            if __name__ == "__main__":
                print(isolate.map(f, range(6), backend="process", chunksize=2))
                def f(x):
                    return x + 2
                print(isolate.map(f, range(6), backend="process", chunksize=2))
                def g(x):
                    return -x
                print(isolate.map(g, range(6), backend="process", chunksize=2))
                print(isolate.map(g, range(3), backend="process", chunksize=1))
        ''')
        for via, r in self.run_each_way(path):
            self.assertEqual(r.returncode, 0, f"{via}: {r.stderr.decode()}")
            self.assertEqual(r.stdout.decode().splitlines(), [
                "[1, 2, 3, 4, 5, 6]", "[2, 3, 4, 5, 6, 7]", "[0, -1, -2, -3, -4, -5]", "[0, -1, -2]"], via)

    def test_a_fork_after_a_map_gives_a_working_child(self):
        # A child forked while sub-interpreters live would die in CPython's
        # after-fork code: the warm pool closes before the fork.
        path = self.script("fork_after.py", '''
            import multiprocessing, os, isolate, work
            if __name__ == "__main__":
                print(isolate.map(work.slow, range(40)) == list(range(40)))
                pid = os.fork()
                if pid == 0:
                    os._exit(7)
                print(os.waitpid(pid, 0)[1] >> 8)
                with multiprocessing.get_context("fork").Pool(2) as p:
                    print(p.starmap(work.add, [(1, 3), (2, 4)]))
                print(isolate.map(work.slow, range(40)) == list(range(40)))
        ''')
        for via, r in self.run_each_way(path):
            self.assertEqual(r.returncode, 0, f"{via}: {r.stderr.decode()}")
            self.assertEqual(r.stdout.decode().splitlines(), ["True", "7", "[4, 6]", "True"], via)

    def test_memo_runs_each_distinct_call_once(self):
        path = self.script("memo.py", '''
            import os, sys, isolate, work
            log = os.path.abspath("calls.log")
            args = [3, 1, 3, 1.0, True, 2, 3, [4], [4]] * 20
            got = isolate.map(work.logged, args, [log] * len(args), memo=True, backend=sys.argv[1])
            print(got == [repr(a) for a in args])
            with open(log) as f:
                calls = sorted(f.read().split())
            # 1, 1.0 and True are told apart; the unhashable [4] is not memoised.
            print(calls.count("3"), calls.count("1"), calls.count("1.0"), calls.count("True"), calls.count("[4]"))
            os.remove(log)
            isolate.map(work.logged, [5, 6, 5, 6, 7, 5], [log] * 6, memo=2, chunksize=1, backend=sys.argv[1])
            with open(log) as f:
                print(" ".join(f.read().split()))
            for bad in (0, -1, "yes", 1.5):
                try:
                    isolate.map(work.logged, [1], [log], memo=bad)
                except ValueError as e:
                    print(e)
        ''')
        for backend in BACKENDS:
            for via, r in self.run_each_way(path, backend):
                self.assertEqual(r.returncode, 0, f"{via} {backend}: {r.stderr.decode()}")
                lines = r.stdout.decode().splitlines()
                self.assertEqual(lines[:2], ["True", "1 1 1 1 40"], f"{via} {backend}")
                # memo=2 remembers the last two distinct calls: 5 is forgotten by the time of its third.
                self.assertEqual(sorted(lines[2].split()), ["5", "5", "6", "7"], f"{via} {backend}")
                self.assertEqual(lines[3:], [f"isolate: memo must be True or a positive int, not {b}"
                                             for b in ("0", "-1", "'yes'", "1.5")], f"{via} {backend}")

    def test_a_map_after_a_failure_or_a_timeout_still_works(self):
        path = self.script("again.py", '''
            import sys, isolate, work
            for _ in range(3):
                try:
                    isolate.map(work.boom, range(200), backend=sys.argv[1])
                except ValueError as e:
                    print(e)
                try:
                    isolate.map(work.slow, range(100), backend=sys.argv[1], timeout=0.2)
                except TimeoutError:
                    print("timed out")
                print(isolate.map(work.add, range(300), range(300), backend=sys.argv[1]) == list(range(0, 600, 2)))
        ''')
        for backend in BACKENDS:
            for via, r in self.run_each_way(path, backend):
                self.assertEqual(r.returncode, 0, f"{via} {backend}: {r.stderr.decode()}")
                self.assertEqual(r.stdout.decode().splitlines(), ["bad 3", "timed out", "True"] * 3,
                                 f"{via} {backend}")


class Module(unittest.TestCase):
    if EXTENSION_DIR:  # sanitizer builds have no extension module
        def test_python3_imports_the_extension_module(self):
            r = subprocess.run([PYTHON, "-c", "import isolate; print(isolate.__file__, isolate.backends())"],
                               capture_output=True, env=environment(PYTHONPATH=EXTENSION_DIR), timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            self.assertTrue(r.stdout.startswith(os.path.join(EXTENSION_DIR, "isolate.").encode()), r.stdout)

    def test_inside_isolate_run_it_is_a_built_in_module(self):
        code = "import sys, isolate; print('isolate' in sys.builtin_module_names, isolate.__all__)"
        r = subprocess.run([ISOLATE, "run", "-I", "-c", code], capture_output=True, env=environment(), timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertEqual(r.stdout, b"True ['map', 'PoolExecutor', 'WorkerError', 'backends']\n")


if __name__ == "__main__":
    unittest.main()
