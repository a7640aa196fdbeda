"""CPU-bound pure Python, one call per input: the demo's job for `isolate map`
and for the Python API.

    isolate map examples/primes.py:count_primes --input numbers.jsonl
    isolate run examples/primes.py          # isolate.map vs a plain loop
"""
import sys
import time


def count_primes(limit):
    """How many primes are below limit (trial division: slow on purpose)."""
    count = 0
    for n in range(2, limit):
        d = 2
        while d * d <= n:
            if n % d == 0:
                break
            d += 1
        else:
            count += 1
    return count


if __name__ == "__main__":
    import isolate

    limits = [20000 + 500 * i for i in range(24)]
    t0 = time.perf_counter()
    expected = [count_primes(n) for n in limits]
    t1 = time.perf_counter()
    got = isolate.map(count_primes, limits)
    t2 = time.perf_counter()
    if got != expected:
        sys.exit("isolate.map differs from the plain loop")
    print(f"{len(limits)} items: plain loop {t1 - t0:.2f} s, isolate.map {t2 - t1:.2f} s "
          f"({(t1 - t0) / (t2 - t1):.2f}x, backends {isolate.backends()}), same results")
