"""The per-worker half of `isolate map`, run inside every isolate (a
sub-interpreter, the main interpreter of a worker process, or a thread).

The C++ pool calls load(target, star) once per worker and run_batch(lines)
per chunk; run_batch returns one (ok, text) pair per line, where text is the
JSON of the return value, or the JSON of an error record {type, message,
traceback}. Nothing here raises for a failing item: each item fails alone.
"""
import importlib
import importlib.util
import json
import os
import sys
import traceback

_func = None
_star = False


class TargetError(Exception):
    """TARGET cannot be loaded; the message says why, in one line."""


def _import_file(path):
    name = "__isolate_map_target__"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise TargetError(f"{path}: not a Python source file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load(target, star):
    """Imports TARGET (module:function or path/to/file.py:function)."""
    global _func, _star
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
    _func = obj
    _star = star


def _error(exc):
    # The traceback starts at the user's function, not at this module.
    tb = exc.__traceback__.tb_next if exc.__traceback__ is not None else None
    text = "".join(traceback.format_exception(type(exc), exc, tb))
    return json.dumps({"type": type(exc).__name__, "message": str(exc), "traceback": text})


def _one(line):
    try:
        arg = json.loads(line)
    except ValueError as e:
        return False, json.dumps({"type": "InputError", "message": f"input is not JSON: {e}", "traceback": ""})
    if _star and not isinstance(arg, list):
        return False, json.dumps({"type": "InputError", "traceback": "",
                                  "message": f"--star needs a JSON array per line, got {type(arg).__name__}"})
    try:
        result = _func(*arg) if _star else _func(arg)
    except BaseException as e:  # SystemExit and KeyboardInterrupt in user code fail that item too
        return False, _error(e)
    try:
        return True, json.dumps(result, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as e:
        return False, json.dumps({"type": "EncodeError", "traceback": "",
                                  "message": f"the return value cannot be encoded as JSON: {e}"})


def run_batch(lines):
    return [_one(line) for line in lines]
