"""ctypes: calling libc strlen/abs/qsort/snprintf through CDLL, structures, arrays and pointers."""
import ctypes
import ctypes.util
import sys

libc = ctypes.CDLL(None)
try:
    libc.strlen
except AttributeError:
    libc = ctypes.CDLL(ctypes.util.find_library("c"))

libc.strlen.argtypes = [ctypes.c_char_p]
libc.strlen.restype = ctypes.c_size_t
libc.abs.argtypes = [ctypes.c_int]
libc.abs.restype = ctypes.c_int
for s in (b"", b"hello", "héllo".encode("utf-8"), b"nul\x00hidden"):
    print(repr(s), libc.strlen(s))
print([libc.abs(v) for v in (-5, 0, 7, -2147483647)])
libc.labs.argtypes = [ctypes.c_long]
libc.labs.restype = ctypes.c_long
print(libc.labs(-(2 ** 40)))

buf = ctypes.create_string_buffer(64)
libc.snprintf.restype = ctypes.c_int
n = libc.snprintf(buf, ctypes.sizeof(buf), b"%s=%05d|%x|%.3f", b"count", ctypes.c_int(42), ctypes.c_uint(48879),
                  ctypes.c_double(3.14159))
print(n, buf.value)

CMPFUNC = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int))


def py_cmp(a, b):
    return (a[0] > b[0]) - (a[0] < b[0])


arr = (ctypes.c_int * 8)(5, -3, 99, 0, 12, -3, 7, 1)
libc.qsort(arr, len(arr), ctypes.sizeof(ctypes.c_int), CMPFUNC(py_cmp))
print(list(arr))


class Point(ctypes.Structure):
    _fields_ = [("x", ctypes.c_int16), ("y", ctypes.c_int16), ("tag", ctypes.c_char * 4)]


class Packet(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("kind", ctypes.c_uint8), ("length", ctypes.c_uint32), ("origin", Point)]


p = Packet(7, 1024, Point(-1, 300, b"ab"))
print(ctypes.sizeof(Point), ctypes.sizeof(Packet), ctypes.alignment(Point))
print(bytes(p).hex(), p.origin.x, p.origin.y, p.origin.tag)
q = Packet.from_buffer_copy(bytes(p))
print(q.kind, q.length, q.origin.tag)
ip = ctypes.pointer(ctypes.c_int(10))
ip.contents.value += 5
print(ip.contents.value, ip[0], bool(ctypes.POINTER(ctypes.c_int)()))
u = ctypes.c_uint8(300)
print(u.value, ctypes.c_int8(200).value, ctypes.c_double(1 / 3).value, ctypes.sizeof(ctypes.c_void_p) * 8)
s = ctypes.c_char_p(b"const")
print(s.value, ctypes.string_at(s, 3), ctypes.cast(s, ctypes.c_void_p).value is not None)
print(sys.byteorder, ctypes.c_int32 is ctypes.c_int, ctypes.c_int64 is ctypes.c_long)
