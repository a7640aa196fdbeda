"""struct: packing/unpacking a binary record format with endianness, alignment, iter_unpack and errors."""
import struct
import zlib
from collections import namedtuple

Record = namedtuple("Record", "id flags temp_c name")
REC = struct.Struct("<IHf8s")
print("record size", REC.size, "format", REC.format)

records = [Record(1, 0b101, 21.5, b"kitchen"), Record(2, 0, -3.25, b"garage"), Record(70000, 0xFFFF, 1e10, b"attic-long-name")]
blob = b"".join(REC.pack(*r) for r in records)
print(len(blob), blob[:REC.size].hex())
for rec in map(Record._make, REC.iter_unpack(blob)):
    print(rec.id, bin(rec.flags), rec.temp_c, rec.name.rstrip(b"\0"))

header = struct.pack(">4sBBHI", b"DATA", 1, 2, len(records), zlib.crc32(blob))
print(header.hex(" ", 4), struct.unpack(">4sBBHI", header))
for fmt in ("@bhiq", "=bhiq", "<bhiq", ">bhiq", "!d", "@c?xq", "<e", "<Qq", "3s2x"):
    print("%-7s %3d" % (fmt, struct.calcsize(fmt)))
print(struct.pack("<h", -2), struct.pack(">h", -2), struct.pack("<e", 1.5), struct.pack("<f", 0.1))
print(struct.unpack("<f", struct.pack("<f", 0.1))[0], struct.unpack("<d", struct.pack("<d", 0.1))[0])
print(struct.pack("<?3s", True, b"abcdef"), struct.pack("5p", b"hi"), struct.unpack("<q", b"\xff" * 8))

buf = bytearray(16)
struct.pack_into("<HH", buf, 4, 0xBEEF, 7)
print(buf.hex(), struct.unpack_from("<H", buf, 6))
for bad in [("<h", 40000), ("<I", -1), ("<c", b"ab"), ("<i", 1.5)]:
    try:
        struct.pack(*bad)
    except struct.error as e:
        print("struct.error:", e)
try:
    struct.unpack("<I", b"abc")
except struct.error as e:
    print("struct.error:", e)
mv = memoryview(blob).cast("B")
print(mv[:4].tolist(), mv.nbytes, bytes(mv[-4:]))
print(int.from_bytes(b"\x01\x00", "little"), (1024).to_bytes(4, "big"), (-1).to_bytes(2, "big", signed=True))
