"""*args/**kwargs forwarding, keyword-only and positional-only params, signature binding."""
import functools
import inspect


def log_call(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        parts = [repr(a) for a in args] + ["%s=%r" % kv for kv in sorted(kwargs.items())]
        result = func(*args, **kwargs)
        print("%s(%s) -> %r" % (func.__name__, ", ".join(parts), result))
        return result
    return wrapper


@log_call
def make_order(customer, /, *items, discount=0, **meta):
    total = sum(price for _, price in items)
    return {"customer": customer, "n": len(items), "total": total - discount, "meta": meta}


@log_call
def merge(*dicts, **overrides):
    out = {}
    for d in dicts:
        out.update(d)
    out.update(overrides)
    return out


make_order("ann", ("pen", 3), ("ink", 7), discount=2, channel="web")
make_order("bob")
items = [("a", 1), ("b", 2), ("c", 3)]
opts = {"discount": 1, "rush": True}
make_order("cy", *items, **opts)
merge({"x": 1}, {"y": 2}, y=3, z=4)

try:
    make_order(customer="dee")
except TypeError as e:
    print("TypeError:", e)
try:
    merge(1, 2)
except (TypeError, ValueError) as e:
    print(type(e).__name__ + ":", e)


def f(a, b=2, *rest, c, d=4, **kw):
    return a, b, rest, c, d, kw


sig = inspect.signature(f)
print(sig)
for p in sig.parameters.values():
    print(" ", p.name, p.kind.name, p.default is inspect.Parameter.empty)
ba = sig.bind(1, 2, 3, 4, c=5, e=6)
ba.apply_defaults()
print(ba.arguments)
print(f(*ba.args, **ba.kwargs))
try:
    sig.bind(1)
except TypeError as e:
    print("TypeError:", e)
print(functools.partial(f, 10, c=0)(20, 30, x=1))
