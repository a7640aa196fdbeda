"""String formatting: %-formatting, str.format, f-strings with specs/conversions, Template, format_map."""
import string
from string import Template

rows = [("Widget", 4, 3.5), ("Gadget (large)", 12, 12.25), ("Ünïcode", 1, 1000.0)]
print("%-16s|%5s|%10s" % ("name", "qty", "price"))
for name, qty, price in rows:
    print("%-16s|%5d|%10.2f" % (name, qty, price))
print("%(a)s and %(b)r" % {"a": "x", "b": "y"})
print("%%, %c%c, %5.1s|, %-6x|, %#o, %+d, % d, %e" % (65, "é", "abc", 255, 8, 5, 5, 12345.678))
print("{0}{1}{0}".format("ab", "cd"), "{name:>8}|{name:<8}|{name:^8}|".format(name="mid"))
print("{:08.3f} {:+,} {:_x} {:#b} {:o} {:X} {:e} {:%}".format(3.14159, 1234567, 0xDEADBEEF, 5, 64, 255, 0.00012, 0.256))
print("{!r} {!s} {!a}".format("é", "é", "é"), "{0[1]} {0[key]}".format({1: "one", "key": "K"}))
print("{x.real} {x.imag}".format(x=3 + 4j), "{:{w}.{p}f}".format(2.71828, w=10, p=3))
value, width = 42, 7
name = "Zoë"
print(f"{value:>{width}}|{value:<{width}}|{value:^{width}}|{value:0{width}d}|{value=}|{name!r}|{name!a}")
print(f"{'nested ' + name.upper():*^20}", f"{3 * 7:#06x}", f"{1e6:,.1f}", f"{-0.0:+.1f}", f"{12:c}")
print(f"{{literal braces}} {[1, 2][-1]} {dict(a=1)['a']} {(lambda x: x * 2)(5)}")
print(format(1234.5, "€>12,.2f"), format("tab", "\t<6") + "|", format(True, "d"), format(None, ""))
t = Template("Dear $name, your balance is $$${amount}. ${missing}")
print(t.safe_substitute(name="Ann", amount="10.00"))
try:
    t.substitute(name="Ann", amount=1)
except KeyError as e:
    print("KeyError:", e)


class DefaultDict(dict):
    def __missing__(self, key):
        return "<%s?>" % key


print("{a} {b} {c}".format_map(DefaultDict(a=1, c=3)))
print(list(string.Formatter().parse("x{0:>3}y{name!r}z")))
print(string.capwords("hello   wORLD from python"), string.ascii_letters[:5], string.punctuation[:8])
print("a,b,,c".split(","), "a,b,,c".split(",", 1), " x ".strip(), "xxabcxx".strip("x"), "a\tb".expandtabs(3))
print("Title Case Me".swapcase(), "straße".title(), "ab".zfill(5), "-7".zfill(4), "abc".removeprefix("a"))
print("|".join(["a", "b"]), "x".join("123"), "hello"[::-1], "hello".find("l"), "hello".rfind("l"), "%.3s" % "abcdef")
print(str(b"bytes \xff"), repr("quote's \"both\""), repr('only "double"'), repr("tab\tnl\n\x00\x7f"))
print(b"%s %d %x %c %b" % (b"ok", 5, 255, 65, b"\xff"), bytearray(b"abc").upper(), b"a-b".split(b"-"))
