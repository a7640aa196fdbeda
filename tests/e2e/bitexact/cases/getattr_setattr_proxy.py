"""__getattr__/__setattr__/__delattr__/__getattribute__ in a recording proxy and a settings object."""


class Settings:
    _defaults = {"debug": False, "level": "info", "workers": 4}

    def __init__(self, **overrides):
        object.__setattr__(self, "_values", dict(overrides))
        object.__setattr__(self, "_log", [])

    def __getattr__(self, name):
        # only called when normal lookup fails
        if name in self._values:
            return self._values[name]
        if name in self._defaults:
            return self._defaults[name]
        raise AttributeError("no setting %r" % name)

    def __setattr__(self, name, value):
        if name not in self._defaults:
            raise AttributeError("unknown setting %r" % name)
        self._log.append(("set", name, value))
        self._values[name] = value

    def __delattr__(self, name):
        self._log.append(("reset", name))
        self._values.pop(name, None)


class Recorder:
    def __init__(self, target):
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "calls", [])

    def __getattribute__(self, name):
        if name in ("_target", "calls") or name.startswith("__"):
            return object.__getattribute__(self, name)
        calls = object.__getattribute__(self, "calls")
        calls.append(name)
        return getattr(object.__getattribute__(self, "_target"), name)


s = Settings(level="debug")
print(s.debug, s.level, s.workers)
s.workers = 8
s.debug = True
del s.level
print(s.debug, s.level, s.workers)
for action in (lambda: s.colour, lambda: setattr(s, "colour", "red")):
    try:
        action()
    except AttributeError as e:
        print("AttributeError:", e)
print(s._log)
print(hasattr(s, "debug"), hasattr(s, "nope"), getattr(s, "nope", "fallback"))

r = Recorder([3, 1, 2])
r.append(5)
r.sort()
print(r.index(5), r.count(1), len(r._target))
print(r.calls)
print(r._target)
try:
    r.missing_method
except AttributeError as e:
    print("AttributeError:", e)
