"""isolate.map against the peers a Python user would call instead, timed
inside one interpreter, interleaved round by round, medians.

    build/bin/isolate run bench/map/api_bench.py [--rounds 5] [--cases tiny,medium,heavy,skewed,start]
    PYTHONPATH=build/python python3.x bench/map/api_bench.py     # the extension module

Each way is timed around the map call alone, its pool's start included:
the peers start theirs in the call (`with Pool() as p: p.map(...)`), as a
script does; isolate.map keeps its pool warm between calls, which is what
it offers, and the "start" case times the 2-item map on a warm pool, the
first map of a fresh process (cold) and a pool's start alone. Peers: a
plain loop, multiprocessing.Pool.map (default and tuned chunksize: n/64),
ProcessPoolExecutor.map (tuned), ThreadPoolExecutor.map and, on a Python
that has it (3.14+), InterpreterPoolExecutor.map (tuned).
"""
import argparse
import concurrent.futures as cf
import multiprocessing
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import isolate  # noqa: E402
import work  # noqa: E402

CASES = {  # name: (function, inputs) sized for ~0.2-0.6 s of plain loop on this machine
    "tiny": (work.tiny, lambda: list(range(100_000))),
    "medium": (work.medium, lambda: list(range(40_000))),
    "heavy": (work.busy, lambda: list(range(48))),
    "skewed": (work.skewed, lambda: list(range(4_000))),
}


def ways(fn, args, workers):
    tuned = max(1, len(args) // 64)
    out = {
        "plain loop": lambda: [fn(a) for a in args],
        "isolate.map": lambda: isolate.map(fn, args),
        "isolate.map process": lambda: isolate.map(fn, args, backend="process"),
    }

    def pool(chunksize=None):
        with multiprocessing.Pool(workers) as p:
            return p.map(fn, args, chunksize)
    out["Pool.map"] = pool
    out["Pool.map tuned"] = lambda: pool(tuned)

    def executor(kind, chunksize=1):
        with kind(workers) as ex:
            return list(ex.map(fn, args, chunksize=chunksize))
    out["ProcessPoolExecutor tuned"] = lambda: executor(cf.ProcessPoolExecutor, tuned)
    if len(args) <= 40_000:  # a future per item: 100,000 of them take seconds
        out["ThreadPoolExecutor"] = lambda: executor(cf.ThreadPoolExecutor)
    if hasattr(cf, "InterpreterPoolExecutor"):
        out["InterpreterPoolExecutor tuned"] = lambda: executor(cf.InterpreterPoolExecutor, tuned)
    return out


def timed(fn):
    t = time.perf_counter()
    value = fn()
    return time.perf_counter() - t, value


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
isolate.map(work.busy, range(4))  # starts the warm pool and uses it
t4 = time.perf_counter()
print(t1 - t0, t2 - t1, t3 - t2, pool.backend, pool.workers, t4 - t3)
'''


def start_case(rounds, workers):
    """(rows): 2 items on the warm pool; in fresh processes, the first
    map of 2 items (cold) and a pool's start alone (what the warm pool costs
    once, in the background)."""
    isolate.map(work.busy, range(4))  # the warm pool is started
    warm = [timed(lambda: isolate.map(work.tiny, [1, 2]))[0] for _ in range(max(rounds, 20))]
    cold = []
    for _ in range(rounds):
        r = subprocess.run([sys.executable, "-c", COLD.format(here=os.path.dirname(os.path.abspath(__file__)),
                                                               workers=max(1, workers - 1))],
                           capture_output=True, text=True, env=os.environ, check=True)
        cold.append(r.stdout.split())
    backend = cold[0][3] + f" x{cold[0][4]}"
    med = lambda i: statistics.median(float(c[i]) for c in cold)  # noqa: E731
    return [("2 items, warm pool", statistics.median(warm)),
            ("import isolate (fresh process)", med(0)),
            ("2 items, first map of a process", med(1)),
            (f"a pool's start alone ({backend})", med(2)),
            ("4 x 12 ms from a cold pool", med(5))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--cases", default="tiny,medium,heavy,skewed,start")
    ap.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    opts = ap.parse_args()
    print(f"{sys.executable} {sys.version.split()[0]}, {opts.workers} workers for the peers, "
          f"isolate.map backend {isolate._choose("auto", 0, True)[0]}, {opts.rounds} interleaved rounds")
    for case in opts.cases.split(","):
        if case == "start":
            print(f"\n### start (median of {opts.rounds} fresh processes; warm: of 20 calls)\n")
            print("| what | ms |\n|---|---:|")
            for name, seconds in start_case(opts.rounds, opts.workers):
                print(f"| {name} | {seconds * 1e3:.2f} |")
            continue
        fn, make = CASES[case]
        args = make()
        expected = [fn(a) for a in args]
        cases = ways(fn, args, opts.workers)
        samples = {name: [] for name in cases}
        for _ in range(opts.rounds):
            for name, way in cases.items():
                seconds, value = timed(way)
                if list(value) != expected:
                    sys.exit(f"{case}: {name} gave wrong results")
                samples[name].append(seconds)
        med = {name: statistics.median(v) for name, v in samples.items()}
        loop, tuned = med["plain loop"], med["Pool.map tuned"]
        print(f"\n### {case}: {len(args)} items of work.{fn.__name__}\n")
        print("| way | median s | speed vs plain loop | vs Pool.map tuned | spread |")
        print("|---|---:|---:|---:|---:|")
        for name, m in med.items():
            spread = (max(samples[name]) - min(samples[name])) / m
            print(f"| {name} | {m:.4f} | {loop / m:.2f}x | {tuned / m:.2f}x | {spread:.0%} |")


if __name__ == "__main__":
    main()
