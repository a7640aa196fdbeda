"""Interpreter identity (sys.executable/argv/orig_argv/path/flags/prefix) and child processes via sys.executable."""
import os
import subprocess
import sys

print("executable:", sys.executable)
print("argv:", sys.argv)
print("orig_argv:", sys.orig_argv)
print("path:")
for p in sys.path:
    print("  ", p)
print("flags:", sys.flags)
print("prefix:", sys.prefix, "exec_prefix:", sys.exec_prefix)
print("base_prefix:", sys.base_prefix, "base_exec_prefix:", sys.base_exec_prefix)
print("_base_executable:", getattr(sys, "_base_executable", None), "platlibdir:", sys.platlibdir)
print("warnoptions:", sys.warnoptions, "_xoptions:", sys._xoptions, "pycache_prefix:", sys.pycache_prefix)
print("main module:", __name__, __spec__, __package__, type(__loader__).__name__, type(__builtins__).__name__)
print("version_info:", tuple(sys.version_info), "implementation:", sys.implementation.name)
print("main file:", __file__ == os.path.abspath(sys.argv[0]), os.path.basename(__file__))
print("cwd is script dir:", os.getcwd() == os.path.dirname(__file__))

child = subprocess.run(
    [sys.executable, "-c", "import sys; print(sys.argv, sys.flags.hash_randomization); print(sum(range(10)))", "x", "y z"],
    capture_output=True, text=True, check=True,
)
print("child stdout:", child.stdout.splitlines())
print("child rc:", child.returncode, "stderr:", repr(child.stderr))

failing = subprocess.run(
    [sys.executable, "-c", "import sys; sys.stderr.write('bad\\n'); sys.exit(7)"],
    capture_output=True,
)
print("failing child:", failing.returncode, failing.stdout, failing.stderr)

piped = subprocess.run(
    [sys.executable, "-c", "import sys; data = sys.stdin.read(); print(data.upper()[::-1], end='')"],
    input="hello from parent\n", capture_output=True, text=True,
)
print("piped child:", repr(piped.stdout))

env = dict(os.environ, GREETING="bonjour")
out = subprocess.check_output(
    [sys.executable, "-c", "import os; print(os.environ['GREETING'], os.environ.get('PYTHONHASHSEED'))"],
    env=env,
)
print("env child:", out)

proc = subprocess.Popen([sys.executable, "-u", "-c", "for i in range(3): print('line', i)"],
                        stdout=subprocess.PIPE, text=True)
lines = [line.rstrip() for line in proc.stdout]
proc.stdout.close()
print("popen lines:", lines, "rc:", proc.wait())
try:
    subprocess.run([sys.executable, "-c", "raise SystemExit(4)"], check=True)
except subprocess.CalledProcessError as e:
    print("CalledProcessError returncode:", e.returncode)
