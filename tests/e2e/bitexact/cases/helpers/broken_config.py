"""A config module that fails while being imported (used by import_error_in_module.py)."""

DEFAULTS = {"host": "localhost", "port": "8080", "retries": "three"}


def _coerce(key, value):
    if key in ("port", "retries"):
        return int(value)
    return value


SETTINGS = {k: _coerce(k, v) for k, v in DEFAULTS.items()}
