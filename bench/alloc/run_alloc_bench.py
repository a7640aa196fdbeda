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

With --modes ...,churn it also runs alloc_mixed's churn mode (sizes 1 B..1 MiB,
log-uniform by octave, every block's pattern checked before its free,
cross-thread frees within each pair of threads; see alloc_mixed.cc) at ws 400
with 1 and 2 threads, --churn-ops ops per thread, and prints a second table:
M ops/s, peak RSS (ru_maxrss) and RSS after everything is freed, per
allocator, with the ratios to mimalloc. churn is not in the default --modes:
at ~0.3-3 M ops/s it would make the default run several times longer.

  bench/alloc/run_alloc_bench.py [--build build] [--runs 7] [--markdown]
  bench/alloc/run_alloc_bench.py --quick        # smoke run: 3 runs, 2M ops
  bench/alloc/run_alloc_bench.py --modes churn --no-callgrind --markdown
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
    ap.add_argument("--churn-ops", type=int, default=2_000_000, help="ops per thread and run in churn mode")
    ap.add_argument("--modes", default="mixed,replace", help="comma list of mixed,replace,churn")
    ap.add_argument("--alloc-mixed", help="alloc_mixed binary to use (default: BUILD/bin/alloc_mixed)")
    ap.add_argument("--alloc-mixed-isoalloc",
                    help="alloc_mixed_isoalloc binary to use (default: BUILD/bin/alloc_mixed_isoalloc)")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 3 runs, 2M ops, 200k churn ops, 200k callgrind ops")
    ap.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    args = ap.parse_args()
    if args.quick:
        args.runs, args.ops, args.callgrind_ops, args.churn_ops = 3, 2_000_000, 200_000, 200_000
    return args


def supports_churn(binary):
    """An alloc_mixed built before churn mode existed prints a usage without it."""
    res = subprocess.run([binary, "--help"], capture_output=True, text=True)
    return "churn" in res.stderr


def allocators(args):
    bench = os.path.join(args.build, "bin")
    plain = args.alloc_mixed or os.path.join(bench, "alloc_mixed")
    linked = args.alloc_mixed_isoalloc or os.path.join(bench, "alloc_mixed_isoalloc")
    so = os.path.join(args.build, "lib", "libisoalloc.so")
    for path in (plain, linked, so):
        if not os.path.exists(path):
            sys.exit(f"run_alloc_bench: {path} is missing; build the alloc_mixed_isoalloc target first")
    plain, linked = os.path.abspath(plain), os.path.abspath(linked)
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


def run_churn(binary, preload, ops, ws, threads):
    """One churn run: (M ops/s, peak RSS KiB, RSS after the frees KiB)."""
    cmd = [binary, str(ops), str(ws), "--threads", str(threads), "--mode", "churn"]
    res = subprocess.run(cmd, env=env_for(preload), capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"run_alloc_bench: churn failed (rc {res.returncode}) for {cmd} "
                 f"LD_PRELOAD={preload or ''}:\n{res.stdout}{res.stderr}")
    m = re.search(r"Mops_s=([0-9.]+) peak_rss_kib=(-?[0-9]+) rss_after_kib=(-?[0-9]+)", res.stdout)
    if not m:
        raise RuntimeError(f"unexpected output from {cmd}: {res.stdout!r}")
    return float(m.group(1)), int(m.group(2)), int(m.group(3))


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


def ratio(value, base):
    return f"{value / base:.2f}x" if base else "-"


def churn_bench(args, allocs):
    """churn mode: ws 400, 1 and 2 threads; returns the table's rows."""
    runnable = []
    support = {}
    for a in allocs:
        if a[1] not in support:
            support[a[1]] = supports_churn(a[1])
        if support[a[1]]:
            runnable.append(a)
        else:
            print(f"note: {a[1]} has no churn mode (built before it?); {a[0]} skipped in churn",
                  file=sys.stderr)
    if not runnable:
        sys.exit("run_alloc_bench: no alloc_mixed binary with churn mode; rebuild alloc_mixed and "
                 "alloc_mixed_isoalloc, or pass --alloc-mixed / --alloc-mixed-isoalloc")
    configs = [(400, 1), (400, 2)]
    print(f"alloc_mixed churn: {args.churn_ops} ops/thread, {args.runs} interleaved runs, median", flush=True)
    results = {(c, a[0]): [] for c in configs for a in runnable}
    for r in range(args.runs):
        order = runnable[r % len(runnable):] + runnable[: r % len(runnable)]
        for c in configs:
            ws, threads = c
            for name, binary, preload in order:
                results[(c, name)].append(run_churn(binary, preload, args.churn_ops, ws, threads))
        print(f"  churn round {r + 1}/{args.runs} done", file=sys.stderr, flush=True)
    rows = []
    for c in configs:
        med = {}
        for name, _, _ in runnable:
            runs = results[(c, name)]
            med[name] = tuple(statistics.median(x[i] for x in runs) for i in range(3))
        mi = med.get("mimalloc")
        for name, _, _ in runnable:
            ops, peak, after = med[name]
            rows.append([str(c[0]), str(c[1]), name, f"{ops:.2f}", ratio(ops, mi[0] if mi else 0),
                         f"{peak / 1024:.1f}", ratio(peak, mi[1] if mi else 0), f"{after / 1024:.1f}"])
    return rows


def main():
    args = parse_args()
    allocs = allocators(args)
    modes = [m for m in args.modes.split(",") if m]
    for m in modes:
        if m not in ("mixed", "replace", "churn"):
            sys.exit(f"run_alloc_bench: unknown mode {m!r} (mixed, replace, churn)")
    churn = "churn" in modes
    modes = [m for m in modes if m != "churn"]
    configs = []
    for mode in modes:
        for ws in (400, 8192):
            for threads in (1, 2):
                if mode == "replace" and threads == 2:
                    continue  # replace mode: one thread is enough to show it
                configs.append((mode, ws, threads))
    nproc = os.cpu_count() or 1
    if configs:
        print(f"alloc_mixed: {args.ops} ops/thread, {args.runs} interleaved runs, median; {nproc} CPUs",
              flush=True)
        mixed_bench(args, allocs, configs)
    if churn:
        rows = churn_bench(args, allocs)
        print("\nchurn (alloc_mixed --mode churn, ws 400; sizes 1 B..1 MiB log-uniform by octave, every block "
              "checked before its free, every 4th free of thread 2p done by thread 2p+1): median M ops/s "
              "(one op = one malloc or one free), peak RSS (ru_maxrss, whole process incl. warm-up) and RSS "
              f"after everything is freed; {nproc} CPUs")
        print(table(["ws", "threads", "allocator", "M ops/s", "ops/s vs mimalloc", "peak RSS MiB",
                     "peak RSS vs mimalloc", "RSS after free MiB"], rows, args.markdown))

    if args.no_callgrind or shutil.which("valgrind") is None:
        return
    print(f"\ncallgrind: instructions per op, whole process / ops "
          f"(alloc_mixed {args.callgrind_ops} 400, mixed, 1 thread; warm-up and start-up included)")
    rows = []
    for name, binary, preload in allocs:
        total = callgrind(binary, preload, args.callgrind_ops)
        rows.append([name, f"{total:,}", f"{total / args.callgrind_ops:.1f}"])
    print(table(["allocator", "instructions", "per op"], rows, args.markdown))


def mixed_bench(args, allocs, configs):
    """The mixed/replace table, printed."""
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


if __name__ == "__main__":
    main()
