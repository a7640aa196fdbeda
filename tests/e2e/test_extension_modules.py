"""C extension modules load in isolate as in python3: libpython's C API is
exported from the isolate binary, which links libpython statically."""
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from peer import ISOLATE, ISOLATE_CORE, PYTHON, run  # noqa: E402

# Imports every extension module of the build's lib-dynload and reports which
# ones loaded; run by both interpreters, the reports must be equal.
IMPORT_ALL = r"""
import importlib, json, os, sys, sysconfig
folder = sysconfig.get_path("platstdlib") + "/lib-dynload"
suffix = sysconfig.get_config_var("EXT_SUFFIX")
names = sorted(n[: -len(suffix)] for n in os.listdir(folder) if n.endswith(suffix))
# The issue's named modules, wherever this build keeps them (Debian builds some into libpython).
names += ["_json", "_decimal", "math", "_ssl", "_sqlite3", "_ctypes", "_struct", "zlib"]
report = {}
for name in sorted(set(names)):
    if name.startswith("_test") or name.startswith("xx"):
        continue  # CPython's own test helpers; some crash on purpose
    try:
        importlib.import_module(name)
        report[name] = "ok"
    except Exception as e:
        report[name] = type(e).__name__ + ": " + str(e)
print(json.dumps(report, indent=1))
"""


class ExtensionModules(unittest.TestCase):
    maxDiff = None

    def test_every_lib_dynload_module_loads_as_in_python3(self):
        ref = run([PYTHON, "-c", IMPORT_ALL])
        got = run([ISOLATE, "run", "-c", IMPORT_ALL])
        self.assertEqual(got.returncode, 0, got.stderr)
        self.assertEqual(json.loads(got.stdout), json.loads(ref.stdout))
        loaded = [n for n, r in json.loads(got.stdout).items() if r == "ok"]
        for required in ("_json", "_decimal", "math", "_ssl", "_sqlite3", "_ctypes", "_struct", "zlib"):
            self.assertIn(required, loaded)

    def test_exports_the_same_c_api_as_the_shared_libpython(self):
        # Third-party extensions may use any API function libpython.so offers.
        libdir = run([PYTHON, "-c", "import sysconfig; print(sysconfig.get_config_var('LIBDIR'))"])
        ldlibrary = run([PYTHON, "-c", "import sysconfig; print(sysconfig.get_config_var('LDLIBRARY'))"])
        shared = os.path.join(libdir.stdout.decode().strip(), ldlibrary.stdout.decode().strip())
        if not shared.endswith(".so") or not os.path.exists(shared):
            self.skipTest(f"this Python ships no shared libpython ({shared}) to compare with")

        def exported(path):
            out = subprocess.run(["nm", "-D", "--defined-only", path], capture_output=True, check=True).stdout
            return {line.split()[-1].split("@")[0] for line in out.decode().splitlines() if line.strip()}

        missing = exported(shared) - exported(ISOLATE_CORE)
        self.assertEqual(missing, set(), "C API symbols libpython.so exports but isolate does not")

    @unittest.skipIf(os.environ.get("ISOLATE_SANITIZED"),
                     "GCC's UBSan runtime links with --export-dynamic; the export set is a release-build property")
    def test_exports_nothing_but_the_c_api(self):
        out = subprocess.run(["nm", "-D", "--defined-only", ISOLATE_CORE], capture_output=True, check=True).stdout
        names = {line.split()[-1].split("@")[0] for line in out.decode().splitlines() if line.strip()}
        # Copy-relocated libc data objects are the only others a non-PIE binary defines.
        foreign = {n for n in names if not n.startswith(("Py", "_Py", "PY"))} - {
            "stdout", "stderr", "stdin", "__libc_single_threaded", "environ", "__environ", "optarg", "optind"}
        self.assertEqual(foreign, set())


if __name__ == "__main__":
    unittest.main()
