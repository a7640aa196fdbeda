"""JSON: building a nested sales report, dumps with indent/sort_keys/separators, loads with hooks, errors."""
import json
from decimal import Decimal

orders = [
    {"id": 101, "customer": "Zoë", "lines": [["pen", 3, 1.25], ["paper", 1, 4.99]], "paid": True},
    {"id": 102, "customer": "Ólafur", "lines": [["stapler", 1, 12.0]], "paid": False},
    {"id": 103, "customer": "李", "lines": [], "paid": True, "note": None},
]
report = {"orders": [], "totals": {}}
for o in orders:
    total = round(sum(q * p for _, q, p in o["lines"]), 2)
    report["orders"].append({"id": o["id"], "customer": o["customer"], "total": total,
                             "items": len(o["lines"]), "paid": o["paid"]})
    report["totals"]["paid" if o["paid"] else "unpaid"] = report["totals"].get("paid" if o["paid"] else "unpaid", 0) + total
report["meta"] = {"generated": "2024-02-29T12:00:00", "version": [1, 2], "ratio": 1 / 3, "big": 2 ** 70}

print(json.dumps(report, indent=2, sort_keys=True))
print(json.dumps(report["orders"][0], ensure_ascii=False, separators=(",", ":")))
print(json.dumps(report["orders"][1]))
print(json.dumps([float("inf"), float("nan"), -0.0, 1e100, 1e-5]))
try:
    json.dumps([float("nan")], allow_nan=False)
except ValueError as e:
    print("ValueError:", e)
try:
    json.dumps({"when": {1, 2}})
except TypeError as e:
    print("TypeError:", e)


class Encoder(json.JSONEncoder):
    def default(self, o):
        if isinstance(o, Decimal):
            return str(o)
        if isinstance(o, set):
            return sorted(o)
        return super().default(o)


print(json.dumps({"price": Decimal("19.990"), "tags": {"b", "a", "c"}}, cls=Encoder))
text = '{"amount": 10.10, "qty": 3, "items": [{"sku": "A1"}, {"sku": "B2"}], "dup": 1, "dup": 2}'
print(json.loads(text))
print(json.loads(text, parse_float=Decimal, object_pairs_hook=lambda pairs: [k for k, _ in pairs]))
print(json.loads('"\\ud83d\\ude00 \\u00e9"'), json.loads("[1e400, -1e400]"))
for bad in ['{"a": 1,}', "[1, 2", '{"a" 1}', "", "nul"]:
    try:
        json.loads(bad)
    except json.JSONDecodeError as e:
        print("JSONDecodeError:", e.msg, e.lineno, e.colno, e.pos)
dec = json.JSONDecoder()
print(dec.raw_decode('{"x": [1, 2]} trailing'))
