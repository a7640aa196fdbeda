"""The per-worker half of `isolate map`, run inside every isolate (a
sub-interpreter, the main interpreter of a worker process, or a thread).

The C++ pool calls load(target, star, codec, fresh) once per worker, which
returns run_batch(items) for those settings, then run_batch per chunk; it
returns one (ok, payload) pair per item.
Nothing here raises for a failing item: each item fails alone.

codec "json" (`isolate map`): an item is one JSON line; the payload is the
JSON of the return value, or of an error record {type, message, traceback}.
codec "pickle" (the Python API): an item is a batch of calls to one function,
ref = (module, qualname, main_file) (see _run_calls). TARGET is then the
hex of a pickle of {"path": the caller's sys.path, "ref": a ref or None}: a
sub-interpreter takes that sys.path, and the ref is resolved up front, so
that a module that cannot load in a sub-interpreter is found when the pool
starts.
"""
import importlib
import os
import sys

# json, _pickle, traceback and importlib.util are imported where they are
# needed: every worker of every pool pays for its imports before its first
# item, and a sub-interpreter imports each anew. The pickle codec uses
# _pickle, not pickle: pickle.py brings re and enum, 7 ms of a worker's start.

_fresh = False  # a sub-interpreter of our own, whose __main__ is not the caller's
# A rank other than 0 of an MPI job (isolate run under mpirun): its main
# interpreter is not rank 0's script either, so it finds __main__ functions
# as a sub-interpreter does, importing the script when one is first needed.
# (Each pool runs this module's body again in the same module: keep the flag.)
serving_rank = globals().get("serving_rank", False)
_main = globals().get("_main")  # the caller's main script, once imported here
_main_lock = globals().get("_main_lock") or __import__("_thread").allocate_lock()
_funcs = {}     # pickle codec: ref -> function
# True while TARGET or the caller's main script is being imported, so that an
# unguarded isolate.map() at a script's top level is refused, not recursive.
loading = False
MAIN = "__isolate_main__"


class TargetError(Exception):
    """TARGET cannot be loaded; the message says why, in one line."""


def _import_file(path, name="__isolate_map_target__"):
    import importlib.util
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise TargetError(f"{path}: not a Python source file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load(target, star, codec="json", fresh=False):
    """Imports TARGET (module:function or path/to/file.py:function) and
    returns run_batch(items) for these settings."""
    global _fresh, loading
    _fresh = fresh or serving_rank  # what this interpreter is: the same for every pool in it
    if codec == "pickle":
        import _pickle
        spec = _pickle.loads(bytes.fromhex(target))
        if fresh:
            sys.path[:] = spec["path"]
        if spec["ref"] is not None:
            _resolve(tuple(spec["ref"]))
        return lambda items: [_run_calls(item) for item in items]
    _load_json()
    loading = True
    try:
        func = _load_target(target)
    finally:
        loading = False
    return lambda lines: [_one(line, func, star) for line in lines]


def _load_target(target):
    where, sep, name = target.rpartition(":")
    if not sep or not where or not name:
        raise TargetError(f"target {target!r}: expected module:function or path/to/file.py:function")
    if where.endswith(".py") or os.sep in where:
        path = os.path.abspath(where)
        if not os.path.isfile(path):
            raise TargetError(f"target {target!r}: no such file: {where}")
        module = _import_file(path)
    else:
        if os.getcwd() not in sys.path and "" not in sys.path:
            sys.path.insert(0, os.getcwd())
        module = importlib.import_module(where)
    obj = module
    for part in name.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise TargetError(f"target {target!r}: {where} has no attribute {name!r}") from None
    if not callable(obj):
        raise TargetError(f"target {target!r}: {name} is not callable")
    return obj


def _main_module(main_file):
    """The caller's main script, in this interpreter. In a sub-interpreter it
    is imported once as __isolate_main__ (so its `if __name__ == "__main__":`
    block does not run) and stands in for __main__, so that pickles naming
    __main__ find their classes; in the caller, __isolate_main__ is an alias
    of __main__."""
    global _main
    if not _fresh:
        return sys.modules["__main__"]
    if _main is not None:
        return _main
    # Threads that share this interpreter (a rank's threads backend) must not
    # see the module while another one is still running its body.
    with _main_lock:
        if _main is None:
            module = sys.modules.get(MAIN)
            if module is None:
                if main_file is None:
                    raise TargetError("the function lives in a __main__ without a file (-c, stdin or the prompt); "
                                      "a sub-interpreter cannot import it: use backend='process', or define it "
                                      "in a module")
                module = _import_guarded(main_file, MAIN)
                sys.modules["__main__"] = module
            _main = module
    return _main


def _import_guarded(what, as_name=None):
    """Imports a module by name, or a file as `as_name`, with `loading` set."""
    global loading
    loading = True
    try:
        return _import_file(what, as_name) if as_name else importlib.import_module(what)
    finally:
        loading = False


def _resolve(ref):
    func = _funcs.get(ref)
    if func is None:
        module_name, qualname, main_file = ref
        if module_name == "__main__":
            obj = _main_module(main_file)
        else:
            try:
                obj = _import_guarded(module_name)
            except ImportError as e:
                if _fresh and "subinterpreter" in str(e):
                    # CPython's message names the module ("module X does not
                    # support loading in subinterpreters"), its .name not always.
                    words = str(e).split()
                    name = e.name or (words[1] if words[:1] == ["module"] and len(words) > 1 else None)
                    raise ImportError(f"{e} (backend 'subinterp'; backend='process' can run it)",
                                      name=name) from None
                raise
        for part in qualname.split("."):
            obj = getattr(obj, part)
        func = _funcs[ref] = obj
    return func


def _traceback(exc):
    import traceback
    # The traceback starts at the user's function, not at this module.
    tb = exc.__traceback__.tb_next if exc.__traceback__ is not None else None
    return "".join(traceback.format_exception(type(exc), exc, tb))


def _pickled_error(exc):
    """pickle((exception, traceback text)), or of (None, a record) for an
    exception that does not pickle."""
    import _pickle as pickle
    text = _traceback(exc)
    try:
        return pickle.dumps((exc, text), protocol=5)
    except Exception:
        record = {"type": type(exc).__name__, "message": str(exc), "traceback": text}
        return pickle.dumps((None, record), protocol=5)


# How a batch holds its calls: the single argument of each, a tuple of
# positional arguments each, or (args, kwargs) each.
ONE, STAR, FULL = 0, 1, 2


# The answer to a batch whose function a forked worker has not got, or has
# in an older version: the process was forked before it was (re)defined.
STALE = (b'{"type": "StaleFunction", "message": "the function was defined or redefined after the worker '
         b'processes started (they are forked then): start the pool after defining it", "traceback": ""}')


def _run_calls(item):
    """One item of the pickle codec is a batch of calls to one function,
    pickle((ref, fid, pickle((form, calls)))); fid, from a process pool, is
    the function's id() in the caller, which the same object has in a forked
    worker. The answer is pickle((count, failed, values, errors)): `values`
    one pickle of the list of every successful return value, `failed` the
    positions of the calls that raised, `errors` a pickle per such call (an
    exception the caller cannot re-create then fails alone). A batch that
    cannot even start fails whole (ok False)."""
    import _pickle as pickle
    try:
        ref, fid, packed = pickle.loads(item)
        try:
            func = _resolve(ref)
        except AttributeError:
            if fid is not None:
                return False, STALE
            raise
        if fid is not None and id(func) != fid:
            return False, STALE
        form, calls = pickle.loads(packed)  # after _resolve: the script's classes are loaded
    except BaseException as e:  # SystemExit and KeyboardInterrupt in user code fail the batch too
        return False, _pickled_error(e)
    values, failures = [], []
    _call_all(func, form, calls, values, failures)
    try:
        values_blob = pickle.dumps(values, protocol=5)
    except Exception:  # some return value does not pickle: that call fails alone
        values, failures = _picklable(values, failures)
        values_blob = pickle.dumps(values, protocol=5)
    count = len(values) + len(failures)
    return True, pickle.dumps((count, [at for at, _ in failures], values_blob,
                               [_pickled_error(e) for _, e in failures]), protocol=5)


def _call_all(func, form, calls, values, failures):
    """Appends each call's return value to `values`, or (position, exception)
    to `failures`; a call that raises does not stop the others. The loops stay
    tight: this is the whole per-item cost of a worker."""
    rest = iter(calls)
    append = values.append
    while True:
        try:
            if form == ONE:
                for arg in rest:
                    append(func(arg))
            elif form == STAR:
                for args in rest:
                    append(func(*args))
            else:
                for args, kwargs in rest:
                    append(func(*args, **kwargs))
            return
        except BaseException as e:  # SystemExit and KeyboardInterrupt in user code fail that call too
            failures.append((len(values) + len(failures), e))


def _picklable(values, failures):
    """(values, failures) again, with each value that does not pickle moved
    to the failures as a TypeError, at its position."""
    import pickle
    failed = dict(failures)
    remaining = iter(values)
    kept, moved = [], []
    for at in range(len(values) + len(failures)):
        if at in failed:
            moved.append((at, failed[at]))
            continue
        value = next(remaining)
        try:
            pickle.dumps(value, protocol=5)
        except Exception as e:
            moved.append((at, TypeError(f"the return value cannot be pickled: {type(e).__name__}: {e}")))
        else:
            kept.append(value)
    return kept, moved


def _json_encoder():
    """json.dumps(value, ensure_ascii=False, allow_nan=False) without building
    an encoder per call, which cost most of a tiny item's time."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return lambda value: json.dumps(value, ensure_ascii=False, allow_nan=False)
    default = json.JSONEncoder().default

    def new():  # the arguments JSONEncoder.iterencode passes, 3.11 to 3.13
        return make({}, default, json.encoder.encode_basestring, None, ": ", ", ", False, False, False)
    encoder = new()

    def encode(value):
        nonlocal encoder
        try:
            return "".join(encoder(value, 0))
        except BaseException:
            encoder = new()  # a failed call can leave entries in its cycle markers
            raise
    return encode


_encode = _decode = _scan = None  # the JSON codec's, set by _load_json()


def _load_json():
    global json, _encode, _decode, _scan
    import json
    import json.encoder
    import json.scanner
    _encode = _json_encoder()
    _decode = json.JSONDecoder().decode
    _scan = json.scanner.make_scanner(json.JSONDecoder())


def _decode_line(line):
    """json.loads(line) for one JSON Lines record, through the C scanner
    directly: JSONDecoder.decode adds two regular-expression matches a call.
    Anything the scanner does not take whole goes to decode, for its error."""
    text = line.decode()
    stripped = text.strip(" \t\n\r")
    try:
        value, end = _scan(stripped, 0)
    except (StopIteration, ValueError):
        return _decode(text)
    return value if end == len(stripped) else _decode(text)


def _error(exc):
    return json.dumps({"type": type(exc).__name__, "message": str(exc), "traceback": _traceback(exc)})


def _one(line, func, star):
    try:
        arg = _decode_line(line)
    except ValueError as e:  # UnicodeDecodeError too
        return False, json.dumps({"type": "InputError", "message": f"input is not JSON: {e}", "traceback": ""})
    if star and not isinstance(arg, list):
        return False, json.dumps({"type": "InputError", "traceback": "",
                                  "message": f"--star needs a JSON array per line, got {type(arg).__name__}"})
    try:
        result = func(*arg) if star else func(arg)
    except BaseException as e:  # SystemExit and KeyboardInterrupt in user code fail that item too
        return False, _error(e)
    try:
        return True, _encode(result)
    except (TypeError, ValueError, RecursionError) as e:
        return False, json.dumps({"type": "EncodeError", "traceback": "",
                                  "message": f"the return value cannot be encoded as JSON: {e}"})
