#!/usr/bin/env python3
"""iso::parallel_for against TBB and OpenMP: build/bin/exec_busy_work, interleaved.

Each round runs every group of benchmarks in its own process, the groups in a
new random order each round (and Google Benchmark's random interleaving inside
a process). Separate processes keep one runtime's idle spinning threads from
taking the CPU of another's. The medians over --rounds rounds are printed with
their ratios: to the 2-core limit (the plain loop's time / CPUs), to TBB, and
of automatic chunking to the best fixed chunk of the sweep; then the floors of
issue 4, each met or not.

  bench/exec/run_exec_bench.py [--build build] [--rounds 5] [--min-time 0.3] [--markdown]
  bench/exec/run_exec_bench.py --quick          # smoke run: 2 rounds, 0.05 s per benchmark
Stdlib only.
"""
import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time

SIZES = [10000, 50000, 100000]
SWEEP = [250, 500, 1000, 2000, 4000]
SMALL = [64, 256, 1024, 4096]
DISPATCH = ["seq_direct", "auto_chunked", "fnptr", "tbb_auto", "omp_static"]

# One process per group and round.
GROUPS = {
    "seq": r"^(heavy|light)/(seq_direct|runtime_seq)/",
    "iso": r"^(heavy|light)/(dyn|fnptr|auto_chunked)/",
    "iso_sweep": r"^(heavy|light)/sweep_",
    "iso_cursor": r"^(heavy|light)/cursor_",
    "tbb": r"^(heavy|light)/tbb_",
    "omp": r"^(heavy|light)/omp_",
    "small_seq": r"^small/seq_direct/",
    "small_iso": r"^small/auto_chunked/",
    "small_tbb": r"^small/tbb_auto/",
}
GROUPS.update({f"dispatch_{v}": f"^dispatch/{v}/" for v in DISPATCH})


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build", help="CMake build directory (default: build)")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds; medians are printed")
    ap.add_argument("--min-time", type=float, default=0.3, help="seconds per benchmark and round")
    ap.add_argument("--groups", default=",".join(GROUPS), help="comma list of groups to run")
    ap.add_argument("--quick", action="store_true", help="smoke run: 2 rounds, 0.05 s per benchmark")
    ap.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    ap.add_argument("--json", help="also write all samples to this file")
    ap.add_argument("--max-others", type=float, default=0.1,
                    help="repeat a run during which other processes used more CPUs than this (default 0.1)")
    ap.add_argument("--retries", type=int, default=12, help="repeats of a disturbed run before keeping it")
    args = ap.parse_args()
    if args.quick:
        args.rounds, args.min_time = 2, 0.05
    return args


def busy_seconds():
    """CPU seconds all processes have used (user, nice, system, irq, softirq)."""
    with open("/proc/stat") as f:
        fields = f.readline().split()[1:]
    ticks = sum(int(fields[i]) for i in (0, 1, 2, 5, 6))
    return ticks / os.sysconf("SC_CLK_TCK")


def children_seconds():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def run_once(cmd):
    """Runs cmd; returns the CPUs other processes used meanwhile (0.5: half a CPU)."""
    t0, b0, c0 = time.monotonic(), busy_seconds(), children_seconds()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        sys.exit(f"run_exec_bench: {' '.join(cmd)} failed:\n{proc.stderr}")
    wall = time.monotonic() - t0
    others = (busy_seconds() - b0) - (children_seconds() - c0)
    return max(0.0, others / wall)


def run_group(binary, pattern, min_time, max_others, retries, stats):
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        cmd = [binary, f"--benchmark_filter={pattern}", f"--benchmark_min_time={min_time}",
               "--benchmark_enable_random_interleaving=true", f"--benchmark_out={out.name}",
               "--benchmark_out_format=json"]
        # A run during which other processes took more than max_others CPUs
        # is repeated (after a pause): this machine is shared.
        for attempt in range(retries + 1):
            others = run_once(cmd)
            if others <= max_others:
                break
            stats["repeated"] += 1
            if attempt < retries:
                time.sleep(5)
        else:
            stats["kept_disturbed"] += 1
        stats["others"].append(others)
        with open(out.name) as f:
            report = json.load(f)
    samples = {}
    for b in report["benchmarks"]:
        if b.get("run_type") != "iteration":
            continue
        if "error_occurred" in b and b["error_occurred"]:
            sys.exit(f"run_exec_bench: {b['name']}: {b.get('error_message')}")
        name = b["name"].removesuffix("/manual_time")
        scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}[b["time_unit"]]
        t = b["real_time"] * scale
        if name.startswith("dispatch/"):
            t /= b["calls_per_iteration"]
        samples[name] = t
    return samples


def load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


class Table:
    def __init__(self, markdown):
        self.markdown = markdown

    def print(self, title, header, rows):
        print()
        print(title)
        if self.markdown:
            print("| " + " | ".join(header) + " |")
            print("|" + "---|" * len(header))
            for r in rows:
                print("| " + " | ".join(r) + " |")
        else:
            widths = [max(len(x) for x in col) for col in zip(header, *rows)]
            for r in [header] + rows:
                print("  ".join(x.rjust(w) for x, w in zip(r, widths)))


def fmt_us(t):
    if t is None:
        return "-"
    return f"{t:.3f}" if t < 10 else f"{t:.1f}" if t < 1000 else f"{t:.0f}"


def main():
    args = parse_args()
    binary = os.path.join(args.build, "bin", "exec_busy_work")
    if not os.path.exists(binary):
        sys.exit(f"run_exec_bench: {binary} is missing; build the exec_busy_work target first")
    cpus = len(os.sched_getaffinity(0))
    groups = [g for g in args.groups.split(",") if g]
    all_samples = {}
    print(f"exec_busy_work: {args.rounds} rounds, {args.min_time} s per benchmark, {cpus} CPUs, "
          f"load average {load()} at start", flush=True)
    stats = {"others": [], "repeated": 0, "kept_disturbed": 0}
    for r in range(args.rounds):
        order = groups[:]
        random.shuffle(order)
        for g in order:
            for name, t in run_group(binary, GROUPS[g], args.min_time, args.max_others, args.retries,
                                     stats).items():
                all_samples.setdefault(name, []).append(t)
        print(f"  round {r + 1}/{args.rounds} done, load average {load()}", file=sys.stderr, flush=True)
    kept = stats["others"]
    print(f"load average {load()} at end; {len(kept)} process runs, {stats['repeated']} repeated because other "
          f"processes used > {args.max_others} CPU, {stats['kept_disturbed']} kept disturbed after "
          f"{args.retries} repeats; other processes' CPU use in the runs kept: median {statistics.median(kept):.3f}, "
          f"max {max(kept):.3f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(all_samples, f, indent=1)

    med = {k: statistics.median(v) for k, v in all_samples.items()}

    def spread(name):
        v = all_samples.get(name)
        if not v or len(v) < 2:
            return None
        m = statistics.median(v)
        return statistics.median([abs(x - m) for x in v]) / m

    def get(body, variant, n, chunk=None):
        key = f"{body}/{variant}/{n}" + (f"/{chunk}" if chunk else "")
        return med.get(key)

    def best(body, variant, n):
        ts = [(get(body, variant, n, c), c) for c in SWEEP if get(body, variant, n, c) is not None]
        return min(ts) if ts else (None, None)

    table = Table(args.markdown)
    floors = []
    for body, iters in (("heavy", 512), ("light", 8)):
        if get(body, "seq_direct", SIZES[0]) is None:
            continue
        cols = ["seq_direct", "runtime_seq", "dyn", "fnptr", "dyn_chunked", "fnptr_chunked", "auto_chunked",
                "tbb_auto", "tbb_static", "omp_static", "omp_guided"]
        rows, ratio_rows = [], []
        for n in SIZES:
            limit = get(body, "seq_direct", n) / cpus
            vals = {c: get(body, c, n) for c in cols}
            vals["dyn_chunked"], dyn_c = best(body, "sweep_dyn", n)
            vals["fnptr_chunked"], fn_c = best(body, "sweep_fnptr", n)
            cells = []
            for c in cols:
                s = fmt_us(vals[c])
                if c == "dyn_chunked" and dyn_c:
                    s += f" ({dyn_c})"
                if c == "fnptr_chunked" and fn_c:
                    s += f" ({fn_c})"
                cells.append(s)
            rows.append([f"{n // 1000}k"] + cells + [fmt_us(limit)])
            ratio_rows.append([f"{n // 1000}k"] + [f"{limit / vals[c]:.3f}" if vals[c] else "-" for c in cols])
            auto, tbb_a, tbb_s = vals["auto_chunked"], vals["tbb_auto"], vals["tbb_static"]
            sp = max(spread(f"{body}/auto_chunked/{n}") or 0, spread(f"{body}/tbb_auto/{n}") or 0)
            if body == "heavy":
                need = 0.95 if n == 10000 else 0.97
                floors.append((f"heavy {n // 1000}k: auto_chunked >= {need} x 2-core limit",
                               limit / auto >= need, f"{limit / auto:.3f}"))
                if tbb_a:
                    floors.append((f"heavy {n // 1000}k: auto_chunked not below tbb_auto by more than noise "
                                   f"(spread {sp:.1%})", tbb_a / auto >= 1 - max(sp, 0.01),
                                   f"tbb/auto time {tbb_a / auto:.3f}"))
            if body == "light" and tbb_s:
                floors.append((f"light {n // 1000}k: auto_chunked (static dispatch) >= tbb_static",
                               tbb_s / auto >= 1 - max(sp, 0.01), f"tbb_static/auto time {tbb_s / auto:.3f}"))
            if vals["fnptr_chunked"]:
                floors.append((f"{body} {n // 1000}k: auto_chunked within 3% of the best fixed chunk ({fn_c})",
                               auto <= 1.03 * vals["fnptr_chunked"],
                               f"auto/best {auto / vals['fnptr_chunked']:.3f}"))
        table.print(f"{body} body (busy_work(x, {iters})): median µs per batch; (C) = best chunk of the sweep",
                    ["n"] + cols + ["2-core limit"], rows)
        table.print(f"{body} body: fraction of the 2-core limit (limit time / time; 1.0 = the limit)",
                    ["n"] + cols, ratio_rows)

        sweep_rows = []
        for c in SWEEP:
            row = [str(c)]
            for variant in ("sweep_fnptr", "sweep_dyn"):
                for n in SIZES:
                    t = get(body, variant, n, c)
                    b, _ = best(body, variant, n)
                    row.append("-" if t is None else f"{fmt_us(t)} ({t / b:.3f})")
            sweep_rows.append(row)
        auto_row = ["auto"] + [
            f"{fmt_us(get(body, 'auto_chunked', n))} ({get(body, 'auto_chunked', n) / best(body, 'sweep_fnptr', n)[0]:.3f})"
            if get(body, "auto_chunked", n) and best(body, "sweep_fnptr", n)[0] else "-" for n in SIZES] + ["-"] * 3
        sweep_rows.append(auto_row)
        table.print(f"{body} body: chunk-size sweep, median µs (time / best fixed chunk of the column)",
                    ["chunk"] + [f"fnptr {n // 1000}k" for n in SIZES] + [f"dyn {n // 1000}k" for n in SIZES],
                    sweep_rows)

        cur_rows = []
        for label, steal, cursor in (("fixed(1)", ("fnptr", None), ("cursor_fnptr", None)),
                                     ("fixed(250)", ("sweep_fnptr", 250), ("cursor_sweep_fnptr", 250)),
                                     ("automatic", ("auto_chunked", None), ("cursor_auto", None))):
            row = [label]
            for n in SIZES:
                ts, tc = get(body, steal[0], n, steal[1]), get(body, cursor[0], n, cursor[1])
                row.append("-" if not ts or not tc else f"{fmt_us(ts)} / {fmt_us(tc)} ({tc / ts:.3f})")
            cur_rows.append(row)
        table.print(f"{body} body: Schedule::stealing / Schedule::shared_cursor, median µs (cursor / stealing)",
                    ["chunking"] + [f"{n // 1000}k" for n in SIZES], cur_rows)

    if med.get("dispatch/seq_direct/2") is not None:
        rows = [[v, fmt_us(med.get(f"dispatch/{v}/2"))] for v in DISPATCH]
        table.print("dispatch: one loop over 2 items (body stores one int), median µs per call", ["variant", "µs"],
                    rows)
        a, f_, t = (med.get(f"dispatch/{v}/2") for v in ("auto_chunked", "fnptr", "tbb_auto"))
        if a and t:
            floors.append(("dispatch (2 items, default chunking) <= tbb_auto", a <= t, f"{a:.3f} vs {t:.3f} µs"))
        if f_ and t:
            floors.append(("dispatch (2 items, fixed(1): through the threads) <= tbb_auto", f_ <= t,
                           f"{f_:.3f} vs {t:.3f} µs"))

    if med.get(f"small/seq_direct/{SMALL[0]}") is not None:
        rows = []
        for n in SMALL:
            s, a, t = (med.get(f"small/{v}/{n}") for v in ("seq_direct", "auto_chunked", "tbb_auto"))
            rows.append([str(n), fmt_us(s), fmt_us(a), fmt_us(t), f"{s / a:.3f}" if a else "-",
                         f"{s / t:.3f}" if t else "-"])
            if a:
                floors.append((f"small light batch of {n}: auto_chunked never slower than the plain loop (5%)",
                               a <= 1.05 * s, f"seq/auto time {s / a:.3f}"))
        table.print("small light batches: median µs; speed-up over the plain loop",
                    ["n", "seq_direct", "auto_chunked", "tbb_auto", "auto speed-up", "tbb speed-up"], rows)

    print()
    print("floors (issue 4):")
    for what, ok, detail in floors:
        print(f"  {'met    ' if ok else 'NOT MET'}  {what}: {detail}")


if __name__ == "__main__":
    main()
