# "amortize": dynamic dispatch in a loop of M iterations (argv[1]).
# Each iteration selects an instance method by name with getattr() and calls
# it; the methods read a data descriptor and a property, and the result is
# written back through the descriptor's __set__.  With M = 1 the run is pure
# start-up; as M grows the fixed start-up cost is amortized and the run time
# is dominated by attribute lookup, descriptor and call machinery.
import sys


class Masked:
    """Data descriptor storing a 16-bit value in the instance __dict__."""

    def __set_name__(self, owner, name):
        self.key = "_" + name

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        return obj.__dict__[self.key]

    def __set__(self, obj, value):
        obj.__dict__[self.key] = value & 0xFFFF


class Widget:
    level = Masked()

    def __init__(self, level, scale):
        self.level = level
        self._scale = scale

    @property
    def scale(self):
        return self._scale

    def grow(self, k):
        return self.level * self.scale + k

    def shrink(self, k):
        return self.level - k * self.scale

    def twist(self, k):
        return (self.level ^ k) + self.scale


OPS = ("grow", "shrink", "twist")


def main(m):
    w = Widget(7, 3)
    acc = 0
    for i in range(m):
        r = getattr(w, OPS[i % 3])(i)
        w.level = r
        acc = (acc * 31 + r) & 0xFFFFFFFF
    print(acc)


main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
