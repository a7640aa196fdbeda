# Allocation-heavy interpreter work: the churn of small objects that a data
# processing script makes (dicts from JSON, tuples, strings, instances, lists
# that grow and die). argv[1] = records. Prints a checksum.
import json
import sys


class Point:
    __slots__ = ("x", "y", "tag")

    def __init__(self, x, y, tag):
        self.x, self.y, self.tag = x, y, tag


def main(n):
    lines = [json.dumps({"id": i, "name": f"item-{i}", "tags": [i % 7, i % 11], "w": i * 0.5})
             for i in range(n)]
    records = [json.loads(line) for line in lines]
    groups = {}
    for r in records:
        groups.setdefault(r["tags"][0], []).append((r["id"], r["name"].upper(), r["w"]))
    points = [Point(i, i * 2, str(i)) for i in range(n)]
    total = sum(p.x + p.y + len(p.tag) for p in points)
    words = " ".join(r["name"] for r in records).split()
    summary = {k: len(v) for k, v in sorted(groups.items())}
    print(total, len(words), summary[0], len(set(words)))


main(int(sys.argv[1]) if len(sys.argv) > 1 else 200000)
