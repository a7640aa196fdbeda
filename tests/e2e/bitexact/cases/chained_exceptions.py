"""Exception chaining: raise from, implicit context, suppress_context, notes; ends with an uncaught chain."""
import sys
import traceback


class ConfigError(Exception):
    pass


def load(raw):
    try:
        return {k: int(v) for k, v in (pair.split("=") for pair in raw.split(";"))}
    except ValueError as e:
        raise ConfigError("bad config %r" % raw) from e


def handled():
    try:
        load("a=1;b=two")
    except ConfigError as e:
        print("caught:", e)
        print("cause:", type(e.__cause__).__name__, e.__cause__)
        print("suppress_context:", e.__suppress_context__)
        print("".join(traceback.format_exception_only(type(e), e)), end="")

    try:
        try:
            {}["missing"]
        except KeyError:
            1 / 0
    except ZeroDivisionError as e:
        print("implicit context:", repr(e.__context__), e.__cause__)

    try:
        try:
            raise OSError(2, "No such file")
        except OSError:
            raise RuntimeError("hidden context") from None
    except RuntimeError as e:
        print("from None ->", e.__suppress_context__, repr(e.__context__))

    if sys.version_info >= (3, 11):
        err = ValueError("with notes")
        err.add_note("note one")
        err.add_note("note two")
        lines = traceback.format_exception_only(type(err), err)
        print("".join(lines), end="")


def cleanup():
    raise OSError("cleanup failed while handling")


def process():
    try:
        load("x=1;y")
    except ConfigError:
        cleanup()


handled()
sys.stdout.flush()
process()
