"""Metaclasses and __init_subclass__: a plugin registry, field collection, __prepare__, __call__ singletons."""


class PluginBase:
    registry = {}

    def __init_subclass__(cls, /, name=None, priority=0, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.plugin_name = name or cls.__name__.lower()
        cls.priority = priority
        PluginBase.registry[cls.plugin_name] = cls


class Csv(PluginBase, name="csv", priority=2):
    pass


class Json(PluginBase, priority=5):
    pass


class Yaml(Json, name="yaml"):
    pass


print(sorted((n, c.__name__, c.priority) for n, c in PluginBase.registry.items()))


class Field:
    def __init__(self, kind):
        self.kind = kind

    def __repr__(self):
        return "Field(%s)" % self.kind.__name__


class ModelMeta(type):
    @classmethod
    def __prepare__(mcls, name, bases, **kw):
        print("  __prepare__", name, sorted(kw))
        return {"_order": []}

    def __new__(mcls, name, bases, ns, table=None):
        fields = {k: v for k, v in ns.items() if isinstance(v, Field)}
        ns["_fields"] = fields
        ns["_table"] = table or name.lower() + "s"
        cls = super().__new__(mcls, name, bases, ns)
        print("  created", name, "fields", list(fields))
        return cls

    def __call__(cls, *args, **kwargs):
        obj = super().__call__(*args, **kwargs)
        for k, f in cls._fields.items():
            if not isinstance(getattr(obj, k, None), f.kind):
                raise TypeError("%s.%s must be %s" % (cls.__name__, k, f.kind.__name__))
        return obj

    def __repr__(cls):
        return "<model %s table=%s>" % (cls.__name__, cls._table)


class Model(metaclass=ModelMeta):
    def __init__(self, **kw):
        for k, v in kw.items():
            setattr(self, k, v)


class User(Model, table="people"):
    name = Field(str)
    age = Field(int)


print(User, User._fields, type(User).__name__, type(type(User)).__name__)
print(vars(User(name="ann", age=3)))
try:
    User(name="bob", age="old")
except TypeError as e:
    print("TypeError:", e)


class Singleton(type):
    _instances = {}

    def __call__(cls, *a, **kw):
        if cls not in cls._instances:
            cls._instances[cls] = super().__call__(*a, **kw)
        return cls._instances[cls]


class Config(metaclass=Singleton):
    def __init__(self):
        self.loaded = True


print(Config() is Config(), len(Singleton._instances))
Dynamic = type("Dynamic", (object,), {"x": 1, "double": lambda self: self.x * 2})
print(Dynamic().double(), Dynamic.__name__, Dynamic.__module__, Dynamic.__qualname__)
try:
    class Conflict(User, Config):
        pass
except TypeError as e:
    print("TypeError:", e)


class Validated:
    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        missing = [m for m in ("run", "name") if not hasattr(cls, m)]
        if missing:
            raise TypeError("%s is missing %s" % (cls.__name__, ", ".join(missing)))


try:
    class Task(Validated):
        name = "t"
except TypeError as e:
    print("TypeError:", e)
print(isinstance(User, type), User.__class__, sorted(k for k in User.__dict__ if not k.startswith("__")))
