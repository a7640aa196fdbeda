"""Reads a CSV-ish sales log from stdin as text lines (see .stdin sidecar) and prints a report."""
import sys
from collections import defaultdict

totals = defaultdict(int)
counts = defaultdict(int)
bad = []
header = sys.stdin.readline().rstrip("\n").split(",")
print("columns:", header)
for lineno, line in enumerate(sys.stdin, start=2):
    line = line.rstrip("\n")
    if not line or line.startswith("#"):
        continue
    try:
        region, product, qty, cents = line.split(",")
        totals[(region, product)] += int(qty) * int(cents)
        counts[region] += int(qty)
    except ValueError as e:
        bad.append((lineno, line, str(e)))

for (region, product), cents in sorted(totals.items()):
    print(f"{region:<6} {product:<10} {cents / 100:>10.2f}")
print("units per region:", dict(sorted(counts.items())))
for lineno, line, why in bad:
    print("line %d skipped: %r (%s)" % (lineno, line, why), file=sys.stderr)
print("stdin encoding:", sys.stdin.encoding, "eof:", repr(sys.stdin.read()))
