"""sys.exit("message"): the message goes to stderr and the exit status is 1."""
import sys

config = {"host": "example.org", "port": "eighty", "timeout": "30"}


def validate(cfg):
    errors = []
    for key in ("port", "timeout"):
        if not cfg[key].isdigit():
            errors.append("%s must be a number, got %r" % (key, cfg[key]))
    return errors


print("validating config for", config["host"])
errors = validate(config)
if errors:
    print("%d error(s)" % len(errors))
    sys.exit("error: " + "; ".join(errors))
print("not reached")
