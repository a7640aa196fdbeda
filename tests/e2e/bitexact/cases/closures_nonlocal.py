"""Closures and nonlocal: counters, memoisers, late binding pitfalls, cell inspection and decorators with state."""


def make_counter(start=0, step=1):
    count = start

    def counter():
        nonlocal count
        count += step
        return count

    def reset():
        nonlocal count
        count = start

    counter.reset = reset
    return counter


c1, c2 = make_counter(), make_counter(100, 10)
print([c1() for _ in range(3)], [c2() for _ in range(2)])
c1.reset()
print(c1(), c2.__code__.co_freevars, sorted(cell.cell_contents for cell in c2.__closure__ if isinstance(cell.cell_contents, int)))

late = [lambda: i for i in range(4)]
early = [lambda i=i: i for i in range(4)]
print([f() for f in late], [f() for f in early])


def rate_limiter(limit):
    calls = []

    def decorator(func):
        def wrapper(*args):
            if len(calls) >= limit:
                return "limited(%s)" % func.__name__
            calls.append(args)
            return func(*args)
        wrapper.calls = calls
        return wrapper
    return decorator


@rate_limiter(2)
def send(msg):
    return "sent " + msg


print([send(m) for m in ("a", "b", "c")], send.calls)


def accumulator():
    total = 0
    history = []

    def add(x):
        nonlocal total
        total += x
        history.append(total)
        return total

    def stats():
        return {"total": total, "steps": len(history), "max": max(history, default=None)}
    return add, stats


add, stats = accumulator()
for v in (5, -2, 10):
    add(v)
print(stats())


def outer():
    x = "outer"

    def middle():
        x = "middle"

        def inner():
            nonlocal x
            x = "changed by inner"
            return x
        inner()
        return x
    return middle(), x


print(outer())
counter = 0


def bump_global():
    global counter
    counter += 1
    return counter


bump_global()
print(bump_global(), counter)


def compose(*funcs):
    def run(value):
        for f in reversed(funcs):
            value = f(value)
        return value
    return run


pipeline = compose(str.upper, lambda s: s.replace(" ", "_"), str.strip)
print(pipeline("  make me a slug  "))
try:
    def broken():
        print(undefined_later)
        undefined_later = 1
    broken()
except UnboundLocalError as e:
    print("UnboundLocalError:", e)
gen_closures = [(lambda n: (lambda: n * n))(k) for k in range(5)]
print([g() for g in gen_closures])
