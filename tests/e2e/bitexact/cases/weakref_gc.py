"""weakref and gc: caches with WeakValueDictionary, finalize callbacks, reference cycles collected by gc.collect()."""
import gc
import weakref


class Image:
    instances_freed = []

    def __init__(self, name, size):
        self.name, self.size = name, size

    def __del__(self):
        Image.instances_freed.append(self.name)

    def __repr__(self):
        return "Image(%r)" % self.name


cache = weakref.WeakValueDictionary()
a = Image("a.png", 100)
b = Image("b.png", 200)
cache["a"], cache["b"] = a, b
print(sorted(cache.keys()), cache["a"])
del a
gc.collect()
print(sorted(cache.keys()), Image.instances_freed)

r = weakref.ref(b)
print(r() is b, r().name)
events = []
fin = weakref.finalize(b, events.append, "finalized b")
print(fin.alive)
del b
gc.collect()
print(r(), events, fin.alive, Image.instances_freed)


class Node:
    def __init__(self, name):
        self.name = name
        self.peer = None

    def __del__(self):
        Image.instances_freed.append("node " + self.name)


gc.disable()
x, y = Node("x"), Node("y")
x.peer, y.peer = y, x
wx = weakref.ref(x)
del x, y
print("cycle alive before collect:", wx() is not None)
found = gc.collect()
gc.enable()
print("cycle alive after collect:", wx() is not None, found >= 2, sorted(Image.instances_freed))

ws = weakref.WeakSet()
keep = [Image("k%d" % i, i) for i in range(4)]
for img in keep:
    ws.add(img)
del keep[1:3]
gc.collect()
print(len(ws), sorted(i.name for i in ws))

wk = weakref.WeakKeyDictionary()
k = Image("key", 1)
wk[k] = "metadata"
print(list(wk.values()))
del k
gc.collect()
print(len(wk))


class Handler:
    def on_event(self, x):
        return "handled %s" % x


h = Handler()
m = weakref.WeakMethod(h.on_event)
print(m()("e1"))
del h
gc.collect()
print(m())
proxy_target = Image("proxied", 7)
p = weakref.proxy(proxy_target)
print(p.name, p.size)
del proxy_target
gc.collect()
try:
    p.name
except ReferenceError as e:
    print("ReferenceError:", e)
print(weakref.getweakrefcount(Image("tmp", 0)), gc.isenabled())
try:
    weakref.ref(42)
except TypeError as e:
    print("TypeError:", e)
