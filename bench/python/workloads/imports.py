# Cold-start import cost: pure-Python packages plus the C accelerators they
# pull in (_json, _decimal, _asyncio, select, _socket, ...).
import json, decimal, asyncio  # noqa: E401,F401
