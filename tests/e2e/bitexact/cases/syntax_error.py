"""A main script that is not valid Python: SyntaxError report on stderr, exit 1, nothing on stdout."""
import sys

print("this line never runs: the whole file is compiled first")


def tally(values):
    total = 0
    for v in values:
        total += v
    return total


def report(values):
    print("count:", len(values))
    print("total:", tally(values)


if __name__ == "__main__":
    report([1, 2, 3])
    sys.exit(0)
