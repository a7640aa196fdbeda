#!/usr/bin/env python3
"""Bit-exactness driver: run a case under the reference python and under a runner, compare.

Usage:
  run_case.py --runner "CMD PREFIX" --python PATH (--case NAME | --list | --all) [--cases-dir DIR]

Each case NAME is cases/NAME.py, with optional sidecars NAME.stdin (bytes fed on
stdin; otherwise stdin is /dev/null) and NAME.args (one extra argv item per line).
The helpers/ package beside the cases is copied next to the case, too.

Both interpreters run in the very same temporary directory path (emptied and
refilled between the two runs), with the same environment, so absolute paths in
tracebacks, warnings and sys.path are identical.  stdout bytes, stderr bytes and
the exit status must match exactly.

Exit status: 0 all compared cases passed, 1 a mismatch (or timeout), 2 usage error.
"""

import argparse
import difflib
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

TIMEOUT_S = 60
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CASES_DIR = os.path.join(HERE, "cases")
HELPER_DIRS = ("helpers",)


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def parse_args(argv):
    p = _Parser(description="Compare a runner with the reference python, byte for byte.")
    p.add_argument("--runner", help='command prefix, split with shlex (e.g. "build/bin/isolate run")')
    p.add_argument("--python", help="reference python interpreter")
    p.add_argument("--cases-dir", default=DEFAULT_CASES_DIR)
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--case", metavar="NAME")
    g.add_argument("--list", action="store_true")
    g.add_argument("--all", action="store_true")
    return p.parse_args(argv)


def list_cases(cases_dir):
    if not os.path.isdir(cases_dir):
        raise UsageError("cases directory not found: %s" % cases_dir)
    return sorted(f[:-3] for f in os.listdir(cases_dir)
                  if f.endswith(".py") and os.path.isfile(os.path.join(cases_dir, f)))


def resolve_executable(path, what):
    """PATH looked up on $PATH when bare, made absolute but not resolved: the
    reference's path becomes argv[0], hence sys.orig_argv[0] and sys.executable."""
    if os.sep not in path:
        found = shutil.which(path)
        if found is None:
            raise UsageError("%s not found: %s" % (what, path))
        path = found
    path = os.path.abspath(path)
    if not os.access(path, os.X_OK):
        raise UsageError("%s not executable: %s" % (what, path))
    return path


def resolve_python(path):
    return resolve_executable(path, "reference python")


def resolve_runner(runner):
    parts = shlex.split(runner)
    if not parts:
        raise UsageError("--runner is empty")
    return [resolve_executable(parts[0], "runner")] + parts[1:]


def make_env():
    env = dict(os.environ)
    env["PYTHONHASHSEED"] = "0"
    # No __pycache__ in the work dir; the setting is reported in sys.flags, and
    # it is the same for both runs.
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    # Would turn the script run into an interactive session.
    env.pop("PYTHONINSPECT", None)
    return env


def read_args(cases_dir, name):
    """NAME.args: one argv item per line, kept as raw bytes ("\n" separated, a
    trailing "\r" and the final newline dropped; other whitespace is kept)."""
    path = os.path.join(cases_dir, name + ".args")
    if not os.path.exists(path):
        return []
    with open(path, "rb") as f:
        items = f.read().split(b"\n")
    if items and items[-1] == b"":
        items.pop()
    return [item[:-1] if item.endswith(b"\r") else item for item in items]


def populate(workdir, cases_dir, name):
    shutil.copy2(os.path.join(cases_dir, name + ".py"), workdir)
    for ext in (".stdin", ".args"):
        side = os.path.join(cases_dir, name + ext)
        if os.path.exists(side):
            shutil.copy2(side, workdir)
    for d in HELPER_DIRS:
        src = os.path.join(cases_dir, d)
        if os.path.isdir(src):
            shutil.copytree(src, os.path.join(workdir, d),
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def run_once(cmd, workdir, env, stdin_path):
    stdin = open(stdin_path, "rb") if stdin_path else open(os.devnull, "rb")
    try:
        proc = subprocess.run(cmd, cwd=workdir, env=env, stdin=stdin,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired as e:
        return None, e.stdout or b"", e.stderr or b""
    finally:
        stdin.close()
    return proc.returncode, proc.stdout, proc.stderr


def describe_status(rc):
    if rc is None:
        return "timeout after %ds" % TIMEOUT_S
    if rc < 0:
        return "killed by signal %d" % -rc
    return "exit %d" % rc


def diff_bytes(a, b, label_a, label_b):
    la = a.decode("utf-8", errors="backslashreplace").splitlines(keepends=True)
    lb = b.decode("utf-8", errors="backslashreplace").splitlines(keepends=True)
    out = []
    for line in difflib.unified_diff(la, lb, label_a, label_b, n=3):
        if not line.endswith("\n"):
            line += "\n\\ No newline at end of file\n"
        out.append(line)
    if not out:
        # Same text after decoding, different bytes (should not happen with
        # backslashreplace, but be explicit rather than silent).
        out.append("(byte-level difference: %r vs %r)\n" % (a, b))
    return "".join(out)


def run_case(name, runner, python, cases_dir, out):
    script = name + ".py"
    args = read_args(cases_dir, name)
    stdin_src = os.path.join(cases_dir, name + ".stdin")
    has_stdin = os.path.exists(stdin_src)
    env = make_env()

    parent = tempfile.mkdtemp(prefix="bitexact-")
    workdir = os.path.join(parent, "w")
    try:
        os.mkdir(workdir)
        populate(workdir, cases_dir, name)
        ref = run_once([os.fsencode(python), os.fsencode(script)] + args, workdir, env,
                       os.path.join(workdir, name + ".stdin") if has_stdin else None)
        # Same path again, emptied and refilled.
        shutil.rmtree(workdir)
        os.mkdir(workdir)
        populate(workdir, cases_dir, name)
        got = run_once([os.fsencode(x) for x in runner + [script]] + args, workdir, env,
                       os.path.join(workdir, name + ".stdin") if has_stdin else None)
    finally:
        shutil.rmtree(parent, ignore_errors=True)

    problems = []
    if ref[0] is None or got[0] is None or ref[0] != got[0]:
        problems.append("exit status differs: python %s, runner %s\n"
                        % (describe_status(ref[0]), describe_status(got[0])))
    if ref[1] != got[1]:
        problems.append("stdout differs:\n" + diff_bytes(ref[1], got[1], "python stdout", "runner stdout"))
    if ref[2] != got[2]:
        problems.append("stderr differs:\n" + diff_bytes(ref[2], got[2], "python stderr", "runner stderr"))
    if not problems:
        out.write("PASS %s\n" % name)
        out.flush()
        return True
    out.write("FAIL %s\n" % name)
    shown_args = [os.fsdecode(a) for a in args]
    out.write("  python: %s\n" % shlex.join([python, script] + shown_args))
    out.write("  runner: %s\n" % shlex.join(runner + [script] + shown_args))
    for p in problems:
        out.write(p)
    out.flush()
    return False


def main(argv):
    try:
        ns = parse_args(argv)
        cases_dir = os.path.abspath(ns.cases_dir)
        cases = list_cases(cases_dir)
        if ns.list:
            for c in cases:
                print(c)
            return 0
        if not ns.runner or not ns.python:
            raise UsageError("--runner and --python are required with --case/--all")
        runner = resolve_runner(ns.runner)
        python = resolve_python(ns.python)
        if ns.case is not None:
            name = ns.case[:-3] if ns.case.endswith(".py") else ns.case
            if name not in cases:
                raise UsageError("unknown case: %s" % ns.case)
            selected = [name]
        else:
            selected = cases
    except UsageError as e:
        sys.stderr.write("run_case.py: error: %s\n" % e)
        return 2

    if ns.case is not None:
        return 0 if run_case(selected[0], runner, python, cases_dir, sys.stdout) else 1

    passed = failed = 0
    for name in selected:
        if run_case(name, runner, python, cases_dir, sys.stdout):
            passed += 1
        else:
            failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
