"""Float repr/str, format specs, rounding, special values, float.hex and locale-free number formatting."""
import math
import sys

values = [0.1, 0.1 + 0.2, 1 / 3, 2 / 3, 1e16, 1e-7, 123456789.125, -0.0, 2.5, 3.5,
          1.7976931348623157e308, 5e-324, 100.0, 1e22, 1e23, 9007199254740993.0]
for v in values:
    print(repr(v), str(v), "%g" % v, "%.3e" % v, format(v, ".17g"))

print([round(x, 1) for x in (0.05, 0.15, 0.25, 0.35, 2.675)])
print([round(x) for x in (0.5, 1.5, 2.5, -0.5, -1.5)])
specs = ["", ".2f", "+.3f", "10.4f", "<12.2e", "^12.1%", "_.2f", ",.3f", "015.3f", "#.0f", "g", ".3g", "n"]
for spec in specs:
    print("%-8r %r" % (spec, format(1234567.891, spec)))
print(format(0.000012345, ".3g"), format(12345678901.0, "g"), format(-1e-10, "e"))
for special in (math.inf, -math.inf, math.nan):
    print(repr(special), format(special, "8.2f"), format(special, "+e"), str(special).upper())
print(float("1_000.5"), float("  -3.25e2 "), float("inf"), float("-nan"))
print((0.1).hex(), float.fromhex("0x1.999999999999ap-4"), (255.5).as_integer_ratio())
print(math.fsum([0.1] * 10), sum([0.1] * 10), math.isclose(sum([0.1] * 10), 1.0))
print(sys.float_info.dig, sys.float_info.mant_dig, sys.float_info.epsilon, sys.float_repr_style)
print(complex(1.5, -2.25), complex(0, 1) ** 2, abs(3 + 4j), format(1 + 2j, ".2f"))
print(divmod(7.5, 2), 7.5 // -2, -7.5 % 2, math.fmod(-7.5, 2))
print(1e300 * 1e10, -1e300 * 1e10, math.ldexp(1.0, -1074), math.frexp(48.0))
try:
    math.sqrt(-1)
except ValueError as e:
    print("ValueError:", e)
try:
    1.0 / 0
except ZeroDivisionError as e:
    print("ZeroDivisionError:", e)
print(int(2.999), int(-2.999), math.floor(-2.5), math.ceil(-2.5), math.trunc(1e20))
table = [("apples", 3, 0.5), ("kiwis", 12, 0.25), ("mangoes", 2, 1.755)]
for name, n, price in table:
    print(f"{name:<10}|{n:>4d}|{price:>8.2f}|{n * price:>9.3f}")
print(f"{math.pi!r:>25} {math.e:.10f} {math.tau:=+12.4f}")
