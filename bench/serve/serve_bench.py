#!/usr/bin/env python3
"""Per-request start-up: python3 vs `isolate run` vs `isolate call` (issue 6).

    PY=$(build/bin/isolate run -I -c 'import sys; print(sys.executable)')
    $PY bench/serve/serve_bench.py --isolate build/bin/isolate --python $PY [--rounds 7] [--load 200]
        [--baseline OTHER/bin/isolate]   # another build's run and call rows in the same interleaved run

Two scripts: hello.py (one print) and heavy.py, which imports asyncio,
decimal, json, email, http.client, argparse, dataclasses and typing; for
heavy.py the warm server preloads exactly those modules (ISO_PRELOAD). Each
command is started with posix_spawn and waited for, stdout and stderr on
/dev/null; every round runs every command BATCH times, interleaved with the
others, and the table shows medians over all runs with the ratio
python3 / command. `/bin/true` is measured the same way: it is the cost of
starting any process from this driver, included in every row. `isolate` is
the front (src/front/), which execs the core for `run`; the `isolate-core
run` row is the core started directly, so the two differ by that exec.

The load test starts LOAD `isolate call` requests at once (each prints its
own index), waits for all, checks every output, and reports the latency
percentiles from spawn to exit.

The servers run in a private XDG_RUNTIME_DIR and are stopped at the end.
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

HEAVY_MODULES = "asyncio,decimal,json,email,http.client,argparse,dataclasses,typing"


def spawn(argv, env, stdout_fd):
    return os.posix_spawn(argv[0], argv, env, file_actions=[
        (os.POSIX_SPAWN_DUP2, stdout_fd, 1), (os.POSIX_SPAWN_DUP2, stdout_fd, 2)])


def run_once(argv, env, devnull):
    start = time.perf_counter()
    pid = spawn(argv, env, devnull)
    _, status = os.waitpid(pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit("serve_bench: %s failed with %d" % (" ".join(argv), os.waitstatus_to_exitcode(status)))
    return elapsed


def write_scripts(tmp):
    hello = os.path.join(tmp, "hello.py")
    heavy = os.path.join(tmp, "heavy.py")
    with open(hello, "w") as f:
        f.write('print("hello")\n')
    with open(heavy, "w") as f:
        f.write("import %s\nprint('heavy')\n" % HEAVY_MODULES.replace(",", ", "))
    return hello, heavy


def start_up_table(args, hello, heavy, env_plain, env_heavy):
    core = os.path.join(os.path.dirname(args.isolate), "..", "libexec", "isolate", "isolate-core")
    commands = [
        ("/bin/true", ["/bin/true"], env_plain),
        ("python3 hello.py", [args.python, hello], env_plain),
        ("isolate run hello.py", [args.isolate, "run", hello], env_plain),
        # The core alone: the front's exec on the way to `isolate run` is the difference.
        ("isolate-core run hello.py", [core, "run", hello], env_plain),
        ("isolate call hello.py", [args.isolate, "call", hello], env_plain),
        ("python3 heavy.py", [args.python, heavy], env_plain),
        ("isolate run heavy.py", [args.isolate, "run", heavy], env_plain),
        ("isolate call heavy.py (preloaded)", [args.isolate, "call", heavy], env_heavy),
    ]
    if args.baseline:
        commands += [
            ("isolate run hello.py [baseline]", [args.baseline, "run", hello], env_plain),
            ("isolate call hello.py [baseline]", [args.baseline, "call", hello], env_plain),
            ("isolate call heavy.py (preloaded) [baseline]", [args.baseline, "call", heavy], env_heavy),
        ]
    samples = {name: [] for name, _, _ in commands}
    with open(os.devnull, "wb") as null:
        devnull = null.fileno()
        for _, argv, env in commands:  # warm-up: starts both servers, fills the page cache
            run_once(argv, env, devnull)
        for _ in range(args.rounds):
            for name, argv, env in commands:
                for _ in range(args.batch):
                    samples[name].append(run_once(argv, env, devnull))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    print("| command | median ms | p90 ms | python3 / command |")
    print("|---|---:|---:|---:|")
    for name, _, _ in commands:
        values = sorted(samples[name])
        peer = medians["python3 heavy.py" if "heavy" in name else "python3 hello.py"]
        ratio = "" if name == "/bin/true" else "%.1f×" % (peer / medians[name])
        print("| %s | %.2f | %.2f | %s |" % (name, medians[name] * 1e3, values[int(len(values) * 0.9)] * 1e3, ratio))
    return medians


def load_test(args, tmp, env_plain):
    script = os.path.join(tmp, "echo_index.py")
    with open(script, "w") as f:
        f.write("import sys\nprint('request', sys.argv[1])\n")
    outputs, pids, starts = [], {}, {}
    for i in range(args.load):
        path = os.path.join(tmp, "out-%d.txt" % i)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        starts[i] = time.perf_counter()
        pids[spawn([args.isolate, "call", script, str(i)], env_plain, fd)] = i
        os.close(fd)
        outputs.append(path)
    latencies, failures = [], 0
    while pids:
        pid, status = os.wait()
        i = pids.pop(pid)
        latencies.append(time.perf_counter() - starts[i])
        with open(outputs[i]) as f:
            text = f.read()
        if os.waitstatus_to_exitcode(status) != 0 or text != "request %d\n" % i:
            failures += 1
            if failures <= 3:
                print("request %d: exit status %d, output %r" % (i, os.waitstatus_to_exitcode(status), text[-300:]))
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(len(latencies) * q))] * 1e3
    print()
    print("%d concurrent `isolate call` requests: %d failed; latency p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms"
          % (args.load, failures, pick(0.5), pick(0.9), pick(0.99), latencies[-1] * 1e3))
    return failures


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--isolate", required=True)
    p.add_argument("--python", required=True, help="the real python3.x of the embedded build")
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--batch", type=int, default=5, help="runs of each command per round")
    p.add_argument("--load", type=int, default=200)
    p.add_argument("--baseline", help="another build's isolate, whose run and call rows join the table")
    args = p.parse_args()
    args.isolate = os.path.abspath(args.isolate)
    args.baseline = os.path.abspath(args.baseline) if args.baseline else None

    with tempfile.TemporaryDirectory(prefix="serve-bench-") as tmp:
        runtime = os.path.join(tmp, "runtime")
        os.mkdir(runtime, 0o700)
        env_plain = dict(os.environ, XDG_RUNTIME_DIR=runtime)
        env_plain.pop("ISO_PRELOAD", None)
        env_heavy = dict(env_plain, ISO_PRELOAD=HEAVY_MODULES)
        hello, heavy = write_scripts(tmp)
        try:
            start_up_table(args, hello, heavy, env_plain, env_heavy)
            failures = load_test(args, tmp, env_plain)
        finally:
            with open(os.devnull, "wb") as null:
                for isolate in filter(None, (args.isolate, args.baseline)):
                    for env in (env_plain, env_heavy):
                        os.waitpid(spawn([isolate, "serve", "--stop"], env, null.fileno()), 0)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
