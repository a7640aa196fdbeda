#!/usr/bin/env python3
"""Compare `isolate run` against the python3 binary it embeds.

Stdlib only.  Run it with the reference interpreter, e.g.

    /root/.pyenv/versions/3.13.0/bin/python3.13 bench/python/run_vs_python.py \
        --runner "build/bin/isolate run" \
        --python /root/.pyenv/versions/3.13.0/bin/python3.13 [--cachegrind]

For every case both commands run alternately (the one that goes first swaps
each round) so that drift in machine load hits both equally; the table shows
medians, inter-quartile ranges and the ratio isolate/python.  Before timing,
each case runs once per command with output captured, and the two outputs
(stdout, stderr, exit status) must be identical or the script fails.

See README.md next to this file for what each case measures.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOADS = os.path.join(HERE, "workloads")

STARTUP_REPEATS = 15
LONG_REPEATS = 7
QUICK_REPEATS = 3


class BenchError(Exception):
    pass


@dataclass
class Case:
    name: str
    args: list[str]          # python arguments, appended to both prefixes
    long: bool = False       # uses the "long" repeat count


@dataclass
class Samples:
    wall_ns: list[int] = field(default_factory=list)
    cpu_ns: list[int] = field(default_factory=list)   # child user+sys


def workload(name: str) -> str:
    return os.path.join(WORKLOADS, name)


def build_cases(quick: bool) -> list[Case]:
    loop_n = 10**5 if quick else 10**7
    ms = [1, 1000, 10**4] if quick else [1, 1000, 10**5, 10**6]
    cases = [
        Case("start: empty.py", [workload("empty.py")]),
        Case("start: -c pass", ["-c", "pass"]),
        Case("start: imports.py", [workload("imports.py")]),
        Case(f"loop.py {loop_n}", [workload("loop.py"), str(loop_n)], long=True),
    ]
    for m in ms:
        cases.append(Case(f"amortize.py {m}", [workload("amortize.py"), str(m)],
                          long=m >= 10**4))
    return cases


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONHASHSEED"] = "0"
    return env


def run_captured(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                              env=env, cwd=WORKLOADS)
    except OSError as e:
        raise BenchError(f"cannot execute {shlex.join(argv)}: {e}") from e


def run_timed(argv: list[str], env: dict[str, str], into: Samples) -> None:
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter_ns()
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, env=env, cwd=WORKLOADS)
    t1 = time.perf_counter_ns()
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise BenchError(f"{shlex.join(argv)} exited with {proc.returncode} during timing")
    into.wall_ns.append(t1 - t0)
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    into.cpu_ns.append(round(cpu * 1e9))


def check_same_output(case: Case, py_argv: list[str], iso_argv: list[str],
                      env: dict[str, str]) -> None:
    """Run both once, captured; identical stdout/stderr/status or fail."""
    a = run_captured(py_argv, env)
    b = run_captured(iso_argv, env)
    problems = []
    if a.returncode != 0:
        problems.append(f"python exited with {a.returncode}")
    for what in ("returncode", "stdout", "stderr"):
        va, vb = getattr(a, what), getattr(b, what)
        if va != vb:
            problems.append(f"{what} differs:\n  python : {va[-400:]!r}\n  isolate: {vb[-400:]!r}")
    if problems:
        raise BenchError(f"case {case.name!r}: outputs differ between\n"
                         f"  {shlex.join(py_argv)}\n  {shlex.join(iso_argv)}\n"
                         + "\n".join(problems))


def quartiles(xs: list[float]) -> tuple[float, float]:
    if len(xs) < 2:
        return xs[0], xs[0]
    q = statistics.quantiles(xs, n=4, method="inclusive")
    return q[0], q[2]


@dataclass
class Row:
    case: str
    n: int
    py_ms: list[float]
    iso_ms: list[float]
    py_cpu: list[float]
    iso_cpu: list[float]

    @property
    def ratio(self) -> float:
        return statistics.median(self.iso_ms) / statistics.median(self.py_ms)

    @property
    def cpu_ratio(self) -> float:
        p = statistics.median(self.py_cpu)
        return statistics.median(self.iso_cpu) / p if p > 0 else float("nan")


def bench_case(case: Case, py: list[str], iso: list[str], repeats: int,
               env: dict[str, str]) -> Row:
    py_argv, iso_argv = py + case.args, iso + case.args
    check_same_output(case, py_argv, iso_argv, env)   # doubles as warm-up
    sp, si = Samples(), Samples()
    for r in range(repeats):
        order = [(py_argv, sp), (iso_argv, si)]
        if r % 2:
            order.reverse()
        for argv, into in order:
            run_timed(argv, env, into)
    return Row(case.name, repeats,
               [x / 1e6 for x in sp.wall_ns], [x / 1e6 for x in si.wall_ns],
               [x / 1e6 for x in sp.cpu_ns], [x / 1e6 for x in si.cpu_ns])


# --------------------------------------------------------------- cachegrind

IREFS = re.compile(r"^==\d+==\s+I\s+refs:\s+([\d,]+)", re.M)


def cachegrind_irefs(argv: list[str], env: dict[str, str]) -> int:
    # build/bin/isolate is the front, which execs the core: follow the exec
    # (same pid, so one count, the front's few thousand instructions included).
    cmd = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--trace-children=yes",
           "--cachegrind-out-file=/dev/null"] + argv
    proc = run_captured(cmd, env)
    if proc.returncode != 0:
        raise BenchError(f"{shlex.join(cmd)} exited with {proc.returncode}:\n"
                         + proc.stderr.decode(errors="replace")[-2000:])
    m = IREFS.search(proc.stderr.decode(errors="replace"))
    if not m:
        raise BenchError(f"no 'I refs' line in cachegrind output of {shlex.join(cmd)}")
    return int(m.group(1).replace(",", ""))


def cachegrind_cases(quick: bool) -> list[Case]:
    n = 10**5 if quick else 10**6
    return [
        Case("-c pass", ["-c", "pass"]),
        Case("imports.py", [workload("imports.py")]),
        Case(f"loop.py {n}", [workload("loop.py"), str(n)]),
    ]


# ------------------------------------------------------------------ output

def fmt_ms(x: float) -> str:
    return f"{x:.2f}" if x < 100 else f"{x:.1f}" if x < 1000 else f"{x:.0f}"


def table(headers: list[str], rows: list[list[str]], markdown: bool) -> str:
    if markdown:
        out = ["| " + " | ".join(headers) + " |",
               "|" + "|".join("---" if i == 0 else "---:" for i in range(len(headers))) + "|"]
        out += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(out)
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join([line(headers), line(["-" * w for w in widths])]
                     + [line(r) for r in rows])


def timing_table(rows: list[Row], markdown: bool) -> str:
    headers = ["case", "runs", "python ms", "python IQR", "isolate ms",
               "isolate IQR", "ratio", "cpu ratio"]
    body = []
    for r in rows:
        pq, iq = quartiles(r.py_ms), quartiles(r.iso_ms)
        body.append([r.case, str(r.n),
                     fmt_ms(statistics.median(r.py_ms)), f"{fmt_ms(pq[0])}–{fmt_ms(pq[1])}",
                     fmt_ms(statistics.median(r.iso_ms)), f"{fmt_ms(iq[0])}–{fmt_ms(iq[1])}",
                     f"{r.ratio:.3f}", f"{r.cpu_ratio:.3f}"])
    return table(headers, body, markdown)


def interpreter_version(argv: list[str], env: dict[str, str]) -> str:
    p = run_captured(argv + ["-c", "import sys; print(sys.version)"], env)
    if p.returncode != 0:
        raise BenchError(f"{shlex.join(argv)} -c ... exited with {p.returncode}:\n"
                         + p.stderr.decode(errors="replace")[-2000:])
    return p.stdout.decode().strip().replace("\n", " ")


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def emit_context(items: list[tuple[str, str]], markdown: bool) -> None:
    for k, v in items:
        print(f"- {k}: `{v}`" if markdown else f"{k:>14}: {v}")


# -------------------------------------------------------------------- main

def check_python_binary(path: str) -> str:
    real = shutil.which(path) if os.sep not in path else path
    if not real or not os.path.isfile(real):
        raise BenchError(f"--python {path!r}: not found")
    with open(real, "rb") as f:
        if f.read(4) != b"\x7fELF":
            raise BenchError(f"--python {real!r} is not an ELF binary "
                             "(a pyenv shim or wrapper script?); pass the real interpreter")
    return os.path.abspath(real)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runner", required=True,
                    help='command prefix of the launcher, e.g. "build/bin/isolate run"')
    ap.add_argument("--python", required=True, help="reference python binary (not a shim)")
    ap.add_argument("--repeats", type=int,
                    help=f"rounds per case (default {STARTUP_REPEATS} for start-up cases, "
                         f"{LONG_REPEATS} for long ones, {QUICK_REPEATS} with --quick)")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 3 rounds, loop 10^5, amortize M up to 10^4")
    ap.add_argument("--cachegrind", action="store_true",
                    help="also count instructions with valgrind cachegrind")
    ap.add_argument("--markdown", action="store_true", help="print Markdown tables")
    opts = ap.parse_args()

    if opts.repeats is not None and opts.repeats < 1:
        ap.error("--repeats must be >= 1")
    try:
        python = [check_python_binary(opts.python)]
        runner = shlex.split(opts.runner)
        if not runner:
            ap.error("--runner is empty")
        runner[0] = os.path.abspath(runner[0]) if os.sep in runner[0] else runner[0]
        if opts.cachegrind and not shutil.which("valgrind"):
            raise BenchError("--cachegrind needs valgrind on PATH")
        env = child_env()

        started = time.perf_counter()
        py_ver = interpreter_version(python, env)
        iso_ver = interpreter_version(runner, env)
        context = [
            ("machine", f"{platform.machine()}, {cpu_model()}"),
            ("kernel", platform.release()),
            ("nproc", f"{os.cpu_count()} (usable: {len(os.sched_getaffinity(0))})"),
            ("python", f"{python[0]} — {py_ver}"),
            ("isolate", f"{shlex.join(runner)} — {iso_ver}"),
            ("env", " ".join(f"{k}={v}" for k, v in sorted(env.items())
                             if k.startswith("PYTHON"))),
            ("load at start", loadavg()),
        ]
        emit_context(context, opts.markdown)
        if py_ver != iso_ver:
            print(f"WARNING: versions differ: python {py_ver!r} vs isolate {iso_ver!r}",
                  file=sys.stderr)
        print(flush=True)

        rows = []
        for case in build_cases(opts.quick):
            repeats = opts.repeats or (QUICK_REPEATS if opts.quick else
                                       LONG_REPEATS if case.long else STARTUP_REPEATS)
            print(f"  running {case.name} ({repeats} rounds)...", file=sys.stderr, flush=True)
            rows.append(bench_case(case, python, runner, repeats, env))
        print("Wall time (median of interleaved runs; ratio = isolate/python median, "
              "cpu ratio = same for child user+sys time)\n")
        print(timing_table(rows, opts.markdown))

        if opts.cachegrind:
            print()
            crows = []
            for case in cachegrind_cases(opts.quick):
                print(f"  cachegrind {case.name}...", file=sys.stderr, flush=True)
                pi = cachegrind_irefs(python + case.args, env)
                ii = cachegrind_irefs(runner + case.args, env)
                crows.append([case.name, f"{pi:,}", f"{ii:,}", f"{ii / pi:.3f}"])
            print("Instructions (valgrind cachegrind, --cache-sim=no; loop.py runs "
                  f"{cachegrind_cases(opts.quick)[-1].args[-1]} iterations under valgrind "
                  "to keep it short)\n")
            print(table(["case", "python I refs", "isolate I refs", "ratio"], crows,
                        opts.markdown))

        print()
        emit_context([("load at end", loadavg()),
                      ("bench time", f"{time.perf_counter() - started:.1f} s")],
                     opts.markdown)
    except BenchError as e:
        print(f"run_vs_python.py: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
