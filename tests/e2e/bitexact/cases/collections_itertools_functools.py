"""collections/itertools/functools: word statistics, grouping, LRU caches, reduce, ordered and chained maps."""
import functools
import itertools
import operator
from collections import ChainMap, Counter, OrderedDict, defaultdict, deque, namedtuple

TEXT = """the quick brown fox jumps over the lazy dog the dog barks
and the fox runs quick quick away over the hill"""
words = TEXT.split()
counts = Counter(words)
print(counts.most_common(4))
print(sorted((counts - Counter(["the", "the", "quick"])).items())[:5])
print(sum(counts.values()), len(counts), counts["missing"], (counts & Counter(dog=5))["dog"])

by_len = defaultdict(list)
for w in sorted(set(words)):
    by_len[len(w)].append(w)
print(dict(sorted(by_len.items())))
for key, group in itertools.groupby(sorted(words, key=lambda w: w[0]), key=lambda w: w[0]):
    print(key, len(list(group)), end="; ")
print()

Point = namedtuple("Point", "x y", defaults=[0])
p = Point(3)
print(p, p._asdict(), p._replace(y=7), Point._fields, Point._field_defaults)

window = deque(maxlen=3)
for i in range(6):
    window.append(i)
    print(list(window), end=" ")
print()
dq = deque("abcde")
dq.rotate(2)
print(dq, dq.popleft(), dq.pop())

lru = OrderedDict()
for key in "abcabdea":
    lru[key] = lru.pop(key, 0) + 1
    if len(lru) > 3:
        print("evict", lru.popitem(last=False))
print(list(lru.items()))

defaults = {"color": "red", "size": "M"}
user = {"size": "L"}
cm = ChainMap(user, defaults)
print(cm["color"], cm["size"], dict(cm), cm.new_child({"color": "blue"})["color"])


@functools.lru_cache(maxsize=None)
def partitions(n, k=None):
    if k is None:
        k = n
    if n == 0:
        return 1
    return sum(partitions(n - i, i) for i in range(1, min(n, k) + 1))


print([partitions(n) for n in range(15)], partitions.cache_info().hits > 0)
print(functools.reduce(operator.mul, range(1, 11)), functools.reduce(lambda a, b: a + [b * a[-1]], [2, 3, 4], [1]))
print(list(itertools.combinations("abcd", 2)), len(list(itertools.permutations(range(4), 3))))
print(list(itertools.product("xy", repeat=2)), list(itertools.chain.from_iterable([[1, 2], [3], []])))
print(list(itertools.accumulate([3, 1, 4, 1, 5], max)), list(itertools.compress("abcdef", [1, 0, 1, 0, 1, 1])))
print(list(itertools.zip_longest("ab", [1, 2, 3], fillvalue="-")), list(itertools.starmap(pow, [(2, 5), (3, 2)])))
print(list(itertools.takewhile(lambda x: x < 4, itertools.count(1))), list(itertools.islice(itertools.cycle("ab"), 5)))
print(list(itertools.pairwise("abcd")) if hasattr(itertools, "pairwise") else "no pairwise")


@functools.total_ordering
class Version:
    def __init__(self, s):
        self.parts = tuple(map(int, s.split(".")))

    def __eq__(self, o):
        return self.parts == o.parts

    def __lt__(self, o):
        return self.parts < o.parts

    def __repr__(self):
        return "V" + ".".join(map(str, self.parts))


print(sorted(map(Version, ["1.10", "1.2", "1.2.1", "0.9"])), Version("2.0") >= Version("1.99"))


@functools.singledispatch
def describe(x):
    return "object"


@describe.register
def _(x: int):
    return "int %d" % x


@describe.register(list)
def _(x):
    return "list of %d" % len(x)


print(describe(3), describe([1, 2]), describe("s"), describe(True))
print(sorted(words, key=functools.cmp_to_key(lambda a, b: len(a) - len(b) or (a > b) - (a < b)))[:6])
