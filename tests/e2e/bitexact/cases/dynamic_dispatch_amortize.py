"""Amortize workload: descriptor-backed class, methods dispatched via getattr in a loop of M (argv, default 10000)."""
import sys


class Clamped:
    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    def __set_name__(self, owner, name):
        self.slot = "_" + name

    def __get__(self, obj, objtype=None):
        return self if obj is None else getattr(obj, self.slot)

    def __set__(self, obj, value):
        setattr(obj, self.slot, min(self.hi, max(self.lo, value)))


class Machine:
    level = Clamped(0, 1 << 20)

    def __init__(self):
        self.level = 1
        self.ops = 0

    def op_add(self, x):
        self.level = self.level + x
        self.ops += 1

    def op_mul(self, x):
        self.level = self.level * (x % 3 + 1)
        self.ops += 1

    def op_xor(self, x):
        self.level = self.level ^ (x * 2654435761 & 0xFFFF)
        self.ops += 1

    def op_shr(self, x):
        self.level = self.level >> (x % 4)
        self.ops += 1


def main(argv):
    m_iters = int(argv[1]) if len(argv) > 1 else 10000
    names = ["op_add", "op_mul", "op_xor", "op_shr", "op_add"]
    m = Machine()
    checksum = 0
    for i in range(m_iters):
        name = names[(i * 7 + (checksum & 3)) % len(names)]
        getattr(m, name)(i)
        checksum = (checksum * 31 + m.level) & 0xFFFFFFFF
    print("iterations:", m_iters)
    print("ops:", m.ops)
    print("level:", m.level)
    print("checksum: %08x" % checksum)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
