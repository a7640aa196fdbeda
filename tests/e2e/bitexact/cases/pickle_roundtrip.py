"""pickle: round-trips across protocols for builtins, custom classes with __reduce__/__getstate__, shared refs, errors."""
import collections
import copy
import datetime
import decimal
import fractions
import io
import pickle
import pickletools


class Account:
    def __init__(self, owner, balance):
        self.owner = owner
        self.balance = balance
        self._cache = {"expensive": list(range(3))}

    def __getstate__(self):
        state = self.__dict__.copy()
        del state["_cache"]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._cache = None

    def __repr__(self):
        return "Account(%r, %r, cache=%r)" % (self.owner, self.balance, self._cache)


class Point:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __reduce__(self):
        return (Point, (self.x, self.y))

    def __eq__(self, other):
        return (self.x, self.y) == (other.x, other.y)


shared = [1, 2, 3]
data = {
    "ints": [0, -1, 2 ** 100, True, None],
    "floats": (0.1, float("inf"), -0.0),
    "text": "héllo 😀",
    "bytes": b"\x00\xff",
    "set": frozenset({3, 1, 2}),
    "nested": {"a": shared, "b": shared},
    "od": collections.OrderedDict([("z", 1), ("a", 2)]),
    "counter": collections.Counter("banana"),
    "decimal": decimal.Decimal("1.10"),
    "fraction": fractions.Fraction(3, 7),
    "date": datetime.date(2024, 2, 29),
    "complex": 1 - 2j,
    "bytearray": bytearray(b"xyz"),
}
for proto in range(pickle.HIGHEST_PROTOCOL + 1):
    blob = pickle.dumps(data, protocol=proto)
    back = pickle.loads(blob)
    same_ref = back["nested"]["a"] is back["nested"]["b"]
    print("protocol", proto, back == data, same_ref, blob[:2].hex() if proto >= 2 else blob[:1])
print(sorted(back["set"]), back["counter"].most_common(2), type(back["od"]).__name__)

acct = pickle.loads(pickle.dumps(Account("ann", 120)))
print(acct)
pts = pickle.loads(pickle.dumps([Point(1, 2), Point(1, 2)], protocol=2))
print(pts[0] == Point(1, 2), pts[0] is pts[1], type(pts[0]).__qualname__)

deep = copy.deepcopy(data)
print(deep == data, deep["nested"]["a"] is deep["nested"]["b"], deep["nested"]["a"] is shared)
buf = io.BytesIO()
p = pickle.Pickler(buf, protocol=4)
p.dump({"k": [1, 2]})
p.dump("second")
buf.seek(0)
u = pickle.Unpickler(buf)
print(u.load(), u.load())
small = pickle.dumps((1, "a", None), protocol=0)
print(small)
out = io.StringIO()
pickletools.dis(pickle.dumps([1, "two"], protocol=2), out)
print(out.getvalue())
for bad in (lambda: pickle.dumps(lambda: 1), lambda: pickle.loads(b"garbage"), lambda: pickle.loads(b"")):
    try:
        bad()
    except (pickle.PicklingError, pickle.UnpicklingError, AttributeError, EOFError) as e:
        print(type(e).__name__ + ":", e)
