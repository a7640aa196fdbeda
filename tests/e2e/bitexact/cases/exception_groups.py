"""Exception groups (3.11+, guarded): split/subgroup, except*, nested groups, and an uncaught group."""
import sys
import traceback

if sys.version_info < (3, 11):
    print("exception groups need 3.11")
    sys.exit(0)


def validate(record):
    errors = []
    if not record.get("name"):
        errors.append(ValueError("name is empty"))
    if not isinstance(record.get("age"), int):
        errors.append(TypeError("age must be int"))
    elif record["age"] < 0:
        errors.append(ValueError("age is negative"))
    if errors:
        raise ExceptionGroup("invalid record %r" % record.get("id"), errors)


records = [
    {"id": 1, "name": "ann", "age": 30},
    {"id": 2, "name": "", "age": "x"},
    {"id": 3, "name": "cy", "age": -4},
]
for rec in records:
    try:
        validate(rec)
        print("record", rec["id"], "ok")
    except ExceptionGroup as eg:
        values, rest = eg.split(ValueError)
        print(eg.message, "->", len(eg.exceptions), "errors")
        print("  values:", [str(e) for e in values.exceptions] if values else None)
        print("  rest:", [str(e) for e in rest.exceptions] if rest else None)

# except* is compiled from a string so that this file still parses on older versions
exec(compile('''
def handle(eg):
    try:
        raise eg
    except* ValueError as vs:
        print("except* ValueError:", sorted(str(e) for e in vs.exceptions))
    except* TypeError as ts:
        print("except* TypeError:", sorted(str(e) for e in ts.exceptions))
''', "<handlers>", "exec"))

nested = ExceptionGroup("batch", [
    ValueError("v1"),
    ExceptionGroup("inner", [TypeError("t1"), ValueError("v2")]),
])
handle(nested)
sub = nested.subgroup(lambda e: isinstance(e, TypeError))
print("subgroup:", repr(sub))
print("".join(traceback.format_exception_only(type(nested), nested)), end="")
sys.stdout.flush()


def run_jobs():
    problems = []
    for n in range(4):
        try:
            if n % 2:
                raise RuntimeError("job %d failed" % n)
        except RuntimeError as e:
            problems.append(e)
    raise ExceptionGroup("2 jobs failed", problems)


run_jobs()
