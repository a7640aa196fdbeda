#!/usr/bin/env python3
"""isoalloc against glibc, mimalloc, jemalloc and tcmalloc on alloc_mixed.

Every allocator runs the same binary (build/bin/alloc_mixed) under
LD_PRELOAD, plus isoalloc linked statically (alloc_mixed_isoalloc). Runs are
interleaved (run r of every allocator and configuration before run r+1, the
allocator order rotated each round) and the median of --runs is printed with
the ratio to mimalloc in the same session. Then each allocator runs
--callgrind-ops ops (ws 400, 1 thread) under `valgrind --tool=callgrind`, and
the total instruction count of the whole process (start-up, the untimed
warm-up of ops/10 ops and the final frees included, nothing subtracted) is
divided by the op count.

  bench/alloc/run_alloc_bench.py [--build build] [--runs 7] [--markdown]
  bench/alloc/run_alloc_bench.py --quick        # smoke run: 3 runs, 2M ops
Stdlib only.
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys

LIBDIR = "/usr/lib/x86_64-linux-gnu"
PEERS = [
    ("glibc", None),
    ("mimalloc", f"{LIBDIR}/libmimalloc.so.2"),
    ("jemalloc", f"{LIBDIR}/libjemalloc.so.2"),
    ("tcmalloc", f"{LIBDIR}/libtcmalloc_minimal.so.4"),
]


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build", help="CMake build directory (default: build)")
    ap.add_argument("--runs", type=int, default=7, help="interleaved runs per cell; the median is shown")
    ap.add_argument("--ops", type=int, default=20_000_000, help="ops per thread and run")
    ap.add_argument("--callgrind-ops", type=int, default=2_000_000)
    ap.add_argument("--no-callgrind", action="store_true")
    ap.add_argument("--modes", default="mixed,replace", help="comma list of mixed,replace")
    ap.add_argument("--quick", action="store_true", help="smoke run: 3 runs, 2M ops, 200k callgrind ops")
    ap.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    args = ap.parse_args()
    if args.quick:
        args.runs, args.ops, args.callgrind_ops = 3, 2_000_000, 200_000
    return args


def allocators(build):
    bench = os.path.join(build, "bin")
    plain = os.path.join(bench, "alloc_mixed")
    linked = os.path.join(bench, "alloc_mixed_isoalloc")
    so = os.path.join(build, "lib", "libisoalloc.so")
    for path in (plain, linked, so):
        if not os.path.exists(path):
            sys.exit(f"run_alloc_bench: {path} is missing; build the alloc_mixed_isoalloc target first")
    out = [("isoalloc", plain, os.path.abspath(so)), ("isoalloc-linked", linked, None)]
    for name, lib in PEERS:
        if lib is None or os.path.exists(lib):
            out.append((name, plain, lib))
        else:
            print(f"note: {name} not found at {lib}, skipped", file=sys.stderr)
    return out


def env_for(preload):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ISO_ALLOC_") and k != "LD_PRELOAD"}
    if preload:
        env["LD_PRELOAD"] = preload
    return env


def run_once(binary, preload, ops, ws, threads, mode):
    cmd = [binary, str(ops), str(ws), "--threads", str(threads), "--mode", mode]
    out = subprocess.run(cmd, env=env_for(preload), capture_output=True, text=True, check=True).stdout
    m = re.search(r"Mops_s=([0-9.]+)", out)
    if not m:
        raise RuntimeError(f"unexpected output from {cmd}: {out!r}")
    return float(m.group(1))


def callgrind(binary, preload, ops):
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", binary, str(ops), "400"]
    res = subprocess.run(cmd, env=env_for(preload), capture_output=True, text=True)
    m = re.search(r"Collected\s*:\s*([0-9]+)", res.stderr)
    if res.returncode != 0 or not m:
        raise RuntimeError(f"callgrind failed for {binary} {preload}: {res.stderr[-500:]}")
    return int(m.group(1))


def table(headers, rows, markdown):
    if markdown:
        lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    fmt = "  ".join("{:<%d}" % w for w in widths)
    return "\n".join([fmt.format(*headers)] + [fmt.format(*r) for r in rows])


def main():
    args = parse_args()
    allocs = allocators(args.build)
    modes = [m for m in args.modes.split(",") if m]
    configs = []
    for mode in modes:
        for ws in (400, 8192):
            for threads in (1, 2):
                if mode == "replace" and threads == 2:
                    continue  # replace mode: one thread is enough to show it
                configs.append((mode, ws, threads))
    nproc = os.cpu_count() or 1
    print(f"alloc_mixed: {args.ops} ops/thread, {args.runs} interleaved runs, median; {nproc} CPUs", flush=True)

    results = {(c, a[0]): [] for c in configs for a in allocs}
    for r in range(args.runs):
        order = allocs[r % len(allocs):] + allocs[: r % len(allocs)]
        for c in configs:
            mode, ws, threads = c
            for name, binary, preload in order:
                results[(c, name)].append(run_once(binary, preload, args.ops, ws, threads, mode))
        print(f"  round {r + 1}/{args.runs} done", file=sys.stderr, flush=True)

    headers = ["mode", "ws", "threads"] + [a[0] for a in allocs] + ["isoalloc/mimalloc", "linked/mimalloc"]
    rows = []
    for c in configs:
        med = {a[0]: statistics.median(results[(c, a[0])]) for a in allocs}
        row = [c[0], str(c[1]), str(c[2])] + [f"{med[a[0]]:.1f}" for a in allocs]
        mi = med.get("mimalloc")
        row.append(f"{med['isoalloc'] / mi:.2f}x" if mi else "-")
        row.append(f"{med['isoalloc-linked'] / mi:.2f}x" if mi else "-")
        rows.append(row)
    print("\nM ops/s (median; one op = one malloc or one free in mixed mode, one free+malloc in replace mode)")
    print(table(headers, rows, args.markdown))

    if args.no_callgrind or shutil.which("valgrind") is None:
        return
    print(f"\ncallgrind: instructions per op, whole process / ops "
          f"(alloc_mixed {args.callgrind_ops} 400, mixed, 1 thread; warm-up and start-up included)")
    rows = []
    for name, binary, preload in allocs:
        total = callgrind(binary, preload, args.callgrind_ops)
        rows.append([name, f"{total:,}", f"{total / args.callgrind_ops:.1f}"])
    print(table(["allocator", "instructions", "per op"], rows, args.markdown))


if __name__ == "__main__":
    main()
