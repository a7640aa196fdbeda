"""isolate.map against the peers a Python user would call instead, timed
inside the interpreter that runs them, interleaved round by round, medians.

    build/bin/isolate run bench/map/api_bench.py [--rounds 5] [--cases tiny,medium,heavy,skewed,start]
    PYTHONPATH=build/python python3.x bench/map/api_bench.py     # the extension module

Each way is timed around the map call alone, its pool's start included:
the peers start theirs in the call (`with Pool() as p: p.map(...)`), as a
script does; isolate.map keeps its pool warm between calls, which is what
it offers. Peers: multiprocessing.Pool.map (default and tuned chunksize:
n/64), ProcessPoolExecutor.map (tuned), ThreadPoolExecutor.map and, on a
Python that has it (3.14+), InterpreterPoolExecutor.map (tuned). They run
in a helper process of the same python3 (sys.executable), driven round by
round from here: a fork of this process would close isolate's warm pool of
sub-interpreters (CPython cannot fork while they live), which is a cost of
mixing the two, not of either. The plain loop runs here, beside
isolate.map. The "start" case times the 2-item map on a warm pool, and in
fresh processes the first map (cold) and a pool's start alone.
"""
import argparse
import concurrent.futures as cf
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import work  # noqa: E402

CASES = {  # name: (function, inputs), each ~0.2-0.6 s as a plain loop on the 2-core machine
    "tiny": (work.tiny, lambda: list(range(100_000))),
    "medium": (work.medium, lambda: list(range(40_000))),
    "heavy": (work.busy, lambda: list(range(48))),
    "skewed": (work.skewed, lambda: list(range(20_000))),
}
PEERS = ["Pool.map", "Pool.map tuned", "ProcessPoolExecutor tuned", "ThreadPoolExecutor",
         "InterpreterPoolExecutor tuned"]


def checksum(values):
    return zlib.crc32(repr(list(values)).encode())


def peer_way(name, fn, args, workers):
    """The peer's map call, or None where this Python lacks it."""
    tuned = max(1, len(args) // 64)

    def pool(chunksize=None):
        with multiprocessing.Pool(workers) as p:
            return p.map(fn, args, chunksize)

    def executor(kind, chunksize=1):
        with kind(workers) as ex:
            return list(ex.map(fn, args, chunksize=chunksize))
    if name == "Pool.map":
        return pool
    if name == "Pool.map tuned":
        return lambda: pool(tuned)
    if name == "ProcessPoolExecutor tuned":
        return lambda: executor(cf.ProcessPoolExecutor, tuned)
    if name == "ThreadPoolExecutor":
        return lambda: executor(cf.ThreadPoolExecutor)  # a future per item
    if name == "InterpreterPoolExecutor tuned" and hasattr(cf, "InterpreterPoolExecutor"):
        return lambda: executor(cf.InterpreterPoolExecutor, tuned)
    return None


def serve_peers(workers):
    """The helper: reads "case way" lines, answers "seconds checksum" (or "-")."""
    inputs = {}
    for line in sys.stdin:
        case, way = line.rstrip("\n").split(" ", 1)
        fn, make = CASES[case]
        args = inputs.setdefault(case, make())
        run = peer_way(way, fn, args, workers)
        if run is None:
            print("-", flush=True)
            continue
        start = time.perf_counter()
        values = run()
        seconds = time.perf_counter() - start
        print(seconds, checksum(values), flush=True)


def launcher():
    """argv that runs Python code the way this process runs: isolate run, or python3 + the extension module."""
    exe = os.readlink("/proc/self/exe")
    return [exe, "run"] if os.path.basename(exe).startswith("isolate") else [exe]


COLD = '''
import sys, time
sys.path.insert(0, {here!r})
t0 = time.perf_counter()
import isolate, work
t1 = time.perf_counter()
isolate.map(work.tiny, [1, 2])
t2 = time.perf_counter()
pool = isolate._Pool("auto", {workers}, isolate._preload(None), True, False, 1)
t3 = time.perf_counter()
pool.close()
isolate.map(work.busy, range(4))  # starts the warm pool and uses it as it comes
t4 = time.perf_counter()
try:
    import _interpreters as interpreters
except ImportError:
    import _xxsubinterpreters as interpreters
t5 = time.perf_counter()
interpreters.destroy(interpreters.create())
t6 = time.perf_counter()
print(t1 - t0, t2 - t1, t3 - t2, t4 - t3, t6 - t5)
'''


def start_case(rounds, workers):
    import isolate
    isolate.map(work.busy, range(4))  # the warm pool is started
    warm = []
    for _ in range(max(rounds, 20)):
        start = time.perf_counter()
        isolate.map(work.tiny, [1, 2])
        warm.append(time.perf_counter() - start)
    cold = []
    for _ in range(rounds):
        r = subprocess.run([*launcher(), "-c", COLD.format(here=HERE, workers=max(1, workers - 1))],
                           capture_output=True, text=True, env=os.environ, check=True)
        cold.append([float(v) for v in r.stdout.split()])
    med = lambda i: statistics.median(c[i] for c in cold)  # noqa: E731
    backend = isolate._choose("auto", 0, True)[0]
    return [("2 items, warm pool", statistics.median(warm)),
            ("import isolate (fresh process)", med(0)),
            ("2 items, first map of a process (no pool needed)", med(1)),
            (f"a pool's start alone: {max(1, workers - 1)} x {backend}", med(2)),
            ("  beside it: creating and destroying a bare sub-interpreter", med(4)),
            ("4 x 12 ms, the first map of a process (the pool starts meanwhile)", med(3))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--cases", default="tiny,medium,heavy,skewed,start")
    ap.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--serve-peers", action="store_true", help=argparse.SUPPRESS)
    opts = ap.parse_args()
    if opts.serve_peers:
        return serve_peers(opts.workers)
    import isolate
    helper = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--serve-peers", "--workers",
                               str(opts.workers)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def peer(case, way):
        helper.stdin.write(f"{case} {way}\n")
        helper.stdin.flush()
        answer = helper.stdout.readline().split()
        return None if answer == ["-"] else (float(answer[0]), int(answer[1]))

    print(f"{sys.version.split()[0]} ({' '.join(launcher())}), peers in {sys.executable}; {opts.workers} workers "
          f"for the peers, isolate.map backend {isolate._choose('auto', 0, True)[0]}; {opts.rounds} interleaved rounds")
    for case in opts.cases.split(","):
        if case == "start":
            print(f"\n### start (median of {opts.rounds} fresh processes; warm: of 20 calls)\n")
            print("| what | ms |\n|---|---:|")
            for name, seconds in start_case(opts.rounds, opts.workers):
                print(f"| {name} | {seconds * 1e3:.2f} |")
            continue
        fn, make = CASES[case]
        args = make()
        expected = checksum(fn(a) for a in args)
        ours = {
            "plain loop": lambda: [fn(a) for a in args],
            "isolate.map": lambda: isolate.map(fn, args),
            "isolate.map process": lambda: isolate.map(fn, args, backend="process"),
        }
        samples = {name: [] for name in [*ours, *PEERS]}
        for _ in range(opts.rounds):
            for name, way in ours.items():
                values = None  # the last way's values are freed here, not in the next one's time
                start = time.perf_counter()
                values = way()
                samples[name].append(time.perf_counter() - start)
                if checksum(values) != expected:
                    sys.exit(f"{case}: {name} gave wrong results")
            for name in PEERS:
                if name == "ThreadPoolExecutor" and len(args) > 40_000:
                    continue  # a future per item: 100,000 of them take seconds
                answer = peer(case, name)
                if answer is None:
                    continue
                if answer[1] != expected:
                    sys.exit(f"{case}: {name} gave wrong results")
                samples[name].append(answer[0])
        med = {name: statistics.median(v) for name, v in samples.items() if v}
        loop, tuned = med["plain loop"], med["Pool.map tuned"]
        print(f"\n### {case}: {len(args)} items of work.{fn.__name__}\n")
        print("| way | median s | speed vs plain loop | vs Pool.map tuned | spread |")
        print("|---|---:|---:|---:|---:|")
        for name, m in med.items():
            spread = (max(samples[name]) - min(samples[name])) / m
            print(f"| {name} | {m:.4f} | {loop / m:.2f}x | {tuned / m:.2f}x | {spread:.0%} |")
    # The process backend's forked workers hold every fd this process had,
    # the helper's stdin pipe included: close them first, or the helper
    # never sees the end of its input.
    isolate.shutdown()
    helper.stdin.close()
    helper.wait()


if __name__ == "__main__":
    main()
