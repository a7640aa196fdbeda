"""sys.exit(True) and exit with a tuple in a caught SystemExit: bool is an int subclass, status 1."""
import sys


def check_all(checks):
    failed = [name for name, fn in checks if not fn()]
    for name in failed:
        print("FAILED", name)
    return bool(failed)


try:
    sys.exit(("a", 1))
except SystemExit as e:
    print("tuple code:", e.code)
checks = [("math", lambda: 2 + 2 == 4), ("strings", lambda: "a" * 3 == "aaa"), ("lists", lambda: [1] * 2 == [1])]
any_failed = check_all(checks)
print("passed:", [name for name, fn in checks if fn()])
print("checks failed:", any_failed)
sys.exit(any_failed)
