"""sys.exit(-1): exit status is 255 as seen by the parent."""
import sys


def find_free_slot(slots):
    for index, slot in enumerate(slots):
        if slot is None:
            return index
    return -1


slots = ["job-a", "job-b", "job-c"]
slot = find_free_slot(slots)
for i, job in enumerate(slots):
    print("slot %d: %s" % (i, job))
print("slots in use:", len(slots))
if slot < 0:
    print("fatal: no free slot, exiting with", slot, file=sys.stderr)
    sys.exit(slot)
print("not reached")
