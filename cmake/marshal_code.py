"""Writes a C++ header holding SOURCE compiled by this Python and marshalled,
with this Python's bytecode magic number: the embedding loads the code
object instead of compiling the source at run time (7 ms in every new
sub-interpreter for the worker module), and compiles the source after all
when the running libpython's magic number differs.

    python3.x cmake/marshal_code.py SOURCE FILENAME HEADER NAMESPACE NAME
"""
import importlib.util
import marshal
import sys

source_path, filename, header, namespace, name = sys.argv[1:]
with open(source_path, encoding="utf-8") as f:
    code = compile(f.read(), filename, "exec", dont_inherit=True)
data = marshal.dumps(code)
magic = int.from_bytes(importlib.util.MAGIC_NUMBER[:2], "little")
rows = [", ".join(str(b) for b in data[i:i + 24]) for i in range(0, len(data), 24)]
with open(header, "w", encoding="ascii") as out:
    out.write(f"// Generated from {source_path} by cmake/marshal_code.py: do not edit.\n#pragma once\n\n"
              f"#include <cstddef>\n\nnamespace {namespace} {{\n\n"
              f"inline constexpr long {name}Magic = {magic};  // PyImport_GetMagicNumber() & 0xffff\n"
              f"inline constexpr unsigned char {name}[] = {{\n" + ",\n".join(rows) + "};\n\n"
              f"}}  // namespace {namespace}\n")
