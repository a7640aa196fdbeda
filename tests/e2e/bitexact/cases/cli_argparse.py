"""argparse CLI driven by the .args sidecar: subcommand, options, type conversion and derived output."""
import argparse
import sys


def build_parser():
    p = argparse.ArgumentParser(prog="invctl", description="Inventory control tool.")
    p.add_argument("-v", "--verbose", action="count", default=0)
    p.add_argument("--currency", choices=["EUR", "USD"], default="EUR")
    sub = p.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add", help="add stock")
    add.add_argument("sku")
    add.add_argument("qty", type=int)
    add.add_argument("--price", type=float, default=0.0)
    add.add_argument("--tag", action="append", default=[])
    add.add_argument("--dry-run", action="store_true")
    return p


args = build_parser().parse_args()
print("argv:", sys.argv[1:])
print("namespace:", sorted(vars(args).items()))
total = args.qty * args.price
print("would add" if args.dry_run else "adding", args.qty, "x", args.sku, "= %.2f %s" % (total, args.currency))
if args.verbose >= 2:
    print("tags:", ", ".join(args.tag) or "-")
    print("unicode arg:", ascii(args.tag[-1]) if args.tag else None)
print(build_parser().format_usage().strip())
try:
    build_parser().parse_args(["add", "X", "not-a-number"])
except SystemExit as e:
    print("parse error exit code:", e.code)
