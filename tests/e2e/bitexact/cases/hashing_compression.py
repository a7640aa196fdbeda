"""hashlib/hmac/zlib/base64/binascii: file manifest with checksums, signed tokens, compression round-trips."""
import base64
import binascii
import hashlib
import hmac
import zlib

files = {
    "readme.txt": b"Hello, world!\n" * 3,
    "data.bin": bytes(range(256)) * 4,
    "empty": b"",
    "utf8.txt": "Grüße, 世界 😀\n".encode("utf-8"),
}
for name, data in sorted(files.items()):
    print("%-10s %5d md5=%s sha1=%s crc=%08x adler=%08x" % (
        name, len(data), hashlib.md5(data).hexdigest(), hashlib.sha1(data).hexdigest()[:12],
        zlib.crc32(data), zlib.adler32(data)))

h = hashlib.sha256()
for chunk in (b"part1-", b"part2-", b"part3"):
    h.update(chunk)
print(h.hexdigest(), h.digest_size, h.block_size, h.name)
print(hashlib.sha256(b"part1-part2-part3").hexdigest() == h.hexdigest())
for algo in ("sha224", "sha384", "sha512", "sha3_256", "blake2b", "blake2s"):
    print(algo, hashlib.new(algo, b"abc").hexdigest()[:32])
print(hashlib.blake2b(b"abc", digest_size=16, key=b"k", person=b"p").hexdigest())
print(hashlib.pbkdf2_hmac("sha256", b"password", b"salt", 1000).hex())
print(hashlib.shake_128(b"abc").hexdigest(20))

secret = b"s3cr3t-key"
payload = base64.urlsafe_b64encode(b'{"user":"ann","role":"admin"}').rstrip(b"=")
sig = hmac.new(secret, payload, hashlib.sha256).digest()
token = payload + b"." + base64.urlsafe_b64encode(sig).rstrip(b"=")
print(token.decode())
p, s = token.split(b".")
pad = b"=" * (-len(s) % 4)
print(hmac.compare_digest(base64.urlsafe_b64decode(s + pad), hmac.new(secret, p, "sha256").digest()))
print(hmac.new(b"key", b"msg", hashlib.md5).hexdigest(), hmac.digest(b"key", b"msg", "sha1").hex())

text = ("the quick brown fox " * 200).encode()
for level in (0, 1, 6, 9):
    comp = zlib.compress(text, level)
    print("level", level, len(comp), zlib.decompress(comp) == text)
co = zlib.compressobj(9, zlib.DEFLATED, -15)
raw = co.compress(text) + co.flush()
print(len(raw), zlib.decompress(raw, -15)[:20])
gz = zlib.compressobj(6, zlib.DEFLATED, 31)
gzdata = gz.compress(b"gzip me") + gz.flush()
print(gzdata[:3].hex(), zlib.decompress(gzdata, 47))
d = zlib.decompressobj()
print(d.decompress(zlib.compress(b"abc") + b"trailing"), d.unused_data, d.eof)
try:
    zlib.decompress(b"not zlib data")
except zlib.error as e:
    print("zlib.error:", e)

sample = bytes([0, 1, 2, 250, 251, 252, 253, 254, 255]) + b"hi"
print(base64.b64encode(sample), base64.urlsafe_b64encode(sample), base64.b32encode(sample), base64.b16encode(sample))
print(base64.b85encode(sample), base64.a85encode(sample), base64.b64decode(b"aGk="), base64.b32decode(b"NBUQ===="))
print(binascii.hexlify(sample, "-"), binascii.crc_hqx(sample, 0), binascii.unhexlify("cafe"))
try:
    base64.b64decode(b"abc", validate=True)
except binascii.Error as e:
    print("binascii.Error:", e)
