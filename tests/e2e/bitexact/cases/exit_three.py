"""sys.exit(3) from inside nested functions with a finally block: exit status 3."""
import sys


def check(paths):
    missing = [p for p in paths if not p.endswith(".cfg")]
    try:
        if missing:
            print("invalid:", ", ".join(missing))
            sys.exit(3)
    finally:
        print("cleanup ran")


def main():
    check(["a.cfg", "b.txt", "c.ini"])
    print("not reached")


main()
