"""Writes a progress log to stderr interleaved with results on stdout, using print(file=), write and flush."""
import logging
import sys

logging.basicConfig(stream=sys.stderr, level=logging.DEBUG, format="%(levelname)s:%(name)s:%(message)s")
log = logging.getLogger("batch")

jobs = {"resize": 3, "encode": 0, "upload": 2, "verify": 5}
done = 0
for name, weight in jobs.items():
    log.info("starting %s", name)
    if weight == 0:
        log.warning("job %s has no work", name)
        print("skip", name, file=sys.stderr, flush=True)
        continue
    result = sum(range(weight * 1000))
    print("%-7s %d" % (name, result))
    sys.stdout.flush()
    sys.stderr.write("progress: %d/%d\n" % (done + 1, len(jobs)))
    sys.stderr.flush()
    done += 1
log.debug("debug details: %r", sorted(jobs))
log.error("one job skipped")
sys.stdout.write("summary: %d done\n" % done)
sys.__stderr__.write("via __stderr__\n")
print("errors" if done < len(jobs) else "clean", end="!\n", sep="")
print("stderr is", type(sys.stderr).__name__, sys.stderr.encoding, sys.stderr.errors, file=sys.stderr)
print("stdout is", type(sys.stdout).__name__, sys.stdout.encoding, sys.stdout.errors, sys.stdout.line_buffering)
