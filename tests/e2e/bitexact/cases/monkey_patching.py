"""Monkey-patching classes, instances, modules and builtins, then restoring them."""
import builtins
import json
import math


class Greeter:
    def greet(self, who):
        return "hello " + who


g = Greeter()
print(g.greet("world"))

original = Greeter.greet
Greeter.greet = lambda self, who: original(self, who).upper() + "!"
print(g.greet("world"))

g.greet = lambda who: "instance-level " + who
print(g.greet("world"), Greeter().greet("class"))
del g.greet
Greeter.greet = original
print(g.greet("restored"))

real_sqrt = math.sqrt
calls = []


def spy_sqrt(x):
    calls.append(x)
    return real_sqrt(x)


math.sqrt = spy_sqrt
print([math.sqrt(v) for v in (4, 9, 2)])
math.sqrt = real_sqrt
print("spied:", calls)

real_dumps = json.dumps
json.dumps = lambda obj, **kw: real_dumps(obj, sort_keys=True, **kw)
print(json.dumps({"b": 1, "a": [2, 3]}))
json.dumps = real_dumps

real_print = builtins.print
lines = []
builtins.print = lambda *a, **k: lines.append(" ".join(map(str, a)))
print("captured", 1, 2)
print("captured again")
builtins.print = real_print
print(lines)


def add_method(cls):
    def describe(self):
        return "%s with %d attrs" % (type(self).__name__, len(vars(self)))
    cls.describe = describe
    return cls


class Box:
    def __init__(self):
        self.a, self.b = 1, 2


add_method(Box)
print(Box().describe())
try:
    int.extra = 1
except TypeError as e:
    print("TypeError:", e)
