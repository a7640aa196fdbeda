#!/usr/bin/env python3
"""The family_* allocator shapes, plus alloc_mixed, against glibc, mimalloc,
jemalloc, tcmalloc and isoalloc.

Every allocator runs the same binaries (BUILD/bin/family_*, BUILD/bin/alloc_mixed),
glibc without LD_PRELOAD, the others with LD_PRELOAD set to
  mimalloc  /usr/lib/x86_64-linux-gnu/libmimalloc.so.2
  jemalloc  /usr/lib/x86_64-linux-gnu/libjemalloc.so.2
  tcmalloc  /usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4
  isoalloc  BUILD/lib/libisoalloc.so
(ISO_ALLOC_* variables are removed from the children's environment; --variant
adds isoalloc columns with settings of their own.) Runs are
interleaved: round r of every shape and allocator before round r + 1, the
allocator order rotated by one each round. Per shape it prints a table with
the median (over --runs) of the program's own time_s (its timed region, not
the process's life) and of its rate, the speed ratio to mimalloc (mimalloc's
median time / this one's: > 1 means faster than mimalloc), the median peak RSS
and its ratio to mimalloc's (> 1 means more memory), and the time spread
(max - min) / median. Peak RSS is the peak_rss_kib the family_* programs print
(VmHWM of their own address space). For alloc_mixed, which prints none, it is
ru_maxrss of the child from os.wait4 -- but Linux folds the address space a
child replaces at exec (here the runner's, ~15 MiB) into ru_maxrss, so a value
at or below the runner's own peak only says "at most that": it is shown as
"<=X (floor)" and left out of the ratios.
Then a summary: per shape, isoalloc's speed and RSS ratios to mimalloc, and the
geometric mean of every allocator's speed ratios over the shapes. The load
average and the time of 200 runs of /bin/true are printed at the start and at
the end, as a noise indicator (someone else may be using the machine).

A run that exits non-zero, is killed, times out or prints no time_s line is
reported as FAIL in its cell and in a list at the end, with its command and
the tail of its stderr; the script then exits 1.

Shapes and the arguments used (the programs' defaults; see each .cc), with the
approximate glibc time of one run on the 2-core VM they were tuned on (a
Firecracker guest shared with other work, where a page fault costs ~10 us;
extrapolated from short runs):
  mixed          alloc_mixed (20000000 ops, ws 400, 1 thread)              ~0.4 s
  xmalloc        family_xmalloc --split --ops 10000000 (xmalloc-test's
                 shape: one thread only mallocs 64-B blocks, the other only
                 frees them, in batches of 64)
  xmalloc-ring   family_xmalloc (2 threads, 5000000 64-B blocks each,
                 freed by the other thread in batches of 64)                ~1.5-4 s
  mstress        family_mstress (2 threads x 10 rounds x 200000 ops,
                 50000 slots each, transfer array of 4096)                  ~0.8 s
  simple         family_simple --pairs 400000 (11 sizes x 4 counts)        ~15 s
                 (glibc trims and re-faults its heap in 9 of the 44
                 combinations; the other allocators take ~0.15-0.4 s)
  large          family_large --iters 40 (40 x new char[5..25 MiB](), 20
                 slots; mimalloc takes ~8 s here, faulting every page)      ~1.6 s
  larson         family_larson (2 threads x 10000000 ops, 1000 slots of
                 16..512 B, a new thread every 100000 ops)                  ~0.5-2 s
  cache_scratch  family_cache_scratch (2 threads x 500000 x 1000 writes
                 to a fresh 8-B block)                                      ~0.5-1 s
--quick runs each with much smaller sizes (~0.01-0.15 s each; a round of all
shapes and allocators takes ~5 s, so even the default 3 runs stay < 30 s).
Its numbers are too short to mean much: it is a smoke test.

  bench/alloc/run_family.py [--build build] [--runs 3] [--markdown]
  bench/alloc/run_family.py --quick --runs 1         # smoke test
  bench/alloc/run_family.py --shapes xmalloc,larson --allocators mimalloc,isoalloc
Build the targets first: cmake --build build --target alloc_mixed family_xmalloc
family_mstress family_simple family_large family_larson family_cache_scratch
(and isoalloc for libisoalloc.so). Stdlib only.
"""
import argparse
import math
import os
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_alloc_bench import PEERS, table  # noqa: E402  (the peers and the table printer of both scripts)

# (name, preload); None means the process's own malloc (glibc). "{build}" is --build.
ALLOCATORS = [*PEERS, ("isoalloc", "{build}/lib/libisoalloc.so")]

# (name, binary, default args, --quick args, rate unit)
SHAPES = [
    ("mixed", "alloc_mixed", [], ["2000000", "400"], "M ops/s"),
    ("xmalloc", "family_xmalloc", ["--split", "--ops", "10000000"], ["--split", "--ops", "200000"], "frees/s"),
    ("xmalloc-ring", "family_xmalloc", [], ["--ops", "200000"], "frees/s"),
    ("mstress", "family_mstress", [], ["--rounds", "3", "--iters", "30000", "--slots", "10000"], "ops/s"),
    ("simple", "family_simple", ["--pairs", "400000"], ["--pairs", "2000"], "pairs/s"),
    ("large", "family_large", ["--iters", "40"], ["--iters", "10", "--slots", "4", "--min-mib", "2", "--max-mib", "6"],
     "iters/s"),
    ("larson", "family_larson", [], ["--ops", "200000", "--rounds-ops", "20000"], "ops/s"),
    ("cache_scratch", "family_cache_scratch", [], ["--iters", "20000"], "writes/s"),
]
BASE = "mimalloc"
FOCUS = "isoalloc"


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build", help="CMake build directory (default: build)")
    ap.add_argument("--runs", type=int, default=3, help="interleaved runs per cell; the median is shown")
    ap.add_argument("--shapes", default=",".join(s[0] for s in SHAPES),
                    help="comma list of shapes (default: all)")
    ap.add_argument("--allocators", default=",".join(a[0] for a in ALLOCATORS),
                    help="comma list of allocators (default: all)")
    ap.add_argument("--quick", action="store_true", help="small sizes: a smoke test, not a measurement")
    ap.add_argument("--timeout", type=float, default=300, help="seconds before a run is killed (default 300)")
    ap.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    ap.add_argument("--variant", action="append", default=[], metavar="NAME:VAR=V[,VAR=V...]",
                    help="one more column: isoalloc preloaded with these ISO_ALLOC_* settings, e.g. "
                         "nokeep:ISO_ALLOC_FOREIGN_KIB=0 (repeatable)")
    args = ap.parse_args()
    if args.runs < 1:
        ap.error("--runs must be >= 1")
    return args


def pick(kind, wanted, table):
    names = [t[0] for t in table]
    out = []
    for w in [w for w in wanted.split(",") if w]:
        if w not in names:
            sys.exit(f"run_family: unknown {kind} {w!r} (known: {', '.join(names)})")
        out.append(table[names.index(w)])
    if not out:
        sys.exit(f"run_family: no {kind} selected")
    return out


def resolve(args):
    shapes = []
    for name, binary, default, quick, unit in pick("shape", args.shapes, SHAPES):
        path = os.path.abspath(os.path.join(args.build, "bin", binary))
        if not os.path.exists(path):
            sys.exit(f"run_family: {path} is missing; build the {binary} target first")
        shapes.append((name, path, quick if args.quick else default, unit))
    allocs = []
    for name, lib in pick("allocator", args.allocators, ALLOCATORS):
        if lib is not None:
            lib = os.path.abspath(lib.format(build=args.build))
            if not os.path.exists(lib):
                sys.exit(f"run_family: {name}: {lib} is missing (build it, or leave {name} out of --allocators)")
        allocs.append((name, lib))
    iso_lib = os.path.abspath(dict(ALLOCATORS)[FOCUS].format(build=args.build))
    for spec in args.variant:
        name, _, settings = spec.partition(":")
        pairs = [s.partition("=") for s in settings.split(",") if s]
        if not name or not pairs or any(not k.startswith("ISO_ALLOC_") or not eq for k, eq, _ in pairs):
            sys.exit(f"run_family: --variant {spec!r}: expected NAME:ISO_ALLOC_VAR=VALUE[,...]")
        if name in VARIANT_ENV or name in dict(ALLOCATORS):
            sys.exit(f"run_family: --variant {spec!r}: the name {name!r} is taken")
        if not os.path.exists(iso_lib):
            sys.exit(f"run_family: {iso_lib} is missing; build the isoalloc target first")
        VARIANT_ENV[name] = {k: v for k, _, v in pairs}
        allocs.append((name, iso_lib))
    return shapes, allocs


# --variant columns: name -> the ISO_ALLOC_* settings of its runs.
VARIANT_ENV = {}


def env_for(preload, settings=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ISO_ALLOC_") and k != "LD_PRELOAD"}
    if preload:
        env["LD_PRELOAD"] = preload
    env.update(settings or {})
    return env


def tail(data, lines=5):
    text = data.decode(errors="replace").strip()
    return "\n".join(text.splitlines()[-lines:])


def run_one(cmd, preload, timeout, settings=None):
    """One child: a dict with ok, time, rate, rss_kib, rss_floor, or ok False and why.

    rss_kib is the peak_rss_kib the program prints (its VmHWM) where it prints
    one. Otherwise it is ru_maxrss from wait4, which Linux never lets fall
    below this script's own peak RSS at the spawn (exec folds the parent's
    address space into it): rss_floor says the real peak was at most that.
    """
    floor = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, env=env_for(preload, settings), stdout=out, stderr=err)
        deadline = time.monotonic() + timeout
        nap = 0.001
        timed_out = False
        # wait4 rather than Popen.wait: it hands back the child's rusage.
        while True:
            pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                pid, status, ru = os.wait4(proc.pid, 0)
                timed_out = True
                break
            time.sleep(nap)
            nap = min(nap * 2, 0.05)  # short runs are noticed quickly, long ones polled rarely
        rc = os.waitstatus_to_exitcode(status)
        proc.returncode = rc  # already reaped: keep Popen from waiting on it
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    res = {"ok": False, "rss_kib": ru.ru_maxrss, "rss_floor": ru.ru_maxrss <= floor, "stderr": tail(stderr),
           "stdout": tail(stdout)}
    if timed_out:
        res["why"] = f"timed out after {timeout:g} s"
        return res
    if rc < 0:
        res["why"] = f"killed by {signal.Signals(-rc).name}"
        return res
    if rc != 0:
        first = res["stderr"].splitlines()[-1] if res["stderr"] else "(no stderr)"
        res["why"] = f"exit {rc}: {first}"
        return res
    line = next((l for l in reversed(stdout.decode(errors="replace").splitlines()) if "time_s=" in l), None)
    fields = dict(re.findall(r"(\w+)=(\S+)", line or ""))
    try:
        res["time"] = float(fields["time_s"])
        res["rate"] = float(fields["Mops_s"] if "Mops_s" in fields else fields["rate"])
        if res["time"] <= 0:
            res["why"] = f"time_s={fields['time_s']}: too short to time (raise its sizes)"
            return res
        if int(fields.get("peak_rss_kib", "-1")) >= 0:
            res["rss_kib"], res["rss_floor"] = int(fields["peak_rss_kib"]), False
    except (KeyError, ValueError):
        res["why"] = "no time_s/rate in its output"
        return res
    res["ok"] = True
    return res


def noise():
    t0 = time.perf_counter()
    for _ in range(200):
        subprocess.run(["/bin/true"], check=False)
    return time.perf_counter() - t0


def machine_line(label):
    la = os.getloadavg()
    spawn = noise()
    return (f"{label}: load average {la[0]:.2f} {la[1]:.2f} {la[2]:.2f}; /bin/true x200 {spawn * 1000:.0f} ms "
            f"({spawn / 200 * 1e6:.0f} us each)")


def fmt_rate(v):
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if v >= div:
            return f"{v / div:.2f}{suffix}"
    return f"{v:.2f}"


def summarize(runs):
    """Medians of the successful runs, or None when any run failed."""
    if not runs or not all(r["ok"] for r in runs):
        return None
    times = [r["time"] for r in runs]
    med = statistics.median(times)
    return {
        "time": med,
        "rate": statistics.median(r["rate"] for r in runs),
        "rss": statistics.median(r["rss_kib"] for r in runs),
        "rss_floor": any(r["rss_floor"] for r in runs),
        "spread": (max(times) - min(times)) / med if med > 0 else 0.0,
    }


def rss_ratio(m, base):
    """m's peak RSS over base's, or "-" where either is only known as "at most the floor"."""
    if not m or not base or not base["rss"] or m["rss_floor"] or base["rss_floor"]:
        return "-"
    return f"{m['rss'] / base['rss']:.2f}x"


def main():
    args = parse_args()
    shapes, allocs = resolve(args)
    print(f"run_family: {len(shapes)} shapes x {len(allocs)} allocators x {args.runs} interleaved runs"
          f"{' (--quick: smoke sizes, not a measurement)' if args.quick else ''}; {os.cpu_count()} CPUs")
    print(machine_line("start"), flush=True)

    results = {(s[0], a[0]): [] for s in shapes for a in allocs}
    failures = []
    for r in range(args.runs):
        order = allocs[r % len(allocs):] + allocs[: r % len(allocs)]
        for name, binary, sargs, _ in shapes:
            for aname, preload in order:
                cmd = [binary] + sargs
                res = run_one(cmd, preload, args.timeout, VARIANT_ENV.get(aname))
                results[(name, aname)].append(res)
                if not res["ok"]:
                    failures.append((name, aname, r + 1, cmd, preload, res))
                    print(f"  FAIL {name}/{aname} run {r + 1}: {res['why']}", file=sys.stderr, flush=True)
        print(f"  round {r + 1}/{args.runs} done", file=sys.stderr, flush=True)

    print(machine_line("end"))
    med = {k: summarize(v) for k, v in results.items()}
    for name, binary, sargs, unit in shapes:
        base = med.get((name, BASE))
        rows = []
        for aname, _ in allocs:
            m = med[(name, aname)]
            if m is None:
                bad = sum(1 for x in results[(name, aname)] if not x["ok"])
                rows.append([aname, f"FAIL ({bad}/{len(results[(name, aname)])} runs)", "-", "-", "-", "-", "-"])
                continue
            rows.append([
                aname, f"{m['time']:.4f}", fmt_rate(m["rate"]),
                f"{base['time'] / m['time']:.2f}x" if base else "-",
                f"<={m['rss'] / 1024:.1f} (floor)" if m["rss_floor"] else f"{m['rss'] / 1024:.1f}",
                rss_ratio(m, base),
                f"{m['spread'] * 100:.0f}%",
            ])
        print(f"\n{name}: {os.path.basename(binary)} {' '.join(sargs)}".rstrip())
        print(table(["allocator", "time s (median)", f"rate ({unit})", f"speed vs {BASE}", "peak RSS MiB",
                     f"RSS vs {BASE}", "time spread"], rows, args.markdown))

    print(f"\nsummary: speed = {BASE} time / {FOCUS} time (> 1: {FOCUS} faster); "
          f"RSS = {FOCUS} peak RSS / {BASE} peak RSS (> 1: {FOCUS} uses more)")
    rows = []
    speed = {a[0]: [] for a in allocs}
    for name, _, _, _ in shapes:
        base = med.get((name, BASE))
        for aname, _ in allocs:
            m = med.get((name, aname))
            if base and m:
                speed[aname].append(base["time"] / m["time"])
        f = med.get((name, FOCUS))
        if (name, FOCUS) in results and f is None:
            rows.append([name, f"FAIL ({FOCUS})", "-"])
        elif base is None and (name, BASE) in results:
            rows.append([name, f"FAIL ({BASE})", "-"])
        else:
            rows.append([name, f"{base['time'] / f['time']:.2f}x" if base and f else "-", rss_ratio(f, base)])
    print(table(["shape", f"{FOCUS} vs {BASE} (speed)", f"{FOCUS} RSS vs {BASE}"], rows, args.markdown))
    geo = []
    for aname, _ in allocs:
        v = speed[aname]
        if v:
            n = "" if len(v) == len(shapes) else f" over {len(v)}/{len(shapes)} shapes"
            geo.append(f"{aname} {math.exp(sum(math.log(x) for x in v) / len(v)):.2f}x{n}")
        else:
            geo.append(f"{aname} -")
    print(f"geometric mean of speed vs {BASE}: " + ", ".join(geo))

    if failures:
        print(f"\n{len(failures)} run(s) FAILED:")
        for name, aname, r, cmd, preload, res in failures:
            print(f"- {name}/{aname} run {r}: {res['why']}\n  LD_PRELOAD={preload or ''} {' '.join(cmd)}")
            if res["stderr"]:
                print("  stderr: " + res["stderr"].replace("\n", "\n          "))
        sys.exit(1)


if __name__ == "__main__":
    main()
