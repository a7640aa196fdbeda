"""sys.exit(0) after pending buffered output on stdout and stderr: exit status 0."""
import sys


def lint(files):
    problems = []
    for name, text in sorted(files.items()):
        for lineno, line in enumerate(text.splitlines(), 1):
            if len(line) > 79:
                problems.append("%s:%d: line too long (%d)" % (name, lineno, len(line)))
            if line.rstrip() != line:
                problems.append("%s:%d: trailing whitespace" % (name, lineno))
    return problems


files = {"a.py": "import os\nprint(os.sep)\n", "b.py": "x = 1\n" * 10}
problems = lint(files)
print("checked %d files, %d problems" % (len(files), len(problems)))
sys.stderr.write("no problems found")  # no newline, still flushed at exit
if not problems:
    sys.exit(0)
print("not reached")
