"""Class hierarchies: cooperative super() in diamonds, MRO, abstract base classes, __class__ cell, mixins."""
import abc


class Base:
    def __init__(self, **kw):
        self.log = ["Base"]
        super().__init__(**kw)

    def describe(self):
        return ["Base"]


class Timestamped(Base):
    def __init__(self, created="2024-01-01", **kw):
        super().__init__(**kw)
        self.created = created
        self.log.append("Timestamped")

    def describe(self):
        return ["Timestamped"] + super().describe()


class Owned(Base):
    def __init__(self, owner="root", **kw):
        super().__init__(**kw)
        self.owner = owner
        self.log.append("Owned")

    def describe(self):
        return ["Owned"] + super().describe()


class Document(Timestamped, Owned):
    def __init__(self, title, **kw):
        super().__init__(**kw)
        self.title = title
        self.log.append("Document")

    def describe(self):
        return ["Document"] + super().describe()


d = Document("spec", owner="ann", created="2024-06-01")
print([c.__name__ for c in Document.__mro__])
print(d.log, d.describe(), d.owner, d.created)
print(super(Timestamped, d).describe(), Document.__bases__, issubclass(Document, Base))


class Shape(abc.ABC):
    @abc.abstractmethod
    def area(self): ...

    @property
    @abc.abstractmethod
    def name(self): ...

    def __repr__(self):
        return "%s(area=%.2f)" % (self.name, self.area())


class Rect(Shape):
    def __init__(self, w, h):
        self.w, self.h = w, h

    def area(self):
        return self.w * self.h

    @property
    def name(self):
        return type(self).__name__


class Square(Rect):
    def __init__(self, side):
        super().__init__(side, side)

    def area(self):
        return super().area()


try:
    Shape()
except TypeError as e:
    print("TypeError:", e)
print(sorted([Rect(2, 3), Square(2), Rect(1, 1.5)], key=lambda s: s.area()))
print(Square.__mro__[1].__name__, isinstance(Square(1), Shape), Square.area.__qualname__)


class JSONMixin:
    def to_json(self):
        return "{" + ", ".join('"%s": %r' % kv for kv in sorted(vars(self).items())) + "}"


class EqMixin:
    def __eq__(self, other):
        return type(self) is type(other) and vars(self) == vars(other)

    __hash__ = None


class Tag(JSONMixin, EqMixin):
    def __init__(self, name):
        self.name = name


print(Tag("x").to_json(), Tag("x") == Tag("x"), Tag("x") == Tag("y"), Tag.__hash__)
try:
    class Bad(Timestamped, Document):
        pass
except TypeError as e:
    print("TypeError:", e)
