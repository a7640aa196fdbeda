#!/usr/bin/env python3
"""`isolate map` against python3's pools, same function and inputs, one run.

    PY=$(build/bin/isolate run -I -c 'import sys; print(sys.executable)')
    $PY bench/map/map_bench.py --isolate build/bin/isolate --python $PY [--rounds 3] [--quick]
        [--baseline OTHER/bin/isolate]     # another build's rows in the same interleaved run

Cases (issue 5): (a) 200 CPU-heavy items of ~20 ms, (b) 100,000
tiny items, (c) 20,000 items that parse and dump JSON; and (s) 2 tiny items,
which is the pool's start (run it with --cases s). Every command is a
whole process reading the same JSON Lines file and producing one result per
line (isolate map -o /dev/null; peers write to /dev/null the same way);
"isolate.map" is the Python API, peer.py run by `isolate run`.
Commands run interleaved round by round; the table shows medians, the ratio
to sequential python3 and to the best multiprocessing configuration, and
µs per item.
"""
import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PEERS = ["sequential", "mp", "mp-tuned", "ppe", "ppe-tuned", "tpe"]


def make_inputs(tmp, quick):
    scale = 10 if quick else 1
    rnd = random.Random(7)
    cases = {}

    def write(name, values):
        path = os.path.join(tmp, name + ".jsonl")
        with open(path, "w") as f:
            for v in values:
                f.write(json.dumps(v) + "\n")
        return path

    cases["a: 200 x heavy"] = ("heavy", write("heavy", range(200 // scale)), 200 // scale)
    cases["b: 100000 x tiny"] = ("tiny", write("tiny", range(100_000 // scale)), 100_000 // scale)
    docs = [json.dumps({"id": i, "tags": [rnd.choice("abcdefgh") for _ in range(6)],
                        "items": [{"price": rnd.randint(1, 99), "qty": rnd.randint(1, 5)} for _ in range(8)]})
            for i in range(20_000 // scale)]
    cases["c: 20000 x mid (JSON)"] = ("mid", write("mid", docs), len(docs))
    cases["s: 2 x tiny (start)"] = ("tiny", write("two", range(2)), 2)
    return cases


def commands(opts, func, path, backends):
    cmds = {}
    for peer in PEERS:
        cmds[f"python3 {peer}"] = [opts.python, os.path.join(HERE, "peer.py"), peer, func, path, str(opts.jobs)]
    builds = [(opts.isolate, "")] + ([(opts.baseline, " [baseline]")] if opts.baseline else [])
    for isolate, label in builds:
        for b in backends:
            cmds[f"isolate map {b}{label}"] = [isolate, "map", f"work:{func}", "--input", path, "--output",
                                               os.devnull, "--backend", b, "-j", str(opts.jobs), "-q"]
    for isolate, label in builds:
        for b in backends:
            if b != "threads" or opts.free_threaded:  # one item at a time on a GIL build: shown by isolate map
                cmds[f"isolate.map {b}{label}"] = [isolate, "run", os.path.join(HERE, "peer.py"), f"api-{b}", func,
                                                   path, str(opts.jobs)]
    return cmds


def timed(argv):
    t0 = time.perf_counter()
    r = subprocess.run(argv, cwd=HERE, capture_output=True)
    t1 = time.perf_counter()
    if r.returncode != 0:
        sys.exit(f"map_bench.py: {' '.join(argv)} failed ({r.returncode}):\n{r.stderr.decode()[-2000:]}")
    return t1 - t0


def medians(cmds, rounds, label):
    """Runs every command once per round, each round starting one further
    along; returns ({name: median s}, {name: [s, ...]})."""
    samples = {name: [] for name in cmds}
    names = list(cmds)
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            print(f"  {label}: {name} (round {r + 1})", file=sys.stderr, flush=True)
            samples[name].append(timed(cmds[name]))
    return {k: statistics.median(v) for k, v in samples.items()}, samples


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--isolate", required=True)
    ap.add_argument("--python", required=True, help="the build's real python3.x")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=os.cpu_count())
    ap.add_argument("--quick", action="store_true", help="inputs a tenth of the size, 1 round")
    ap.add_argument("--baseline", help="another build's isolate, run beside --isolate (an A/B in one run)")
    ap.add_argument("--cases", default="a,b,c", help="comma-separated cases to run (default a,b,c)")
    ap.add_argument("--skip", default="ppe", help="comma-separated peers to leave out of case b "
                    "(ProcessPoolExecutor with chunksize=1 takes minutes on 100,000 items)")
    opts = ap.parse_args()
    opts.isolate = os.path.abspath(opts.isolate)
    opts.baseline = os.path.abspath(opts.baseline) if opts.baseline else None
    rounds = 1 if opts.quick else opts.rounds
    info = json.loads(subprocess.run([opts.isolate, "info", "--json"], capture_output=True, check=True).stdout)
    backends = info["backends"] + ([] if "threads" in info["backends"] else ["threads"])
    opts.free_threaded = info["gil_disabled"]
    print(f"- python: `{opts.python}`, workers: {opts.jobs}, rounds: {rounds}, load: {os.getloadavg()[0]:.2f}\n")
    print("| case | command | median s | vs sequential | vs best multiprocessing | µs/item |")
    print("|---|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for case, (func, path, n) in make_inputs(tmp, opts.quick).items():
            if case[0] not in opts.cases.split(","):
                continue
            cmds = commands(opts, func, path, backends)
            if case.startswith("b"):
                for skip in filter(None, opts.skip.split(",")):
                    cmds.pop(f"python3 {skip}", None)
            names = list(cmds)
            med, _ = medians(cmds, rounds, case)
            seq = med["python3 sequential"]
            best_mp = min(v for k, v in med.items() if k.split()[-1] in ("mp", "mp-tuned", "ppe", "ppe-tuned"))
            for name in names:
                print(f"| {case} | {name} | {med[name]:.3f} | {seq / med[name]:.2f}x | {best_mp / med[name]:.2f}x "
                      f"| {med[name] / n * 1e6:.1f} |")
    print(f"\n- load at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
