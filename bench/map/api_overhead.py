"""Per-item cost of the Python API in-process, without any I/O:
isolate.map(work.tiny, range(N)) per backend and chunksize against a plain
loop in the same interpreter, medians of --rounds interleaved rounds.

    build/bin/isolate run bench/map/api_overhead.py [--items 100000] [--rounds 5]
    PYTHONPATH=build/python python3.x bench/map/api_overhead.py     # the extension module
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import isolate  # noqa: E402
import work  # noqa: E402


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--workers", type=int, default=None)
    opts = ap.parse_args()
    args = list(range(opts.items))
    expected = [work.tiny(a) for a in args]
    cases = {"plain loop": lambda: [work.tiny(a) for a in args]}
    for backend in [b for b in isolate.backends() if b != "threads"]:
        for chunksize in ("auto", 4096):
            def run(backend=backend, chunksize=chunksize):
                assert isolate.map(work.tiny, args, max_workers=opts.workers, backend=backend,
                                   chunksize=chunksize) == expected
            cases[f"isolate.map {backend} chunksize={chunksize}"] = run
    samples = {name: [] for name in cases}
    for _ in range(opts.rounds):
        for name, fn in cases.items():
            try:
                samples[name].append(timed(fn))
            except Exception:
                print("FAILED", name, len(os.listdir("/proc/self/fd")), "fds", file=sys.stderr)
                raise
    print(f"{opts.items} items of work.tiny, {opts.rounds} rounds, {sys.executable} {sys.version.split()[0]}")
    print("| way | median s | µs/item |")
    print("|---|---:|---:|")
    for name, values in samples.items():
        m = statistics.median(values)
        print(f"| {name} | {m:.3f} | {m / opts.items * 1e6:.2f} |")


if __name__ == "__main__":
    main()
