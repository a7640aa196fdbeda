#!/usr/bin/env python3
"""Peer-run CPython's own regression tests: `RUNNER -m test -v MODULE` must
give the same per-test results as `PYTHON -m test -v MODULE`.

Usage:
  regrtest_peer.py --runner "CMD PREFIX" --python PATH --module test_x
  regrtest_peer.py --runner "CMD PREFIX" --python PATH --all
  regrtest_peer.py --python PATH --list

--runner is split with shlex; its words are followed by python's own argv,
e.g. --runner "/work/main/build/bin/isolate run".  --python is the reference
interpreter of the same CPython version as the one the runner embeds.  The
module list is version-aware, so --list needs --python too.

Stdlib only; meant to be run by the reference python itself.
"""

import argparse
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

# ---------------------------------------------------------------------------
# Module list.
#
# Each entry: (module, options) where options may hold
#   "since" / "until": (major, minor) bounds, inclusive, of the versions the
#               entry applies to (default: all)
#   "args":     extra regrtest arguments for BOTH runs (e.g. ["-i", "PATTERN"]
#               to ignore a slow or environment-dependent test)
# The number is the measured wall time in seconds of one reference run under
# python3.13 (2-core machine); keep the sum in check (see README.md).
# ---------------------------------------------------------------------------

MODULES = [
    # core language
    ("test_grammar", {}),                           #   0.2
    ("test_syntax", {}),                            #   0.4
    ("test_scope", {}),                             #   0.2
    ("test_class", {}),                             #   0.3
    ("test_descr", {}),                             #   0.9
    ("test_with", {}),                              #   0.3
    ("test_raise", {}),                             #   0.2
    ("test_exceptions", {}),                        #   2.2
    ("test_generators", {}),                        #   0.4
    ("test_coroutines", {}),                        #   0.7
    ("test_asyncgen", {}),                          #   1.1
    ("test_listcomps", {}),                         #   0.3
    ("test_iter", {}),                              #   0.2
    ("test_fstring", {}),                           #   1.9
    ("test_string_literals", {}),                   #   0.3
    ("test_builtin", {}),                           #   0.5
    ("test_types", {}),                             #   0.7
    ("test_abc", {}),                               #   0.2
    ("test_weakref", {}),                           #   3.8
    ("test_gc", {}),                                #   2.6
    ("test_frame", {}),                             #   0.6
    ("test_code", {}),                              #   0.5
    ("test_sys_settrace", {}),                      #   1.8
    ("test_sys_setprofile", {}),                    #   0.2
    ("test_warnings", {}),                          #   1.0
    # builtin types
    ("test_bool", {}),                              #   0.2
    ("test_int", {}),                               #   0.8
    ("test_long", {}),                              #   1.9
    ("test_float", {}),                             #   0.3
    ("test_complex", {}),                           #   0.3
    ("test_dict", {}),                              #   0.7
    ("test_list", {}),                              #   0.5
    ("test_tuple", {}),                             #   0.8
    ("test_range", {}),                             #   0.8
    ("test_set", {}),                               #   3.5
    ("test_sort", {}),                              #   0.3
    ("test_str", {"since": (3, 13)}),               #   1.6 (was test_unicode)
    ("test_unicode", {"until": (3, 12)}),
    ("test_bytes", {}),                             #   2.7
    ("test_array", {}),                             #   1.2
    ("test_format", {}),                            #   0.3
    # text and codecs
    ("test_ucn", {}),                               #   0.4
    ("test_unicodedata", {}),                       #   1.3
    ("test_codecs", {}),                            #   1.0
    ("test_string", {}),                            #   0.2
    ("test_textwrap", {}),                          #   0.2
    ("test_re", {}),                                #   0.7
    ("test_base64", {}),                            #   0.4
    ("test_binascii", {}),                          #   0.2
    ("test_csv", {}),                               #   0.3
    ("test_difflib", {}),                           #   0.9
    ("test_pprint", {}),                            #   0.2
    # numbers, time
    ("test_math", {}),                              #   2.0
    ("test_decimal", {}),                           #   2.9
    ("test_fractions", {}),                         #   0.3
    ("test_statistics", {}),                        #   3.7
    ("test_random", {}),                            #   1.2
    ("test_datetime", {}),                          #   4.2
    ("test_time", {}),                              #   2.2
    ("test_calendar", {}),                          #   2.5
    # library
    ("test_itertools", {}),                         #   3.0
    ("test_functools", {}),                         #   0.7
    ("test_operator", {}),                          #   0.4
    ("test_heapq", {}),                             #   0.7
    ("test_copy", {}),                              #   0.3
    ("test_collections", {}),                       #   1.2
    ("test_dataclasses", {}),                       #   0.6
    ("test_enum", {}),                              #   1.7
    ("test_typing", {}),                            #   0.5
    ("test_contextlib", {}),                        #   0.2
    ("test_contextlib_async", {}),                  #   0.4
    ("test_struct", {}),                            #   0.5
    ("test_pickle", {}),                            #   4.7
    ("test_json", {}),                              #   2.9
    ("test_inspect", {}),                           #   1.4
    ("test_traceback", {}),                         #   1.7
    ("test_argparse", {}),                          #   1.6
    ("test_configparser", {}),                      #   0.6
    ("test_uuid", {}),                              #   0.3
    ("test_ast", {}),                               #   1.2
    ("test_dis", {}),                               #   0.7
    ("test_tokenize", {}),                          #   0.9
    ("test_marshal", {}),                           #   0.7
    ("test_py_compile", {}),                        #   0.6
    ("test_pkgutil", {}),                           #   0.4
    ("test_doctest", {}),                           #   1.4
    ("test_unittest", {}),                          #   5.0
    ("test_zoneinfo", {}),                          #   0.8
    ("test_dbm", {}),                               #   0.4
    # C extension modules
    ("test_zlib", {}),                              #   0.9
    ("test_gzip", {}),                              #   0.6
    ("test_bz2", {}),                               #   0.8
    ("test_lzma", {}),                              #   0.5
    ("test_pyexpat", {}),                           #   0.2
    ("test_xml_etree_c", {}),                       #   0.6
    ("test_hashlib", {}),                           #   0.6
    # runs offline over localhost; its slowest handshake tests (~1-6 s each
    # of mostly waiting) are left out of both runs
    ("test_ssl", {"args": [
        "-i", "test_check_hostname_idn", "-i", "test_alpn_protocols",
        "-i", "test_echo", "-i", "test_PROTOCOL_TLS", "-i", "test_sni_callback",
        "-i", "test_session", "-i", "test_protocol_tlsv1_2",
        "-i", "test_check_hostname"]}),             #  21.0
    ("test_sqlite3", {}),                           #   0.7
    ("test_ctypes", {}),                            #   1.5
    ("test_capi", {}),                              #   8.0
    # interpreter and OS integration
    ("test_sys", {}),                               #   1.7
    ("test_site", {}),                              #   0.7
    ("test_sysconfig", {}),                         #   0.3
    ("test_platform", {}),                          #   0.4
    ("test_locale", {}),                            #   0.3
    ("test_cmd_line", {}),                          #   4.5
    ("test_cmd_line_script", {}),                   #   3.7
    ("test_utf8_mode", {}),                         #   1.1
    ("test_runpy", {}),                             #   0.9
    ("test_import", {}),                            #   3.7
    ("test_importlib", {}),                         #   8.0
    ("test_audit", {}),                             #   2.6
    ("test_faulthandler", {}),                      #  13.8
    ("test_os", {}),                                #  14.4
    ("test_io", {}),                                #  12.3
    ("test_tempfile", {}),                          #   1.3
    ("test_shutil", {}),                            #   1.9
    ("test_glob", {}),                              #   0.8
    ("test_subprocess", {}),                        #  17.9
    ("test_posix", {}),                             #   1.5
    ("test_pwd", {}),                               #   0.2
    ("test_resource", {}),                          #   0.3
    ("test_fcntl", {}),                             #   0.4
    ("test_select", {}),                            #   1.7
    ("test_mmap", {}),                              #   0.4
    ("test_pty", {}),                               #   0.3
    ("test_venv", {}),                              #   3.6
    ("test_atexit", {}),                            #   0.4
    ("test_tracemalloc", {}),                       #   1.4
    ("test_thread", {}),                            #   1.6
    ("test_threading_local", {}),                   #   0.5
    # test_print_exception_gh_102056 races an exponential recursion against
    # a 1 s timer thread; on a loaded machine its child can spin forever
    # (seen under python3.13 itself, reference and runner alike)
    ("test_threading", {"args": ["-i", "test_print_exception_gh_102056"]}),
                                                    #  19.0
    # asyncio basics
    ("test.test_asyncio.test_futures", {}),         #   2.1
    ("test.test_asyncio.test_locks", {}),           #   1.2
    ("test.test_asyncio.test_queues", {}),          #   0.6
    ("test.test_asyncio.test_tasks", {}),           #  20.3
]

# regrtest flags used for both runs.  No -u: the default resource set (none)
# skips network/gui/cpu-heavy tests identically in both runs.  No -j: tests
# run sequentially in the interpreter under test itself.
REGRTEST_FLAGS = ["-v", "--randseed=1"]

def python_version(python):
    out = subprocess.run(
        [python, "-c", "import sys; print(*sys.version_info[:2])"],
        stdout=subprocess.PIPE, check=True, text=True).stdout.split()
    return int(out[0]), int(out[1])


def installed_modules(python, names):
    """The names whose test module the reference installation has (Debian,
    for one, ships its 3.11 test package without test_sqlite3 and test_capi)."""
    probe = ("import importlib.util, sys\n"
             "for n in sys.argv[1:]:\n"
             "    if importlib.util.find_spec(n if '.' in n else 'test.' + n): print(n)\n")
    out = subprocess.run([python, "-c", probe, *names], stdout=subprocess.PIPE,
                         check=True, text=True).stdout
    return set(out.split())


def module_entries(version):
    return [(name, opts) for name, opts in MODULES
            if opts.get("since", version) <= version <= opts.get("until", version)]


# ---------------------------------------------------------------------------
# Parsing unittest's verbose output.
#
# TextTestResult (verbosity 2) writes, per test:
#   DESC + " ... "        at startTest
#   STATUS + "\n"         at the end (ok / FAIL / ERROR / skipped 'why' /
#                         expected failure / unexpected success)
# where DESC is "name (full.test.id)" optionally followed by "\n" and the
# first line of the docstring.  Anything the test itself prints to stdout
# lands between the two.  A failing (or skipped) subtest is written on its
# own line as "  DESC [msg] (params) ... STATUS"; a test whose subtests
# failed writes no status of its own, and a status written after a subtest
# line repeats the full DESC.  Class/module fixture errors appear as
# "setUpClass (test.x.C) ... ERROR".  After the run come the error lists
# ("=====\nFAIL: DESC\n-----\ntraceback") and "-----\nRan N tests in Xs".
# ---------------------------------------------------------------------------
HEADER_RE = re.compile(
    r"^(?P<sub>  )?(?P<name>[^\W\d][^\s()]*) \((?P<paren>[^\W\d][^\s()]*)\)"
    r"(?P<rest>.*)$")
STATUS_RE = re.compile(
    r"(?:ok|FAIL|ERROR|expected failure|unexpected success"
    r"|skipped (?:'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"))$")
SUBTEST_RE = re.compile(r"(.*) \.\.\. (%s)" % STATUS_RE.pattern[:-1])
FIXTURES = ("setUpClass", "tearDownClass", "setUpModule", "tearDownModule")
SEP1 = "=" * 70
SEP2 = "-" * 70
ERRLIST_RE = re.compile(r"^(ERROR|FAIL|UNEXPECTED SUCCESS): ")
RAN_RE = re.compile(r"^Ran (\d+) tests? in ")


def _category(status):
    return "skipped" if status.startswith("skipped") else status


def _exact_status(s):
    s = s.strip()
    m = STATUS_RE.fullmatch(s)
    return _category(s) if m else None


def _trailing_status(s):
    m = STATUS_RE.search(s.rstrip())
    return _category(m.group(0)) if m else None


def _header(line):
    m = HEADER_RE.match(line)
    if not m:
        return None
    name, paren = m.group("name"), m.group("paren")
    # Reject stray output that merely looks like "word (word)": a real
    # description is "name (pkg.mod.Class.name)", or for doctests / fixture
    # errors "name (test.mod...)".
    if paren.endswith("." + name):
        key = paren
    elif name in FIXTURES or (
            "." in paren and paren.split(".", 1)[0] in ("test", "unittest")):
        key = paren + "." + name
    else:
        return None
    return m.group("sub") is not None, key, m.group("rest")


def _split_rest(rest):
    """'<subdesc> ... <tail>' -> (subdesc, tail or None if no ' ... ')."""
    if rest.startswith(" ... "):
        return "", rest[5:]
    idx = rest.find(" ... ")
    if idx < 0:
        return rest.strip(), None
    return rest[:idx].strip(), rest[idx + 5:]


def parse_verbose(text):
    """Return ({test_id: outcome}, errors{test_id: traceback text}, ran)."""
    results = {}
    order = []
    lines = text.splitlines()

    def record(key, outcome):
        k, n = key, 1
        while k in results:
            n += 1
            k = "%s #%d" % (key, n)
        results[k] = outcome
        order.append(k)

    pending = None   # dict(key, candidates[], subtests[]) awaiting a status

    def close_pending():
        nonlocal pending
        if pending is None:
            return
        p, pending = pending, None
        if p["subtests"]:
            # A test with failed or skipped subtests prints no status of
            # its own: it failed if a subtest failed, else it passed (the
            # skipped subtests are recorded under their own ids).
            subs = p["subtests"]
            record(p["key"], "FAIL" if "FAIL" in subs else
                   "ERROR" if "ERROR" in subs else "ok")
            return
        for cand in reversed(p["candidates"]):
            st = _trailing_status(cand)
            if st:
                record(p["key"], st)
                return
        record(p["key"], "?")   # no status found (crash, timeout, ...)

    errors = {}
    errlist = []     # (test_id, flavour) from the error lists
    ran = None
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        # Error lists after the run: collect tracebacks for the report.
        if line == SEP1 and i + 1 < n and ERRLIST_RE.match(lines[i + 1]):
            close_pending()
            j = i + 1
            while j < n:
                m = ERRLIST_RE.match(lines[j])
                if not m:
                    break
                h = _header(lines[j][m.end():])
                body = []
                j += 1
                if j < n and lines[j].startswith("Doctest: "):
                    h = (False, lines[j].strip(), "")
                    j += 1
                while j < n and not (lines[j] == SEP1 or (
                        lines[j] == SEP2 and j + 1 < n
                        and RAN_RE.match(lines[j + 1]))):
                    body.append(lines[j])
                    j += 1
                if h:
                    ekey = h[1]
                    if h[0] is False and h[2].strip():   # subtest params
                        ekey = "%s %s" % (ekey, h[2].strip())
                    errors.setdefault(ekey, "\n".join(body).strip("-\n"))
                    errlist.append((ekey, m.group(1)))
                if j < n and lines[j] == SEP1:
                    j += 1
                    continue
                break
            i = j
            continue
        m = RAN_RE.match(line)
        if m and i > 0 and lines[i - 1] == SEP2:
            close_pending()
            ran = (ran or 0) + int(m.group(1))
            i += 1
            continue

        if (i + 1 < n and lines[i + 1].startswith("Doctest: ")
                and " ... " in lines[i + 1]):
            # Doctest: DESC is "<str(test)>\nDoctest: full.name"; the
            # first line is not always "name (pkg.mod)" (DocFileCase
            # prints a path), so key on the docstring line.
            close_pending()
            key, tail = lines[i + 1].split(" ... ", 1)
            i += 2
            st = _exact_status(tail)
            if st:
                record(key, st)
            else:
                pending = {"key": key, "candidates": [tail],
                           "subtests": []}
            continue

        h = _header(line)
        if h is None:
            if pending is not None:
                st = _exact_status(line)
                if st:
                    p, pending = pending, None
                    record(p["key"], st)
                else:
                    pending["candidates"].append(line)
            i += 1
            continue

        is_sub, key, rest = h
        if is_sub:
            # "  DESC [msg] (params) ... STATUS" is written in one go; the
            # params may contain " ... " themselves, so split at the end.
            # With a docstring, the status ends the following line.
            m = SUBTEST_RE.fullmatch(rest)
            if m:
                subdesc, st = m.group(1).strip(), _category(m.group(2))
                i += 1
            else:
                subdesc, st = rest.strip(), None
                i += 1
                if i < n and _header(lines[i]) is None:
                    st = _trailing_status(lines[i])
                    i += 1
            record("%s %s" % (key, subdesc), st or "?")
            if pending is not None and pending["key"] == key and st:
                pending["subtests"].append(st)
            continue

        subdesc, tail = _split_rest(rest)
        if (tail is None and i + 1 < n and " ... " in lines[i + 1]
                and _header(lines[i + 1]) is None):
            # DESC continues with the docstring's first line.
            i += 1
            tail = lines[i].split(" ... ", 1)[1]
            if _exact_status(tail) is None:
                # the docstring itself may contain " ... "
                alt = lines[i].rsplit(" ... ", 1)[1]
                if _exact_status(alt):
                    tail = alt
        i += 1

        if pending is not None and pending["key"] == key and subdesc == "":
            # Status of the pending test, re-described after subtest lines.
            st = _exact_status(tail or "")
            if st:
                pending = None
                record(key, st)
                continue
        close_pending()
        if tail is not None and _exact_status(tail):
            record(key, _exact_status(tail))
            continue
        pending = {"key": key if not subdesc else "%s %s" % (key, subdesc),
                   "candidates": [tail] if tail else [], "subtests": []}
    close_pending()
    # The error lists are authoritative for failures and errors; they also
    # catch a status that verbose mode printed without its description
    # (unittest omits it after "expected failure"/"unexpected success", e.g.
    # for a following setUpClass error).
    flavours = {"ERROR": "ERROR", "FAIL": "FAIL",
                "UNEXPECTED SUCCESS": "unexpected success"}
    for key, flavour in errlist:
        if results.get(key) in (None, "?", "ok"):
            if key not in results:
                order.append(key)
            results[key] = flavours[flavour]
    return {k: results[k] for k in order}, errors, ran


def summary_lines(text):
    """regrtest's overall result lines (deterministic parts only).

    3.12+ print `Result: SUCCESS`; 3.11 prints `Tests result: SUCCESS`, which
    is filed under the same key."""
    out = {}
    for line in text.splitlines():
        if line.startswith("Tests result:"):
            line = "Result:" + line[len("Tests result:"):]
        for key in ("Result:", "Total tests:", "Total test files:"):
            if line.startswith(key):
                out[key] = line[len(key):].strip()
    return out


# ---------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------
def start(argv, workdir):
    env = make_env(workdir)
    os.makedirs(env["HOME"])
    out = open(os.path.join(workdir, "stdout.txt"), "wb")
    err = open(os.path.join(workdir, "stderr.txt"), "wb")
    proc = subprocess.Popen(argv, cwd=workdir, env=env, stdin=subprocess.DEVNULL,
                            stdout=out, stderr=err, start_new_session=True)
    return proc, out, err, time.monotonic()


def finish(run, deadline):
    proc, out, err, t0 = run
    timed_out = False
    try:
        proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        timed_out = True
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        proc.wait()
    out.close()
    err.close()
    wd = os.path.dirname(out.name)
    with open(out.name, "rb") as f:
        stdout = f.read().decode("utf-8", "backslashreplace")
    with open(err.name, "rb") as f:
        stderr = f.read().decode("utf-8", "backslashreplace")
    return {"rc": proc.returncode, "argv": proc.args, "timed_out": timed_out, "dir": wd,
            "stdout": stdout, "stderr": stderr,
            "seconds": time.monotonic() - t0}


def tail(text, n=25):
    lines = text.rstrip().splitlines()
    return "\n".join("    | " + l for l in lines[-n:])


def make_env(workdir):
    """The environment of one run: os.environ minus PYTHON* settings
    (PYTHONUNBUFFERED, PYTHONPATH, PYTHONDONTWRITEBYTECODE, ... change what
    some tests expect, so the caller's shell must not decide the results),
    a fixed hash seed, and a fresh empty HOME per run, so that the two
    concurrent runs do not share state through the user site directory
    (test_site creates ~/.local/lib/pythonX.Y/site-packages, and whether
    it existed at startup decides sys.path)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PYTHON")}
    env["PYTHONHASHSEED"] = "0"
    env["HOME"] = os.path.join(workdir, "home")
    return env


def regrtest_argv(module, opts, workdir, timeout):
    return (["-m", "test"] + REGRTEST_FLAGS +
            ["--timeout=%d" % timeout, "--tempdir=" + os.path.join(workdir, "t")]
            + list(opts.get("args", ())) + [module])


def run_module(module, opts, runner, python, timeout, serial, keep):
    # Short, equal-length paths for both sides: some tests create AF_UNIX
    # sockets under the work dir (108-byte path limit).
    base = tempfile.mkdtemp(prefix="rtp_")
    cmds = {"reference": [python], "runner": list(runner)}
    dirs = {"reference": os.path.join(base, "ref"),
            "runner": os.path.join(base, "run")}
    runs = {}
    grace = 60   # on top of regrtest's own --timeout
    if serial:
        for who in ("reference", "runner"):
            r = start(cmds[who] + regrtest_argv(module, opts, dirs[who],
                                                timeout), dirs[who])
            runs[who] = finish(r, time.monotonic() + timeout + grace)
    else:
        started = {}
        for who in ("reference", "runner"):
            started[who] = start(cmds[who] + regrtest_argv(
                module, opts, dirs[who], timeout), dirs[who])
        deadline = time.monotonic() + timeout + grace
        for who in ("reference", "runner"):
            runs[who] = finish(started[who], deadline)

    problems = []
    parsed = {}
    for who, r in runs.items():
        res, errs, ran = parse_verbose(r["stdout"])
        parsed[who] = (res, errs, ran, summary_lines(r["stdout"]))
        if r["timed_out"]:
            problems.append("%s timed out after %ds" % (who, timeout))
        if not res:
            problems.append("%s: no test results parsed from output" % who)

    ref, refe, ref_ran, ref_sum = parsed["reference"]
    run, rune, run_ran, run_sum = parsed["runner"]
    diffs = []
    for tid in list(ref) + [t for t in run if t not in ref]:
        a, b = ref.get(tid, "(missing)"), run.get(tid, "(missing)")
        if a != b:
            diffs.append((tid, a, b))
    if runs["reference"]["rc"] != runs["runner"]["rc"]:
        problems.append("exit status differs: reference %s, runner %s"
                        % (runs["reference"]["rc"], runs["runner"]["rc"]))
    if ref_ran != run_ran:
        problems.append("'Ran N tests' differs: reference %s, runner %s"
                        % (ref_ran, run_ran))
    for key in ("Result:", "Total tests:", "Total test files:"):
        if ref_sum.get(key) != run_sum.get(key):
            problems.append("%s differs: reference %r, runner %r"
                            % (key, ref_sum.get(key), run_sum.get(key)))
    if "Result:" not in ref_sum:
        problems.append("reference printed no 'Result:' line")
    if runs["reference"]["rc"] not in (0, 2, 3):
        # regrtest: 0 success, 2 tests failed, 3 environment changed;
        # anything else (crash, usage error, no tests ran, interrupted)
        # means the reference run itself is unusable
        problems.append("reference exited with status %s"
                        % runs["reference"]["rc"])

    ok = not diffs and not problems
    if ok:
        nskip = sum(1 for v in ref.values() if v == "skipped")
        print("PASS %s: %d tests, same results (%d skipped)  "
              "[%.1fs reference, %.1fs runner]"
              % (module, len(ref), nskip, runs["reference"]["seconds"],
                 runs["runner"]["seconds"]))
    else:
        print("FAIL %s: %d differing tests, %d other problems  "
              "[%.1fs reference, %.1fs runner]"
              % (module, len(diffs), len(problems),
                 runs["reference"]["seconds"], runs["runner"]["seconds"]))
        for p in problems:
            print("  - " + p)
        print("  runner command (in %s): %s" % (
            dirs["runner"], " ".join(map(shlex.quote, runs["runner"]["argv"]))))
        for tid, a, b in diffs[:50]:
            print("  %-60s reference=%-18s runner=%s" % (tid, a, b))
        if len(diffs) > 50:
            print("  ... and %d more" % (len(diffs) - 50))
        shown = 0
        for tid, a, b in diffs:
            tb = rune.get(tid) or refe.get(tid)
            if tb and shown < 5:
                side = "runner" if tid in rune else "reference"
                print("  --- %s traceback for %s:" % (side, tid))
                print(tail(tb, 30))
                shown += 1
        if problems:
            for who in ("reference", "runner"):
                print("  --- %s stdout (tail):" % who)
                print(tail(runs[who]["stdout"], 15))
                print("  --- %s stderr (tail):" % who)
                print(tail(runs[who]["stderr"], 15))
        keep = True
    if keep:
        print("  outputs kept in " + base)
    else:
        shutil.rmtree(base, ignore_errors=True)
    sys.stdout.flush()
    return ok


def time_reference(python, entries, timeout):
    """Measure one reference run per module (for README.md's table)."""
    total = 0.0
    for name, opts in entries:
        base = tempfile.mkdtemp(prefix="rtp_")
        wd = os.path.join(base, "ref")
        r = finish(start([python] + regrtest_argv(name, opts, wd, timeout),
                         wd), time.monotonic() + timeout + 60)
        res = parse_verbose(r["stdout"])[0]
        result = summary_lines(r["stdout"]).get("Result:", "(none)")
        total += r["seconds"]
        print("%-40s %6.1f  rc=%s  %s  %d tests" % (
            name, r["seconds"], r["rc"], result, len(res)))
        sys.stdout.flush()
        shutil.rmtree(base, ignore_errors=True)
    print("total %.1f s" % total)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runner", help="command prefix standing in for python "
                    "(split with shlex)")
    ap.add_argument("--python", required=True,
                    help="reference python interpreter")
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--module", action="append",
                   help="test module to compare (repeatable)")
    g.add_argument("--list", action="store_true",
                   help="print the module list for this python version")
    g.add_argument("--all", action="store_true",
                   help="compare every module in the list, sequentially")
    ap.add_argument("--time-reference", action="store_true",
                    help="with --all/--module: only run the reference python "
                    "and print each module's wall time (for README.md)")
    ap.add_argument("--timeout", type=int, default=600,
                    help="per-run limit in seconds (also regrtest --timeout)")
    ap.add_argument("--serial", action="store_true",
                    help="run reference and runner one after the other")
    ap.add_argument("--keep", action="store_true",
                    help="keep both runs' outputs (always kept on failure)")
    args = ap.parse_args()

    version = python_version(args.python)
    entries = module_entries(version)
    if args.list:
        present = installed_modules(args.python, [name for name, _ in entries])
        for name, _ in entries:
            if name in present:
                print(name)
            else:
                print("regrtest_peer: %s is not in %s's test package; left out"
                      % (name, args.python), file=sys.stderr)
        return 0
    opts = dict(entries)
    if args.module:
        todo = [(m, opts.get(m, {})) for m in args.module]
    else:
        todo = entries
    if args.time_reference:
        return time_reference(args.python, todo, args.timeout)
    if not args.runner:
        ap.error("--runner is required with --module/--all")
    runner = shlex.split(args.runner)
    passed = failed = 0
    for name, o in todo:
        if run_module(name, o, runner, args.python, args.timeout,
                      args.serial, args.keep):
            passed += 1
        else:
            failed += 1
    if args.all or len(todo) > 1:
        print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
