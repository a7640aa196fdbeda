"""sys.exit with a non-int object: its str() is printed to stderr and the status is 1."""
import sys


class Report:
    def __init__(self, errors):
        self.errors = errors

    def __str__(self):
        return "%d error(s): %s" % (len(self.errors), "; ".join(self.errors))

    def __repr__(self):
        return "Report(%r)" % (self.errors,)


checks = {"disk": 97, "quota": 120, "memory": 40}
errors = []
if checks["disk"] > 95:
    errors.append("disk full")
if checks["quota"] > 100:
    errors.append("quota exceeded")
print("finishing run with", len(errors), "errors")
sys.exit(Report(errors))
