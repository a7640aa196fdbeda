"""Context managers: class-based and @contextmanager, ExitStack, suppress, redirect_stdout, exception handling in __exit__."""
import contextlib
import io
import sys


class Transaction:
    def __init__(self, name, log):
        self.name, self.log = name, log

    def __enter__(self):
        self.log.append("begin " + self.name)
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.log.append("commit " + self.name)
        else:
            self.log.append("rollback %s (%s: %s)" % (self.name, exc_type.__name__, exc))
        return exc_type is KeyError  # swallow KeyError only


log = []
with Transaction("t1", log) as t:
    log.append("work in " + t.name)
with Transaction("t2", log):
    {}["missing"]
try:
    with Transaction("t3", log):
        raise ValueError("boom")
except ValueError:
    log.append("t3 error propagated")
print("\n".join(log))


@contextlib.contextmanager
def indented(stack, prefix="  "):
    stack.append(prefix)
    try:
        yield "".join(stack)
    finally:
        stack.pop()


stack = []
with indented(stack) as p1:
    print(repr(p1))
    with indented(stack, "--") as p2:
        print(repr(p2))
print(stack)


@contextlib.contextmanager
def tolerant():
    try:
        yield
    except ZeroDivisionError as e:
        print("handled inside generator:", e)


with tolerant():
    1 / 0
print("after tolerant")

with contextlib.ExitStack() as es:
    order = []
    for i in range(3):
        es.callback(order.append, "cb%d" % i)
    files = [es.enter_context(io.StringIO("file %d" % i)) for i in range(2)]
    print([f.read() for f in files])
print("callbacks ran in order:", order, "closed:", [f.closed for f in files])

with contextlib.suppress(FileNotFoundError, KeyError):
    {}["x"]
    print("not printed")
buf = io.StringIO()
with contextlib.redirect_stdout(buf):
    print("captured line")
    help_text = "redirected"
ebuf = io.StringIO()
with contextlib.redirect_stderr(ebuf):
    print("to stderr", file=sys.stderr)
print(repr(buf.getvalue()), repr(ebuf.getvalue()), help_text)
with contextlib.nullcontext(42) as v:
    print("nullcontext", v)


class Reusable(contextlib.ContextDecorator):
    def __enter__(self):
        print("  enter")
        return self

    def __exit__(self, *exc):
        print("  exit", exc[0].__name__ if exc[0] else None)
        return False


@Reusable()
def job(x):
    print("  job", x)


job(1)
job(2)
with contextlib.closing(io.BytesIO(b"data")) as bio:
    print(bio.read())
print(bio.closed)
with open(__file__, encoding="utf-8") as fh:
    first = fh.readline().rstrip()
print(first[:20], fh.closed)
