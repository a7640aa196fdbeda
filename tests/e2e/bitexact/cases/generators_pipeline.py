"""Generators: pipelines, send/throw/close, yield from with return values, generator expressions."""
import itertools

LOG = """\
2024-01-05 INFO start
2024-01-05 WARN disk 81%
2024-01-05 ERROR db timeout
2024-01-06 INFO tick
2024-01-06 ERROR db timeout
2024-01-06 WARN disk 92%
"""


def read_lines(text):
    for line in text.splitlines():
        if line.strip():
            yield line


def parse(lines):
    for line in lines:
        day, level, msg = line.split(" ", 2)
        yield {"day": day, "level": level, "msg": msg}


def only(levels, records):
    return (r for r in records if r["level"] in levels)


for r in only({"ERROR", "WARN"}, parse(read_lines(LOG))):
    print(r["day"], r["level"].ljust(5), r["msg"])


def running_average():
    total = count = 0
    avg = None
    while True:
        try:
            value = yield avg
        except ValueError:
            print("  reset requested")
            total = count = 0
            avg = None
            continue
        if value is None:
            break
        total += value
        count += 1
        avg = total / count
    return count


avg = running_average()
next(avg)
for v in (10, 20, 60):
    print("avg", avg.send(v))
avg.throw(ValueError)
print("avg", avg.send(5))
try:
    avg.send(None)
except StopIteration as stop:
    print("finished with count", stop.value)


def chunked(seq, n):
    it = iter(seq)
    while chunk := list(itertools.islice(it, n)):
        yield chunk


def flatten(tree):
    for node in tree:
        if isinstance(node, list):
            depth = yield from flatten(node)
        else:
            yield node
    return "done"


def outer():
    result = yield from flatten([1, [2, [3, 4]], 5])
    yield "inner said " + result


print(list(chunked(range(11), 4)))
print(list(outer()))


def cleanup_gen():
    try:
        yield 1
        yield 2
    finally:
        print("  generator finalised")


g = cleanup_gen()
print(next(g))
g.close()
print(sum(x * x for x in range(100) if x % 3 == 0))
fib = itertools.accumulate(itertools.repeat(None, 15), lambda ab, _: (ab[1], ab[0] + ab[1]), initial=(0, 1))
print([a for a, _ in fib])
