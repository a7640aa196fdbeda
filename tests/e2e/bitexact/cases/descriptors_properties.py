"""Descriptors (data/non-data, __set_name__) and properties in a validated record class."""


class Typed:
    def __init__(self, kind, minimum=None):
        self.kind = kind
        self.minimum = minimum

    def __set_name__(self, owner, name):
        self.public = name
        self.private = "_" + name

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        return getattr(obj, self.private)

    def __set__(self, obj, value):
        if not isinstance(value, self.kind):
            raise TypeError("%s must be %s, got %s" % (self.public, self.kind.__name__, type(value).__name__))
        if self.minimum is not None and value < self.minimum:
            raise ValueError("%s must be >= %r" % (self.public, self.minimum))
        setattr(obj, self.private, value)


class Cached:
    """Non-data descriptor: computed once, then shadowed by the instance dict."""

    def __init__(self, func):
        self.func = func
        self.name = func.__name__

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        value = self.func(obj)
        obj.__dict__[self.name] = value
        return value


class Product:
    name = Typed(str)
    qty = Typed(int, minimum=0)
    price = Typed(float, minimum=0.0)

    def __init__(self, name, qty, price):
        self.name = name
        self.qty = qty
        self.price = price
        self.computations = 0

    @property
    def total(self):
        return round(self.qty * self.price, 2)

    @total.setter
    def total(self, value):
        self.price = value / self.qty

    @total.deleter
    def total(self):
        self.qty = 0

    @Cached
    def label(self):
        self.computations += 1
        return "%s x%d" % (self.name.upper(), self.qty)


p = Product("widget", 3, 2.5)
print(p.name, p.qty, p.price, p.total)
p.total = 10.0
print("price after total=10:", p.price)
print(p.label, p.label, "computed", p.computations, "time(s)")
del p.total
print("qty after del:", p.qty, "total:", p.total)
for bad in [("qty", -1), ("qty", "3"), ("price", 1), ("name", None)]:
    try:
        setattr(p, *bad)
    except (TypeError, ValueError) as e:
        print(type(e).__name__ + ":", e)
print(type(Product.qty).__name__, Product.qty.public, Product.qty.private)
print(sorted(k for k in vars(p)))
print(isinstance(Product.total, property), Product.total.fset is not None)
