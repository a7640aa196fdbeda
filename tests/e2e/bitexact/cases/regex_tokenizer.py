"""re: a tokenizer for a small expression language with named groups, plus findall/sub/split/fullmatch."""
import re

TOKEN_SPEC = [
    ("NUMBER", r"\d+(?:\.\d*)?(?:[eE][+-]?\d+)?"),
    ("STRING", r'"(?:[^"\\]|\\.)*"'),
    ("IDENT", r"[A-Za-z_]\w*"),
    ("OP", r"==|!=|<=|>=|[-+*/%<>=()]"),
    ("NEWLINE", r"\n"),
    ("SKIP", r"[ \t]+|\#[^\n]*"),
    ("MISMATCH", r"."),
]
TOKEN_RE = re.compile("|".join("(?P<%s>%s)" % pair for pair in TOKEN_SPEC))
KEYWORDS = {"if", "then", "else", "let"}

SOURCE = '''let rate = 4.5e-2  # yearly
let name = "Big \\"Co\\""
if balance >= 1000 then balance * (1 + rate) else balance - 12 % 5
total != 3 @ oops
'''


def tokenize(code):
    line, line_start = 1, 0
    for m in TOKEN_RE.finditer(code):
        kind, value = m.lastgroup, m.group()
        col = m.start() - line_start + 1
        if kind == "NEWLINE":
            line, line_start = line + 1, m.end()
            continue
        if kind == "SKIP":
            continue
        if kind == "IDENT" and value in KEYWORDS:
            kind = value.upper()
        elif kind == "MISMATCH":
            kind = "ERROR"
        yield kind, value, line, col


for tok in tokenize(SOURCE):
    print("%-8s %-14r %d:%d" % tok)

text = "Contact: ann@example.com, Bob <bob.smith@mail.example.org>; bad@, x@y.z"
emails = re.findall(r"[\w.]+@[\w-]+(?:\.[\w-]+)+", text)
print(emails)
print(re.sub(r"(?P<user>[\w.]+)@(?P<host>[\w.]+)", r"\g<host>!\g<user>", text))
print(re.split(r"\s*[,;]\s*", text))
print(re.sub(r"\d+", lambda m: str(int(m.group()) * 2), "a1b22c333"))
date_re = re.compile(r"(?P<y>\d{4})-(?P<m>\d\d)-(?P<d>\d\d)")
m = date_re.search("due 2024-03-15 or later")
print(m.groupdict(), m.span(), m.group(0), m.expand(r"\g<d>/\g<m>/\g<y>"))
print(bool(re.fullmatch(r"[A-Z]{3}-\d{4}", "ABC-1234")), re.fullmatch(r"[A-Z]{3}", "ABCD"))
print(re.findall(r"(?i)straße|STRASSE", "Strasse STRASSE straße"))
print(re.findall(r"\w+", "naïve café 𝔘nicode_1"), re.findall(rb"\w+", b"na\xefve caf"))
print(re.compile(r"(a)(b)?").match("ac").groups(), re.escape("1+1=2? [yes]"))
print(re.subn(r"(?m)^\s+", "", "  a\n    b\nc"))
try:
    re.compile(r"(unclosed")
except re.error as e:
    print("re.error:", e.msg, "at", e.pos)
print(TOKEN_RE.pattern[:40], TOKEN_RE.groups, sorted(TOKEN_RE.groupindex.items()))
