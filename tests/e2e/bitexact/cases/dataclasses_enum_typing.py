"""dataclasses, enum and typing: an order model with frozen/ordered dataclasses, Flag enums and type hints."""
import dataclasses
import enum
import typing
from dataclasses import dataclass, field
from typing import ClassVar, Dict, Generic, List, Optional, Protocol, TypeVar, Union


class Status(enum.Enum):
    NEW = "new"
    PAID = "paid"
    SHIPPED = "shipped"

    @property
    def is_final(self):
        return self is Status.SHIPPED


class Perm(enum.Flag):
    READ = enum.auto()
    WRITE = enum.auto()
    EXEC = enum.auto()
    RW = READ | WRITE


class Priority(enum.IntEnum):
    LOW = 1
    HIGH = 3


@dataclass(order=True, frozen=True)
class Money:
    cents: int
    currency: str = "EUR"

    def __str__(self):
        return "%d.%02d %s" % (self.cents // 100, self.cents % 100, self.currency)


@dataclass
class Order:
    id: int
    customer: str
    lines: List[Money] = field(default_factory=list)
    status: Status = Status.NEW
    note: Optional[str] = field(default=None, repr=False)
    registry: ClassVar[Dict[int, "Order"]] = {}

    def __post_init__(self):
        Order.registry[self.id] = self

    @property
    def total(self) -> Money:
        return Money(sum(m.cents for m in self.lines))


o = Order(7, "ann", [Money(1250), Money(99)], note="gift")
print(o)
print(o.total, o.status, o.status.value, o.status.is_final, Status("paid"), Status["SHIPPED"])
print(dataclasses.asdict(o))
print(dataclasses.astuple(Money(5)), [f.name for f in dataclasses.fields(Order)], list(Order.registry))
o2 = dataclasses.replace(o, id=8, status=Status.PAID)
print(o2 == o, o2.status, sorted([Money(300), Money(20), Money(300, "USD")]))
try:
    Money(1).cents = 2
except dataclasses.FrozenInstanceError as e:
    print("FrozenInstanceError:", e)
print(hash(Money(10)) == hash(Money(10)), Money(10) < Money(11))

p = Perm.READ | Perm.EXEC
print(p, repr(p), Perm.WRITE in Perm.RW, bool(Perm.READ & Perm.WRITE), [m.name for m in Perm])
print(Priority.HIGH > Priority.LOW, Priority.HIGH + 1, int(Priority.LOW), list(Status), len(Status))
print(repr(Status.NEW), Status.NEW.name, format(Priority.HIGH), str(Priority.HIGH))

T = TypeVar("T")


class Stack(Generic[T]):
    def __init__(self) -> None:
        self.items: List[T] = []

    def push(self, item: T) -> None:
        self.items.append(item)

    def pop(self) -> T:
        return self.items.pop()


class Sized(Protocol):
    def __len__(self) -> int: ...


def total_len(xs: List[Sized]) -> int:
    return sum(len(x) for x in xs)


s = Stack[int]()
s.push(1)
s.push(2)
print(s.pop(), total_len(["ab", [1, 2, 3]]))
print(typing.get_type_hints(Order)["lines"], typing.get_type_hints(total_len))
print(typing.get_origin(Union[int, str]), typing.get_args(Optional[int]), typing.get_args(Dict[str, List[int]]))
print(Optional[int] == Union[int, None], typing.cast(int, "x"), typing.TYPE_CHECKING)
Pair = typing.NamedTuple("Pair", [("a", int), ("b", str)])
print(Pair(1, "x"), Pair.__annotations__)


class Movie(typing.TypedDict, total=False):
    title: str
    year: int


print(Movie(title="Heat"), sorted(Movie.__optional_keys__))
