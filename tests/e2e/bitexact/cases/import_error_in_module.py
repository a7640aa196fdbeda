"""An exception raised while importing a helper module: ImportErrors handled, then a ValueError uncaught."""
import importlib.util
import sys

try:
    import helpers.does_not_exist  # noqa: F401
except ModuleNotFoundError as e:
    print("optional module missing:", e.name)

try:
    from helpers.inventory import no_such_name  # noqa: F401
except ImportError as e:
    print("ImportError:", e.msg)
    print("  name:", e.name, "path ends with:", e.path.rsplit("/", 2)[-2:])

spec = importlib.util.find_spec("helpers.broken_config")
print("broken_config found:", spec is not None, spec.name)
print("loading configuration...")
sys.stdout.flush()
from helpers import broken_config  # raises ValueError during import

print("not reached", broken_config.SETTINGS)
