"""raise SystemExit(2) directly (as argparse does): exit status 2, atexit handlers still run."""
import atexit
import sys

USAGE = "usage: tool [--flag] FILE"


def goodbye(name):
    print("atexit handler ran for", name)


def parse(argv):
    files = [a for a in argv if not a.startswith("-")]
    if not files:
        print(USAGE)
        print("tool: error: the following arguments are required: FILE", file=sys.stderr)
        raise SystemExit(2)
    return files


atexit.register(goodbye, "tool")
print(parse(sys.argv[1:]))
