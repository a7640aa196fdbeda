#!/usr/bin/env python3
"""CPython's allocator choices inside `isolate run`, against python3 itself.

    PY=$(build/bin/isolate run -I -c 'import sys; print(sys.executable)')
    $PY bench/python/pymalloc_bench.py --isolate build/bin/isolate --python $PY [--cachegrind]

Runs the runner's workloads (and objects.py, an allocation-heavy one) under
python3 and under `isolate run` with ISO_PYMALLOC=pymalloc, isoalloc and
malloc, all four interleaved round by round (the order rotates), and prints
wall-time medians with the ratio to ISO_PYMALLOC=pymalloc; --cachegrind adds
instruction counts (workloads a tenth of the size). Every command's output must equal python3's first.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_vs_python import (BenchError, Samples, cachegrind_irefs, check_python_binary,  # noqa: E402
                           child_env, emit_context, fmt_ms, loadavg, quartiles, run_captured,
                           run_timed, table, workload)

ALLOCATORS = ("pymalloc", "isoalloc", "malloc")


def cases(quick: bool) -> list[tuple[str, list[str]]]:
    scale = 10 if quick else 1
    return [
        ("start: -c pass", ["-c", "pass"]),
        ("start: imports.py", [workload("imports.py")]),
        (f"loop.py {10**6 // scale}", [workload("loop.py"), str(10**6 // scale)]),
        (f"amortize.py {10**6 // scale}", [workload("amortize.py"), str(10**6 // scale)]),
        (f"objects.py {200000 // scale}", [workload("objects.py"), str(200000 // scale)]),
    ]


def commands(python: str, isolate: str) -> dict[str, list[str]]:
    return {"python3": [python], **{a: [isolate, "run"] for a in ALLOCATORS}}


def environments(base: dict[str, str]) -> dict[str, dict[str, str]]:
    return {"python3": base, **{a: dict(base, ISO_PYMALLOC=a) for a in ALLOCATORS}}


def check_outputs(name: str, argvs: dict[str, list[str]], envs: dict[str, dict[str, str]]) -> None:
    ref = run_captured(argvs["python3"], envs["python3"])
    if ref.returncode != 0:
        raise BenchError(f"{name}: python3 exited with {ref.returncode}")
    for who, argv in argvs.items():
        got = run_captured(argv, envs[who])
        if (got.returncode, got.stdout, got.stderr) != (ref.returncode, ref.stdout, ref.stderr):
            raise BenchError(f"{name}: {who} differs from python3: {shlex.join(argv)}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--isolate", required=True, help="path of build/bin/isolate")
    ap.add_argument("--python", required=True, help="the build's real python3.x (not a shim)")
    ap.add_argument("--repeats", type=int, default=7, help="interleaved rounds per case (7)")
    ap.add_argument("--quick", action="store_true", help="workloads a tenth of the size, 3 rounds")
    ap.add_argument("--cachegrind", action="store_true", help="also count instructions")
    ap.add_argument("--markdown", action="store_true", help="print Markdown tables")
    opts = ap.parse_args()
    repeats = 3 if opts.quick else opts.repeats
    try:
        python = check_python_binary(opts.python)
        cmds = commands(python, os.path.abspath(opts.isolate))
        envs = environments(child_env())
        started = time.perf_counter()
        emit_context([("python", python), ("load at start", loadavg())], opts.markdown)
        print()
        rows, crows = [], []
        # cachegrind runs the small sizes: valgrind is ~50x slower.
        for (name, args), (small_name, small_args) in zip(cases(opts.quick), cases(True)):
            argvs = {who: cmd + args for who, cmd in cmds.items()}
            print(f"  running {name} ({repeats} rounds)...", file=sys.stderr, flush=True)
            check_outputs(name, argvs, envs)
            samples = {who: Samples() for who in argvs}
            order = list(argvs)
            for r in range(repeats):
                for who in order[r % len(order):] + order[:r % len(order)]:
                    run_timed(argvs[who], envs[who], samples[who])
            med = {who: statistics.median(s.wall_ns) / 1e6 for who, s in samples.items()}
            row = [name]
            for who in argvs:
                lo, hi = quartiles([x / 1e6 for x in samples[who].wall_ns])
                row.append(f"{fmt_ms(med[who])} ({fmt_ms(lo)}–{fmt_ms(hi)})")
            row += [f"{med['isoalloc'] / med['pymalloc']:.3f}", f"{med['malloc'] / med['pymalloc']:.3f}"]
            rows.append(row)
            if opts.cachegrind:
                print(f"  cachegrind {small_name}...", file=sys.stderr, flush=True)
                irefs = {who: cachegrind_irefs(cmd + small_args, envs[who]) for who, cmd in cmds.items()}
                crows.append([small_name] + [f"{irefs[who]:,}" for who in argvs]
                             + [f"{irefs['isoalloc'] / irefs['pymalloc']:.3f}",
                                f"{irefs['malloc'] / irefs['pymalloc']:.3f}"])
        heads = ["case"] + [f"{who} ms (IQR)" for who in cmds] + ["isoalloc/pymalloc", "malloc/pymalloc"]
        print(f"Wall time, median of {repeats} interleaved rounds (isolate run with ISO_PYMALLOC=…)\n")
        print(table(heads, rows, opts.markdown))
        if crows:
            print("\nInstructions (valgrind cachegrind, --cache-sim=no)\n")
            print(table(["case"] + list(cmds) + ["isoalloc/pymalloc", "malloc/pymalloc"], crows,
                        opts.markdown))
        print()
        emit_context([("load at end", loadavg()), ("bench time", f"{time.perf_counter() - started:.1f} s")],
                     opts.markdown)
    except BenchError as e:
        print(f"pymalloc_bench.py: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
