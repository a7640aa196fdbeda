"""Reads binary records from sys.stdin.buffer (see .stdin sidecar): a header, length-prefixed frames, raw bytes."""
import hashlib
import struct
import sys

data = sys.stdin.buffer
magic = data.read(4)
print("magic:", magic)
version, count = struct.unpack("<HH", data.read(4))
print("version", version, "frames", count)
for i in range(count):
    (length,) = struct.unpack("<I", data.read(4))
    payload = data.read(length)
    kind = payload[:1]
    body = payload[1:]
    if kind == b"T":
        print(i, "text", body.decode("utf-8", errors="surrogateescape").encode("ascii", "backslashreplace"))
    elif kind == b"N":
        print(i, "numbers", list(struct.unpack("<%di" % (len(body) // 4), body)))
    else:
        print(i, "raw", body.hex(" "))
rest = data.read()
print("trailer:", len(rest), "bytes, sha256", hashlib.sha256(rest).hexdigest()[:16])
print("nul bytes in trailer:", rest.count(0), "high bytes:", sum(b >= 0x80 for b in rest))
sys.stdout.buffer.write(b"raw out: " + rest[:8] + b"\n")
sys.stdout.flush()
