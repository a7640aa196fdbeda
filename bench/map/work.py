"""The functions of bench/map/map_bench.py: one argument each, JSON in and out."""
import json


def heavy(x):
    # ~20 ms of pure-Python integer work on this machine
    acc = x
    for i in range(400_000):
        acc = (acc * 7 + i) % 1_000_003
    return acc


def tiny(x):
    return x * x + 1


def mid(doc):
    # parse and dump JSON, as a record-cleaning step does
    record = json.loads(doc)
    record["tags"] = sorted(set(record["tags"]))
    record["total"] = sum(item["price"] * item["qty"] for item in record["items"])
    return json.dumps(record, sort_keys=True)


def medium(x):
    # ~10-15 µs of pure-Python arithmetic: short enough that a per-item cost
    # of the pool shows, long enough to be worth a thread
    acc = x
    for i in range(120):
        acc = (acc * 31 + i) & 0xFFFF
    return acc


def busy(x):
    # ~12 ms: the heavy case in-process
    acc = x
    for i in range(250_000):
        acc = (acc * 7 + i) % 1_000_003
    return acc


def skewed(x):
    # ~0.1 ms, and 100x that for one item in a hundred (issue 15's
    # heterogeneous tasks): a map must keep every core busy to the end
    acc = x
    for i in range(20_000 if x % 100 == 37 else 200):
        acc = (acc * 7 + i) % 1_000_003
    return acc


def same(x):
    """Nothing at all: what remains is the hand-over (mpi_bench.py's coordinator ceiling)."""
    return x
