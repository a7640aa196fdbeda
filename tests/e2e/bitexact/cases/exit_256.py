"""sys.exit(256): the status is truncated by the OS to 256 & 0xff == 0."""
import sys


def count_failures(results):
    return sum(1 for ok in results.values() if not ok)


# A classic bug: using the failure count as the exit status.
results = {"test_%03d" % i: i % 3 != 0 for i in range(768)}
failures = count_failures(results)
last = max(results, key=lambda name: int(name[5:]))
print("last test:", last)
print("ran %d tests, %d failures" % (len(results), failures))
print("exiting with", failures)
sys.stdout.flush()
print("about to exit", file=sys.stderr)
print("the shell will see", failures & 0xFF, file=sys.stderr)

sys.exit(failures)
