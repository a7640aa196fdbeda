"""decimal: invoice arithmetic with contexts, quantize/rounding modes, traps and special values."""
from decimal import (ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal, DivisionByZero,
                     InvalidOperation, getcontext, localcontext)

CENT = Decimal("0.01")
lines = [("consulting", Decimal("7.5"), Decimal("120.00")),
         ("travel", Decimal("1"), Decimal("349.995")),
         ("licence", Decimal("3"), Decimal("19.99"))]
subtotal = Decimal(0)
for name, qty, unit in lines:
    amount = (qty * unit).quantize(CENT, rounding=ROUND_HALF_UP)
    subtotal += amount
    print(f"{name:<12}{qty:>6} x {unit:>8} = {amount:>10}")
tax = (subtotal * Decimal("0.0825")).quantize(CENT, rounding=ROUND_HALF_EVEN)
print("subtotal", subtotal, "tax", tax, "total", subtotal + tax)
print("split 3 ways:", [(subtotal / 3).quantize(CENT, rounding=r) for r in (ROUND_DOWN, ROUND_HALF_UP)])

print(getcontext().prec, Decimal(1) / Decimal(7))
with localcontext() as ctx:
    ctx.prec = 50
    print(Decimal(2).sqrt())
    print(Decimal(1).exp())
print(Decimal("1.30") + Decimal("1.20"), Decimal("1.30") * Decimal("1.20"), Decimal("10") ** -3)
print(Decimal(0.1), Decimal("0.1"), Decimal(0.1) == Decimal("0.1"), Decimal.from_float(0.5))
print(Decimal("123.4500").normalize(), Decimal("1E+3").to_integral_value(), Decimal("-0"), Decimal("1e-30"))
print(Decimal("3.14159").as_tuple(), Decimal("-12.5").adjusted(), Decimal("NaN").is_nan(), Decimal("-Infinity"))
print(sorted([Decimal("2.5"), Decimal("-1"), Decimal("2.50"), Decimal("0.333")]))
print("%s %r %.3f %e" % (Decimal("1.5"), Decimal("1.5"), Decimal("2.0005"), Decimal("12345.678")))
print(format(Decimal("1234567.891"), ",.2f"), format(Decimal("0.000123"), ".2e"), format(Decimal("42"), "08"))

strict = Context(prec=10, traps=[DivisionByZero, InvalidOperation])
for expr in (lambda: strict.divide(Decimal(1), Decimal(0)), lambda: strict.sqrt(Decimal(-4)),
             lambda: Decimal("abc")):
    try:
        expr()
    except (DivisionByZero, InvalidOperation) as e:
        print(type(e).__name__, [c.__name__ for c in type(e).__mro__[:2]])
lenient = Context(prec=6, traps=[])
print(lenient.divide(Decimal(1), Decimal(0)), lenient.sqrt(Decimal(-4)), lenient.flags[DivisionByZero])
print(Decimal(7).quantize(Decimal("1e-2")), Decimal("7.777").quantize(Decimal("1."), rounding=ROUND_DOWN))
print(sum(Decimal("0.1") for _ in range(10)) == Decimal("1.0"), int(Decimal("-7.9")), float(Decimal("2.5")))
