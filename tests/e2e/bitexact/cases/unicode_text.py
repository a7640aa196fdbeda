"""Unicode: normalisation forms, non-BMP characters, casefolding, surrogateescape, encodings and widths."""
import sys
import unicodedata

words = ["café", "cafe\u0301", "ﬁancé", "Straße", "ǅemal", "𝒳-ray", "naïve", "Ω", "Ω"]
for w in words:
    nfc = unicodedata.normalize("NFC", w)
    nfd = unicodedata.normalize("NFD", w)
    nfkc = unicodedata.normalize("NFKC", w)
    print(w, len(w), len(nfc), len(nfd), nfkc, w.casefold(), w.upper(), ascii(w))

print(unicodedata.normalize("NFC", "cafe\u0301") == "café", "café" == "cafe\u0301")
emoji = "👩‍💻 🇫🇷 😀 𝄞 家"
print(emoji, len(emoji), len(emoji.encode("utf-8")), len(emoji.encode("utf-16-le")) // 2)
for ch in "A€😀𝄞\u200d\u00e9":
    print("U+%04X" % ord(ch), unicodedata.name(ch, "?"), unicodedata.category(ch),
          ch.encode("utf-8").hex(), repr(ch), ch.isprintable())
print("😀".encode("utf-16-be"), "😀".encode("utf-32-le"))
print([hex(ord(c)) for c in "😀".encode("utf-16-le").decode("utf-16-le")])

raw = b"name=caf\xe9\xff;ok=\xc3\xa9"
decoded = raw.decode("utf-8", errors="surrogateescape")
print(ascii(decoded), len(decoded))
print(decoded.encode("utf-8", errors="surrogateescape") == raw)
print(decoded.encode("utf-8", errors="backslashreplace"))
print(raw.decode("utf-8", errors="replace"))
print(raw.decode("latin-1"), raw.decode("utf-8", errors="ignore"))
try:
    raw.decode("utf-8")
except UnicodeDecodeError as e:
    print("UnicodeDecodeError:", e)
try:
    decoded.encode("utf-8")
except UnicodeEncodeError as e:
    print("UnicodeEncodeError:", e.reason, e.start, e.end)
print(sys.getfilesystemencoding(), sys.getfilesystemencodeerrors())
print(sorted(["éclair", "eclair", "Zebra", "zebra", "Émile", "ábc"]))
print(sorted(["éclair", "eclair", "Zebra", "zebra", "Émile"], key=lambda s: unicodedata.normalize("NFD", s).casefold()))
print("ß".upper(), "İ".lower(), len("İ".lower()), "ς".upper(), "ﬃ".upper())
print("{:*^11}".format("中文"), "x".center(5, "·"), "𝔘𝔫𝔦𝔠𝔬𝔡𝔢".isalpha())
print("\N{GREEK SMALL LETTER ALPHA}\N{SNOWMAN}", "\u2603".encode("unicode_escape"), "tab\there".expandtabs(4))
print(bytes(range(0x20, 0x7f, 9)).decode("ascii"), "é".encode("cp1252"), "€".encode("cp1252"))
