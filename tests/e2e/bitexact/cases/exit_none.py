"""sys.exit(None) and sys.exit() semantics: SystemExit.code is None, exit status 0."""
import sys


def run(tasks):
    done = []
    for name, ok in tasks:
        if not ok:
            print("skipping", name)
            continue
        done.append(name)
    return done


try:
    sys.exit()
except SystemExit as e:
    print("sys.exit() code:", repr(e.code), e.args)
finished = run([("fetch", True), ("parse", False), ("store", True)])
print("finished:", ", ".join(finished))
sys.stdout.write("partial line without newline")
sys.exit(None)
