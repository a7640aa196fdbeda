"""The threads backend in-process, against a plain loop and the standard
library's pools on the same interpreter: isolate.map per backend,
ThreadPoolExecutor, multiprocessing.Pool (tuned chunksize) and, where the
CPython has it, InterpreterPoolExecutor. Medians of --rounds interleaved
rounds, timing only the map call (pool start included).

    build-3.13t-python3.13t/bin/isolate run bench/map/threads_bench.py [--rounds 5] [--cases heavy,medium,tiny]

Cases: heavy (40 x ~12 ms, work.busy), medium (40,000 x ~13 µs,
work.medium), tiny (100,000 x work.tiny). On a free-threaded CPython
(python3.13t) backend threads runs in parallel; on a GIL build it cannot.
"""
import argparse
import concurrent.futures
import multiprocessing
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import isolate  # noqa: E402
import work  # noqa: E402

CASES = {"heavy": (work.busy, 40), "medium": (work.medium, 40_000), "tiny": (work.tiny, 100_000)}


def ways(func, args, workers):
    tuned = max(1, len(args) // (4 * workers))
    out = {"plain loop": lambda: [func(a) for a in args]}
    for backend in isolate.backends() + [b for b in ["threads"] if b not in isolate.backends()]:
        out[f"isolate.map {backend}"] = lambda b=backend: isolate.map(func, args, backend=b, max_workers=workers)

    def tpe():
        with concurrent.futures.ThreadPoolExecutor(workers) as ex:
            return list(ex.map(func, args))
    out["ThreadPoolExecutor"] = tpe

    def mp():
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            return pool.map(func, args, chunksize=tuned)
    out["multiprocessing.Pool (tuned)"] = mp
    ipe = getattr(concurrent.futures, "InterpreterPoolExecutor", None)
    if ipe is not None:
        def interp():
            with ipe(workers) as ex:
                return list(ex.map(func, args, chunksize=tuned))
        out["InterpreterPoolExecutor (tuned)"] = interp
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    ap.add_argument("--cases", default="heavy,medium,tiny")
    opts = ap.parse_args()
    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    print(f"- {sys.executable} {sys.version.split()[0]}, GIL {'on' if gil else 'off'}, "
          f"workers {opts.workers}, rounds {opts.rounds}, load {os.getloadavg()[0]:.2f}\n")
    print("| case | way | median s | vs plain loop |")
    print("|---|---|---:|---:|")
    for case in opts.cases.split(","):
        func, n = CASES[case]
        args = list(range(n))
        expected = [func(a) for a in args]
        table = ways(func, args, opts.workers)
        samples = {name: [] for name in table}
        for _ in range(opts.rounds):
            for name, run in table.items():
                t = time.perf_counter()
                got = run()
                samples[name].append(time.perf_counter() - t)
                if list(got) != expected:
                    sys.exit(f"threads_bench: {name} gave wrong results on {case}")
        loop = statistics.median(samples["plain loop"])
        for name, values in samples.items():
            m = statistics.median(values)
            print(f"| {case} {n} | {name} | {m:.3f} | {loop / m:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
