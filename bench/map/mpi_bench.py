#!/usr/bin/env python3
"""`isolate map` over MPI ranks against one machine, and rank 0's ceiling.

    bench/map/mpi_bench.py --isolate build/bin/isolate [--rounds 5] [--cases a,b,c,z]

Cases a, b, c are map_bench.py's (200 x ~20 ms heavy, 100,000 x tiny,
20,000 x JSON records). Each is run, interleaved round by round, as
`isolate map -j 2` on one machine, `mpirun -np 2 isolate map -j 1` (two
ranks of one worker: the same two cores, every chunk of rank 1 crossing
MPI), and `mpirun -np 1 isolate map -j 2` (the coordinator without a
remote rank). Every mpirun row runs with --bind-to none, as on a cluster:
mpirun binds each rank to one core by default, and rank 0's reader and
writer would then share its worker's core. MPI's own start and end
(`mpirun -np 2 mpi_hello`: MPI_Init and MPI_Finalize, which take OpenMPI
~0.2-0.4 s here) are timed in the same rounds and subtracted in the
"less MPI's start" columns: a job pays them once, whatever runs in it. Case z is the coordinator's
ceiling: 400,000 no-op items (`work.same`) of ~60 bytes and 40,000 of ~2 KB
through `mpirun -np 2` and `-np 3`: items/s and MB/s (input and output)
through rank 0. Case p is the Python API: mpi_api_job.py's isolate.map of
200 heavy items, timed inside the script, under `isolate run` and under
`mpirun -np 2 isolate run` (the first map starts the job's pool).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from map_bench import make_inputs, medians  # noqa: E402

MPIRUN = [shutil.which("mpirun") or "mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none"]


def mpi_hello(tmp):
    exe = os.path.join(tmp, "mpi_hello")
    subprocess.run([shutil.which("mpicc") or "mpicc", "-O2", os.path.join(HERE, "mpi_hello.c"), "-o", exe],
                   check=True)
    return exe


def ways(isolate, func, path, hello):
    run = [isolate, "map", f"work:{func}", "--input", path, "--output", os.devnull, "-q"]
    return {
        "isolate map -j 2": [*run, "-j", "2"],
        "mpirun -np 2 isolate map -j 1": [*MPIRUN, "-np", "2", *run, "-j", "1"],
        "mpirun -np 1 isolate map -j 2": [*MPIRUN, "-np", "1", *run, "-j", "2"],
        "mpirun -np 2 mpi_hello (MPI's start)": [*MPIRUN, "-np", "2", hello],
    }


def overhead_cases(opts, tmp):
    hello = mpi_hello(tmp)
    print("| case | command | median s | vs one machine | less MPI's start | vs one machine, less MPI's start | spread |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for case, (func, path, _) in make_inputs(tmp, False).items():
        if case[0] not in opts.cases.split(","):
            continue
        med, samples = medians(ways(opts.isolate, func, path, hello), opts.rounds, case)
        one, launcher = med["isolate map -j 2"], med["mpirun -np 2 mpi_hello (MPI's start)"]
        for name, m in med.items():
            spread = (max(samples[name]) - min(samples[name])) / m
            if "mpi_hello" in name:
                print(f"| {case} | {name} | {m:.3f} | | | | {spread:.0%} |")
                continue
            less = m - (launcher if name.startswith("mpirun") else 0)
            print(f"| {case} | {name} | {m:.3f} | {one / m:.2f}x | {less:.3f} | {one / less:.2f}x | {spread:.0%} |")


def ceiling(opts, tmp):
    cases = {"400,000 x ~60 B": (400_000, 40), "40,000 x ~2 KB": (40_000, 2000)}
    print("\n| items | ranks | median s | items/s through rank 0 | MB/s in + out | less MPI's start: items/s |")
    print("|---|---:|---:|---:|---:|---:|")
    launcher = medians({"hello": [*MPIRUN, "-np", "3", mpi_hello(tmp)]}, opts.rounds, "launcher")[0]["hello"]
    for label, (n, size) in cases.items():
        path = os.path.join(tmp, f"same-{n}.jsonl")
        with open(path, "w") as f:
            for i in range(n):
                f.write(json.dumps({"i": i, "pad": "x" * size}) + "\n")
        megabytes = 2 * os.path.getsize(path) / 1e6  # every byte goes out to a rank and comes back
        run = [opts.isolate, "map", "work:same", "--input", path, "--output", os.devnull, "-q", "-j", "1"]
        cmds = {np: [*MPIRUN, "-np", str(np), *run] for np in (2, 3)}
        # The same items on one machine, two workers and no rank 0 in between:
        # whether rank 0 or the workers set the pace on these two cores.
        cmds["one machine, -j 2"] = [*run[:-1], "2"]
        med, _ = medians(cmds, opts.rounds, label)
        for np, m in med.items():
            less = m - launcher if np != "one machine, -j 2" else m
            print(f"| {label} | {np} | {m:.3f} | {n / m:,.0f} | {megabytes / m:.0f} | {n / less:,.0f} |")
    print(f"\n- `mpirun -np 3 mpi_hello`: {launcher:.3f} s")


def api_case(opts):
    job = os.path.join(HERE, "mpi_api_job.py")
    ways = {"isolate run (one machine)": [opts.isolate, "run", job],
            "mpirun -np 2 isolate run": [*MPIRUN, "-np", "2", opts.isolate, "run", job]}
    samples = {name: [] for name in ways}
    for r in range(opts.rounds):
        for name, argv in ways.items():
            print(f"  p: {name} (round {r + 1})", file=sys.stderr, flush=True)
            out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout.split()
            samples[name].append((float(out[0]), float(out[1]), int(out[2])))
    print("\n| Python API: 200 x heavy | first map s (starts the pool) | second map s | vs one machine | ranks used |")
    print("|---|---:|---:|---:|---:|")
    one = statistics.median(s[1] for s in samples["isolate run (one machine)"])
    for name, got in samples.items():
        second = statistics.median(s[1] for s in got)
        print(f"| {name} | {statistics.median(s[0] for s in got):.3f} | {second:.3f} | {one / second:.2f}x "
              f"| {max(s[2] for s in got)} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--isolate", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--cases", default="a,b,c,z,p")
    opts = ap.parse_args()
    opts.isolate = os.path.abspath(opts.isolate)
    info = json.loads(subprocess.run([opts.isolate, "info", "--json"], capture_output=True, check=True).stdout)
    if not info.get("mpi", "").startswith("yes"):
        sys.exit(f"mpi_bench.py: this isolate has no MPI: {info.get('mpi')}")
    print(f"- {info['mpi']}, python {info['python_version']}, rounds: {opts.rounds}, "
          f"load: {os.getloadavg()[0]:.2f}\n")
    with tempfile.TemporaryDirectory() as tmp:
        overhead_cases(opts, tmp)
        if "z" in opts.cases.split(","):
            ceiling(opts, tmp)
        if "p" in opts.cases.split(","):
            api_case(opts)
    print(f"\n- load at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
