"""Big integers and fractions: factorials, Fibonacci by matrix power, RSA toy, exact rational sums, int/str limits."""
import math
import sys
from fractions import Fraction

f100 = math.factorial(100)
print(f100)
print(len(str(f100)), f100.bit_length(), sum(map(int, str(f100))), f100 % (10 ** 9 + 7))


def fib(n):
    def mul(a, b):
        return [[a[0][0] * b[0][0] + a[0][1] * b[1][0], a[0][0] * b[0][1] + a[0][1] * b[1][1]],
                [a[1][0] * b[0][0] + a[1][1] * b[1][0], a[1][0] * b[0][1] + a[1][1] * b[1][1]]]
    result, base = [[1, 0], [0, 1]], [[1, 1], [1, 0]]
    while n:
        if n & 1:
            result = mul(result, base)
        base = mul(base, base)
        n >>= 1
    return result[0][1]


print(fib(300), fib(1000) % 1000000007)
p, q = 2 ** 127 - 1, 2 ** 89 - 1
n, phi, e = p * q, (p - 1) * (q - 1), 65537
d = pow(e, -1, phi)
msg = int.from_bytes(b"attack at dawn", "big")
c = pow(msg, e, n)
print(hex(c)[:40], pow(c, d, n).to_bytes(14, "big"))
print(math.gcd(f100, 2 ** 200), math.lcm(12, 18, 30) if hasattr(math, "lcm") else 180, math.isqrt(10 ** 40 + 1), math.comb(60, 30), math.perm(10, 3))
print(-7 // 2, -7 % 2, divmod(-(10 ** 30), 7), (-(10 ** 30)) >> 3, ~(2 ** 70), (2 ** 70) ^ (2 ** 69 + 1))
print(int("ff" * 20, 16), int("-0b1011", 0), int("1_000_000"), int("  42\n"), int("z", 36), bin(-37), oct(2 ** 40))
print(f"{2 ** 64:,}", f"{2 ** 64:_x}", f"{-2 ** 63:e}", float(2 ** 1023), (10 ** 25).bit_count() if hasattr(int, "bit_count") else "")
try:
    float(2 ** 1024)
except OverflowError as e:
    print("OverflowError:", e)
if hasattr(sys, "set_int_max_str_digits"):
    try:
        str(10 ** 5000)
    except ValueError as e:
        print("ValueError:", str(e)[:60])
    print(len(str(10 ** 4000)), sys.get_int_max_str_digits())

harmonic = sum(Fraction(1, k) for k in range(1, 21))
print(harmonic, float(harmonic), harmonic.limit_denominator(100))
print(Fraction(3, 4) + Fraction(1, 6), Fraction("0.125"), Fraction(0.1), Fraction("-7/21"), Fraction(2.5).as_integer_ratio())
print(Fraction(22, 7) > math.pi, round(Fraction(7, 2)), round(Fraction(5, 2)), Fraction(1, 3) ** 3, Fraction(9, 4) ** Fraction(1, 2))
print(math.floor(Fraction(-7, 2)), Fraction(7, 3) // 1, Fraction(7, 3) % 1, repr(Fraction(4, -6)), format(Fraction(1, 3), ".5f") if sys.version_info >= (3, 12) else "0.33333")
try:
    Fraction(1, 0)
except ZeroDivisionError as e:
    print("ZeroDivisionError:", e)
print(sum(Fraction(1, 2 ** k) for k in range(1, 60)), hash(Fraction(1, 2)) == hash(0.5), Fraction(10 ** 30, 3 * 10 ** 29))
