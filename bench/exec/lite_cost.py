#!/usr/bin/env python3
"""What the executor's cost measurements cost: exec_busy_work against
exec_busy_work_lite (the same program on the executor built with
ISO_EXEC_LITE, which times nothing and cuts 8 chunks per thread), each round
running the two in a random order, medians over the rounds.

The rows: automatic chunking on heavy (~2.4 us) and light (~15 ns) items,
small light batches (which the measuring build learns to run inline), and
the cost of one call of 2 items; fixed(1) chunking (`fnptr`), which neither
build times, is the control for the noise; `dispatch/clock_pair` is the two
clock reads a measuring call adds to one timed chunk.

  bench/exec/lite_cost.py [--build build] [--rounds 7] [--min-time 0.2] [--markdown]
Stdlib only; uses run_exec_bench.py's runner.
"""
import argparse
import os
import random
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_exec_bench as reb  # noqa: E402

PATTERN = r"^(heavy|light)/(auto_chunked|fnptr)/|^small/auto_chunked/|^dispatch/(auto_chunked|fnptr|clock_pair)/"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--min-time", type=float, default=0.2)
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--max-others", type=float, default=0.1,
                    help="repeat a run during which other processes used more CPUs than this")
    args = ap.parse_args()
    binaries = {v: os.path.join(args.build, "bin", b) for v, b in
                (("measuring", "exec_busy_work"), ("lite", "exec_busy_work_lite"))}
    for b in binaries.values():
        if not os.path.exists(b):
            sys.exit(f"lite_cost: {b} is missing; build the exec_busy_work and exec_busy_work_lite targets")
    stats = {"repeated": 0, "kept_disturbed": 0, "others": []}
    samples = {v: {} for v in binaries}
    for _ in range(args.rounds):
        order = list(binaries)
        random.shuffle(order)
        for v in order:
            got = reb.run_group(binaries[v], PATTERN, args.min_time, args.max_others, 6, stats)
            for name, t in got.items():
                samples[v].setdefault(name, []).append(t)
    print(f"exec_busy_work vs exec_busy_work_lite: {args.rounds} rounds, {args.min_time} s each, "
          f"load {reb.load()}, runs repeated for other load: {stats['repeated']}, "
          f"kept disturbed: {stats['kept_disturbed']}")
    rows = []
    for name in sorted(samples["measuring"]):
        full = statistics.median(samples["measuring"][name])
        lite = statistics.median(samples["lite"].get(name, [float("nan")]))
        spread = lambda v: (max(samples[v][name]) - min(samples[v][name])) / statistics.median(samples[v][name])
        rows.append([name, reb.fmt_us(full), f"{100 * spread('measuring'):.0f}%", reb.fmt_us(lite),
                     f"{100 * spread('lite'):.0f}%", f"{lite / full:.2f}"])
    reb.Table(args.markdown).print("us per batch (dispatch: per call); lite/measuring above 1: the lite build is slower",
                                   ["benchmark", "measuring", "spread", "lite", "spread", "lite/measuring"], rows)


if __name__ == "__main__":
    main()
