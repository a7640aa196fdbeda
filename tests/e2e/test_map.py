"""`isolate map`: results equal to a sequential python3 run for every backend
this build supports, input order, --star, --memo, both output formats, every
failure path, Ctrl-C, streaming and bounded memory."""
import json
import os
import re
import resource
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from peer import free_threaded, ISOLATE, PYTHON, ScratchDirTestCase, build_backends, environment  # noqa: E402

FUNCTIONS = '''
import json, os, random, time

def square(x):
    return x * x

def describe(x):
    return {"x": x, "kind": type(x).__name__, "text": json.dumps(x)[:20], "list": [x] * 2}

def jitter(x):
    time.sleep(random.random() / 500)
    return x

def slow(x):
    s = 0
    for i in range(30000):
        s += i % (x + 1)
    return s

def boom(x):
    if x % 3 == 0:
        raise ValueError(f"bad {x}")
    return x

def die(x):
    if x == 5:
        os._exit(3)
    return x

def segv(x):
    if x == 7:
        import ctypes
        ctypes.string_at(0)
    return x

def unencodable(x):
    return float("nan") if x == 1 else object() if x == 2 else x

def add(a, b, c=0):
    return a + b + c

def noisy(x):
    print(f"printed {x}", flush=True)  # one write: workers print concurrently
    os.write(1, b"written to fd 1\\n")
    return x
'''

INPUTS = [0, 1, 2, -7, 10**20, 3.5, "text", "ünï", None, True, [1, [2]], {"a": {"b": [1, 2]}}, ""] * 5


def backends():
    """The build's parallel backends, plus threads, which works everywhere
    (on a GIL build it runs one item at a time)."""
    found = build_backends()
    return found if "threads" in found else found + ["threads"]


class MapTestCase(ScratchDirTestCase):
    FILES = {"fns.py": FUNCTIONS}

    def map(self, *args, stdin=b"", timeout=300, **env):
        return subprocess.run([ISOLATE, "map", *args], input=stdin, capture_output=True, cwd=self.cwd,
                              env=environment(**env), timeout=timeout)

    def lines(self, values):
        return "".join(json.dumps(v) + "\n" for v in values).encode()

    def sequential(self, function, values):
        """What python3 gives, one item after the other."""
        code = ("import json, sys, fns\n"
                f"for line in sys.stdin: print(json.dumps(fns.{function}(json.loads(line)), ensure_ascii=False))")
        r = subprocess.run([PYTHON, "-c", code], input=self.lines(values), capture_output=True, cwd=self.cwd,
                           env=environment(PYTHONPATH=self.cwd), check=True)
        return r.stdout


class Results(MapTestCase):
    def test_every_backend_equals_sequential_python(self):
        expected = self.sequential("describe", INPUTS)
        for backend in backends():
            for jobs in ("1", "3"):
                with self.subTest(backend=backend, jobs=jobs):
                    r = self.map("fns:describe", "--backend", backend, "-j", jobs, stdin=self.lines(INPUTS))
                    self.assertEqual(r.returncode, 0, r.stderr)
                    self.assertEqual(r.stdout, expected)
                    self.assertIn(f"{backend} x {jobs}".encode(), r.stderr)

    def test_order_is_input_order_whatever_finishes_first(self):
        values = list(range(400))
        for backend in backends():
            for chunk in ("1", "7", "auto"):
                r = self.map("fns:jitter", "--backend", backend, "--chunk", chunk, "-q", stdin=self.lines(values))
                self.assertEqual((r.returncode, r.stdout, r.stderr), (0, self.lines(values), b""), (backend, chunk))

    def test_file_target_input_and_output_files(self):
        src = os.path.join(self.cwd, "in.jsonl")
        dst = os.path.join(self.cwd, "out.jsonl")
        with open(src, "wb") as f:
            f.write(self.lines(range(50)))
        r = self.map(os.path.join(self.cwd, "fns.py") + ":square", "--input", src, "--output", dst, "-q")
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, b"", b""))
        with open(dst, "rb") as f:
            self.assertEqual(f.read(), self.lines([x * x for x in range(50)]))

    def test_star_spreads_arrays(self):
        r = self.map("fns:add", "--star", "--format", "records", "-q", stdin=b"[1, 2]\n[1, 2, 3]\n5\n")
        self.assertEqual(r.returncode, 1)
        out = [json.loads(line) for line in r.stdout.splitlines()]
        self.assertEqual(out[0], {"i": 0, "ok": 3})
        self.assertEqual(out[1], {"i": 1, "ok": 6})
        self.assertEqual(out[2]["error"]["type"], "InputError")
        self.assertIn("--star needs a JSON array", out[2]["error"]["message"])

    def test_memo_answers_repeated_arguments(self):
        values = list(range(300)) * 3
        r = self.map("fns:slow", "--memo", "1000", "-j", "2", stdin=self.lines(values))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, self.sequential("slow", values))
        hits = int(re.search(rb"(\d+) memo hits", r.stderr).group(1))
        self.assertGreater(hits, 300, r.stderr)  # the later copies come from the cache

    def test_prints_in_the_function_go_to_stderr(self):
        for backend in backends():
            r = self.map("fns:noisy", "--backend", backend, "-q", stdin=b"1\n2\n")
            self.assertEqual((r.returncode, r.stdout), (0, b"1\n2\n"), backend)
            self.assertIn(b"printed 1", r.stderr)
            self.assertIn(b"written to fd 1", r.stderr)


class Failures(MapTestCase):
    def records(self, r):
        return [json.loads(line) for line in r.stdout.splitlines()]

    def test_an_exception_fails_only_its_item(self):
        errors = os.path.join(self.cwd, "errors.jsonl")
        for backend in backends():
            r = self.map("fns:boom", "--backend", backend, "--errors", errors, stdin=self.lines(range(10)))
            self.assertEqual(r.returncode, 1, backend)
            self.assertEqual(r.stdout, b"null\n1\n2\nnull\n4\n5\nnull\n7\n8\nnull\n")
            self.assertIn(b"10 items, 4 failed", r.stderr)
            with open(errors) as f:
                failures = [json.loads(line) for line in f]
            self.assertEqual([e["i"] for e in failures], [0, 3, 6, 9])
            self.assertEqual(failures[1]["error"]["type"], "ValueError")
            self.assertEqual(failures[1]["error"]["message"], "bad 3")
            self.assertIn('in boom\n    raise ValueError(f"bad {x}")', failures[1]["error"]["traceback"])

    def test_bad_json_and_unencodable_results_are_item_failures(self):
        r = self.map("fns:unencodable", "--format", "records", "-q", stdin=b"0\n1\n2\n{not json\n3\n")
        self.assertEqual(r.returncode, 1)
        out = self.records(r)
        self.assertEqual([o.get("ok") for o in out], [0, None, None, None, 3])
        self.assertEqual(out[1]["error"]["type"], "EncodeError")
        self.assertIn("cannot be encoded as JSON", out[1]["error"]["message"])
        self.assertEqual(out[2]["error"]["type"], "EncodeError")
        self.assertEqual(out[3]["error"]["type"], "InputError")

    def test_a_dying_worker_process_fails_its_items_and_is_replaced(self):
        # Under AddressSanitizer the segfault is reported by ASan, which then aborts.
        segv = "died of signal 6" if "address" in os.environ.get("ISOLATE_SANITIZED", "") else "died of signal 11"
        for function, how in (("die", "exited with status 3"), ("segv", segv)):
            r = self.map(f"fns:{function}", "--backend", "process", "--chunk", "1", "-j", "2",
                         "--format", "records", "-q", stdin=self.lines(range(20)))
            self.assertEqual(r.returncode, 1, r.stderr)
            out = self.records(r)
            self.assertEqual(len(out), 20)
            failed = [o for o in out if "error" in o]
            self.assertEqual([o["i"] for o in failed], [5 if function == "die" else 7])
            self.assertEqual(failed[0]["error"]["type"], "WorkerDied")
            self.assertIn(how, failed[0]["error"]["message"])
            self.assertEqual([o["ok"] for o in out if "ok" in o], [x for x in range(20) if x != failed[0]["i"]])

    def test_bad_targets_and_options_are_one_line_and_status_2(self):
        cases = [
            (["nosuchmodule:f"], "cannot load nosuchmodule:f: ModuleNotFoundError: No module named 'nosuchmodule'"),
            (["fns:nosuch"], "target 'fns:nosuch': fns has no attribute 'nosuch'"),
            (["fns"], "target 'fns': expected module:function or path/to/file.py:function"),
            (["missing.py:f"], "target 'missing.py:f': no such file: missing.py"),
            (["fns:square", "--backend", "gpu"], "unknown --backend 'gpu' (expected one of auto, subinterp, threads, process)"),
            (["fns:square", "--chunk", "0"], "--chunk 0: expected auto or a number from 1 to 1000000"),
            (["fns:square", "--input", "/nonexistent/in"], "cannot open input /nonexistent/in: No such file or directory"),
            (["fns:square", "--output", "/nonexistent/out"], "cannot open output /nonexistent/out: No such file or directory"),
        ]
        for args, message in cases:
            r = self.map(*args, stdin=b"1\n")
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertEqual(r.stdout, b"")
            self.assertEqual(r.stderr.decode(), f"isolate: map: {message}\n", args)

    def test_the_environment_chooses_the_backend_under_auto(self):
        # The pool's one policy: ISO_BACKEND under auto (also for an explicit
        # --backend auto), ISO_THREADS, and errors that name the setting.
        for env, args, summary in ((dict(ISO_BACKEND="process"), ["-j", "3"], b"process x 3"),
                                   (dict(ISO_BACKEND="process"), ["-j", "3", "--backend", "auto"], b"process x 3"),
                                   (dict(ISO_BACKEND="threads"), ["-j", "3", "--backend", "process"], b"process x 3"),
                                   (dict(ISO_THREADS="3", ISO_BACKEND="threads"), [], b"threads x 3")):
            r = self.map("fns:square", *args, stdin=b"4\n", **env)
            self.assertEqual((r.returncode, r.stdout), (0, b"16\n"), (env, args, r.stderr))
            self.assertIn(summary, r.stderr, (env, args))
        r = self.map("fns:square", stdin=b"4\n", ISO_BACKEND="gpu")
        self.assertEqual((r.returncode, r.stdout), (2, b""))
        self.assertEqual(r.stderr, b"isolate: map: unknown ISO_BACKEND 'gpu' "
                                   b"(expected one of auto, subinterp, threads, process)\n")

    def test_iso_log_debug_shows_the_pool_starting(self):
        r = self.map("fns:square", "-q", "-j", "2", "--backend", "process", stdin=b"4\n", ISO_LOG="debug")
        self.assertEqual((r.returncode, r.stdout), (0, b"16\n"), r.stderr)
        lines = r.stderr.decode().splitlines()
        self.assertEqual(sum(bool(re.fullmatch(r"isolate\[\d+\]: debug: process worker ready", l)) for l in lines), 2,
                         lines)
        self.assertEqual(sum(bool(re.fullmatch(r"isolate\[\d+\]: debug: worker process \d+ started", l))
                             for l in lines), 2, lines)
        r = self.map("fns:square", "-q", stdin=b"4\n", ISO_LOG="loud")
        self.assertEqual((r.returncode, r.stdout), (0, b"16\n"), r.stderr)
        self.assertRegex(r.stderr.decode(), r"^isolate\[\d+\]: warning: ignoring ISO_LOG=loud "
                                            r"\(expected trace, debug, info, warn, error or off\)\n$")

    def test_a_module_that_refuses_sub_interpreters(self):
        if "subinterp" not in backends():
            self.skipTest("no subinterp backend in this build")
        with open(os.path.join(self.cwd, "single.py"), "w") as f:
            f.write("import _testsinglephase\ndef f(x):\n    return x + 1\n")
        probe = subprocess.run([PYTHON, "-c", "import _testsinglephase"], capture_output=True)
        if probe.returncode != 0:
            self.skipTest("this CPython has no _testsinglephase")
        # The automatic backend is threads on a free-threaded CPython, unless
        # the GIL is on: PYTHON_GIL=1 makes it move to subinterp, then process.
        gil = {"PYTHON_GIL": "1"} if free_threaded() else {}
        r = self.map("single:f", "-q", stdin=b"1\n", **gil)
        self.assertEqual((r.returncode, r.stdout), (0, b"2\n"))
        refused = (b"isolate: warning: module _testsinglephase refuses to load in a sub-interpreter; "
                   b"using the process backend\n")
        if gil:
            self.assertRegex(r.stderr.decode(), r"^isolate\[\d+\]: warning: the GIL is on \(a module the target "
                             r"loaded needs it\): threads would run one at a time, so the pool uses backend "
                             r"subinterp\n")
            self.assertTrue(r.stderr.endswith(refused), r.stderr)
            self.assertEqual(r.stderr.count(b"\n"), 2, r.stderr)
        else:
            self.assertEqual(r.stderr, refused)
        r = self.map("single:f", "--backend", "subinterp", stdin=b"1\n")
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"module _testsinglephase refuses to load in a sub-interpreter; use --backend process",
                      r.stderr)
        r = self.map("fns:square", stdin=b"3\n", ISO_FORCE_PROCESS="1")
        self.assertIn(b"process x", r.stderr)


class Streaming(MapTestCase):
    def test_progress_shows_rate_and_eta_on_a_terminal(self):
        path = os.path.join(self.cwd, "progress.jsonl")
        with open(path, "wb") as f:
            f.write(self.lines(list(range(1000))))  # ~1.5 s: several refreshes of the bar
        # On a terminal (stderr a pty) the bar is on by default; --quiet turns it off.
        for extra, shown in (((), True), (("--quiet",), False)):
            master, slave = os.openpty()
            try:
                r = subprocess.run([ISOLATE, "map", "fns:slow", "--input", path, "-j", "1", *extra],
                                   stdout=subprocess.PIPE, stderr=slave, cwd=self.cwd, env=environment(),
                                   timeout=300)
            finally:
                os.close(slave)
            err = b""
            while True:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO once the pty's other end is closed and drained
                    break
                if not chunk:
                    break
                err += chunk
            os.close(master)
            self.assertEqual(r.returncode, 0, err)
            self.assertEqual(len(r.stdout.splitlines()), 1000)
            bar = re.search(rb"\r\x1b\[Kisolate map: \d+ done, \d+ items/s, ETA \d+ s", err)
            self.assertEqual(bool(bar), shown, err[-500:])

    def test_first_results_come_before_the_input_ends(self):
        with subprocess.Popen([ISOLATE, "map", "fns:square", "-q"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, cwd=self.cwd, env=environment()) as p:
            p.stdin.write(b"2\n3\n")
            p.stdin.flush()
            self.assertEqual(p.stdout.readline(), b"4\n")  # the input is still open
            self.assertEqual(p.stdout.readline(), b"9\n")
            p.stdin.write(b"4\n")
            p.stdin.close()
            self.assertEqual(p.stdout.read(), b"16\n")
            self.assertEqual(p.wait(timeout=60), 0)

    def test_ctrl_c_flushes_completed_results_in_order_and_exits_130(self):
        for backend in backends():
            out = os.path.join(self.cwd, f"interrupted-{backend}.jsonl")
            with open(os.path.join(self.cwd, "many.jsonl"), "wb") as f:
                f.write(self.lines(range(1, 100000)))
            p = subprocess.Popen([ISOLATE, "map", "fns:slow", "--backend", backend, "--input", "many.jsonl",
                                  "--output", out], cwd=self.cwd, stderr=subprocess.PIPE, env=environment())
            time.sleep(2)
            started = time.monotonic()
            p.send_signal(signal.SIGINT)
            _, err = p.communicate(timeout=60)
            self.assertLess(time.monotonic() - started, 5, "not prompt")
            self.assertEqual(p.returncode, 130, err)
            self.assertIn(b"interrupted after", err)
            with open(out, "rb") as f:
                got = f.read()
            n = got.count(b"\n")
            self.assertGreater(n, 0)
            self.assertEqual(got, self.sequential("slow", range(1, n + 1)))

    def test_a_closed_output_pipe_ends_the_run_quietly(self):
        cmd = f"seq 1 1000000 | {ISOLATE} map fns:square | head -n 2"
        r = subprocess.run(["bash", "-c", cmd + "; echo ${PIPESTATUS[1]} >&2"], capture_output=True, cwd=self.cwd,
                           env=environment(), timeout=120)
        self.assertEqual(r.stdout, b"1\n4\n")
        self.assertEqual(r.stderr.strip().splitlines()[-1], b"141")  # death by SIGPIPE, like any pipeline stage

    def test_ten_million_lines_in_bounded_memory(self):
        # 10^7 items through a pipe (10^6 in a sanitizer build, whose shadow
        # memory also raises the bound); the input is never held, so peak
        # memory stays near that of a small run.
        sanitized = bool(os.environ.get("ISOLATE_SANITIZED"))
        n = 10**6 if sanitized else 10**7
        bound_mib = 600 if sanitized else 150
        cmd = f"seq 1 {n} | {ISOLATE} map fns:square -q | awk 'END {{ print NR, last }} {{ last = $0 }}'"
        r = subprocess.run(["bash", "-c", cmd], capture_output=True, cwd=self.cwd, env=environment(), timeout=1200)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, f"{n} {n * n}\n".encode())
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the largest reaped descendant
        self.assertLess(peak_kib, bound_mib * 1024, f"peak RSS {peak_kib} KiB")

if __name__ == "__main__":
    unittest.main()
