"""Uncaught exception deep in a call stack: traceback to stderr, exit status 1, stdout flushed first."""
import sys


class Ledger:
    def __init__(self):
        self.entries = []

    def post(self, account, amount):
        if not isinstance(amount, int):
            raise TypeError("amount must be int cents, got %r" % (amount,))
        self.entries.append((account, amount))

    def balance(self, account):
        return sum(a for acc, a in self.entries if acc == account)


def import_rows(ledger, rows):
    for lineno, row in enumerate(rows, 1):
        account, amount = row.split(",")
        ledger.post(account, parse_amount(amount))
        print("line %d ok: %s" % (lineno, account))


def parse_amount(text):
    text = text.strip()
    if "." in text:
        units, cents = text.split(".")
        return int(units) * 100 + int(cents)
    return int(text) * 100


ledger = Ledger()
print("importing")
sys.stderr.write("warning: rows are not validated\n")
import_rows(ledger, ["cash,10.50", "bank,200", "cash,-3.25", "bank,12.x5"])
print("never reached")
