"""warnings: DeprecationWarning/UserWarning to stderr with file and line, filters, once/error actions, catch_warnings."""
import sys
import warnings


def old_api(x):
    warnings.warn("old_api() is deprecated; use new_api()", DeprecationWarning, stacklevel=2)
    return x * 2


def parse_port(value):
    if not value.isdigit():
        warnings.warn("port %r is not numeric, using 8080" % value)
        return 8080
    return int(value)


print(old_api(21))
print(parse_port("http"))
for i in range(3):
    old_api(i)  # same location: shown once by the default filter
print(parse_port("9000"))
warnings.warn("resource leak suspected", ResourceWarning)  # ignored by default
warnings.warn("pending change", PendingDeprecationWarning)  # ignored by default
warnings.warn_explicit("explicit location", RuntimeWarning, "config.ini", 12)

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    old_api(1)
    parse_port("x")
    warnings.warn("bytes", BytesWarning)
print([(w.category.__name__, str(w.message), w.lineno) for w in caught])

with warnings.catch_warnings():
    warnings.simplefilter("error", UserWarning)
    try:
        parse_port("abc")
    except UserWarning as e:
        print("raised as error:", e)

warnings.filterwarnings("ignore", message="port .* not numeric")
parse_port("quiet")
sys.stdout.flush()


class FutureThing:
    def __init__(self):
        warnings.warn("FutureThing will change", FutureWarning, stacklevel=2)


FutureThing()
warnings.showwarning("custom showwarning", UserWarning, "fake.py", 99, line="fake source line")
print(warnings.formatwarning("formatted", SyntaxWarning, "f.py", 3, "x = 1").rstrip())
print("done")
