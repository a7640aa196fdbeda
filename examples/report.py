"""Sales report over examples/data/orders.csv: the demo's example job.

Plain standard-library Python (csv, decimal, statistics, json), the kind of
batch script isolate runs unchanged.
"""
import csv
import json
import statistics
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path


def load(path):
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            yield row["region"], row["item"], int(row["quantity"]), Decimal(row["unit_price"])


def main(argv):
    path = Path(argv[1]) if len(argv) > 1 else Path(__file__).with_name("data") / "orders.csv"
    revenue = defaultdict(Decimal)
    quantities = defaultdict(list)
    for region, item, quantity, price in load(path):
        revenue[region] += quantity * price
        quantities[item].append(quantity)

    print(f"{'region':<8} {'revenue':>12}")
    for region, total in sorted(revenue.items(), key=lambda kv: -kv[1]):
        print(f"{region:<8} {total:>12,.2f}")
    summary = {
        item: {"orders": len(q), "median_qty": statistics.median(q), "mean_qty": round(statistics.fmean(q), 3)}
        for item, q in sorted(quantities.items())
    }
    print(json.dumps(summary, indent=2))
    print(f"total revenue: {sum(revenue.values()):,.2f}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv)
