"""Pure paths (PurePosixPath/PureWindowsPath) for a build-output planner, and textwrap for a help screen."""
import textwrap
from pathlib import PurePath, PurePosixPath, PureWindowsPath

sources = ["src/app/main.c", "src/app/util/strings.c", "include/app.h", "src/../docs/README.md", "tests/test_main.py"]
out = PurePosixPath("/build/out")
for s in sources:
    p = PurePosixPath(s)
    obj = out / p.relative_to(p.parts[0]).with_suffix(".o") if p.suffix == ".c" else None
    print(f"{str(p):<26} name={p.name!r:<16} stem={p.stem!r:<12} suffix={p.suffix!r:<6} parent={p.parent} -> {obj}")

p = PurePosixPath("/usr/local/lib/python3.x/site-packages/pkg/__init__.py")
print(p.parts[:4], p.anchor, p.root, p.is_absolute(), list(map(str, p.parents))[:3])
print(p.match("*.py"), p.match("lib/*.py"), p.match("pkg/*.py"), p.with_name("mod.py"), p.with_stem("x") if hasattr(p, "with_stem") else "")
print(PurePosixPath("a//b/./c/"), PurePosixPath("a") / "/abs" / "x", PurePosixPath("archive.tar.gz").suffixes)
print(PurePosixPath("/a/b").relative_to("/a"), PurePosixPath("a/b") == PurePosixPath("a//b"), PurePosixPath("..").name)
try:
    PurePosixPath("/a/b").relative_to("/c")
except ValueError as e:
    print("ValueError:", e)

w = PureWindowsPath(r"C:\Users\Ann\Documents\Report Q1.DOCX")
print(w.drive, w.root, w.anchor, w.name, w.suffix, w.parent, w.as_posix())
print(PureWindowsPath("c:/Temp") == PureWindowsPath("C:\\temp"), PureWindowsPath(r"\\server\share\f.txt").drive)
print(PureWindowsPath("C:foo") / "bar", PureWindowsPath("D:/x").joinpath("y", "z"))
print(PurePath("x/y").as_posix(), type(PurePath("x")).__name__, sorted([PurePosixPath("b"), PurePosixPath("a/z"), PurePosixPath("a")]))

HELP = """backup - copy files somewhere safe. It walks the source tree, skips files matching \
the ignore patterns, compresses everything larger than the threshold and writes a manifest \
with checksums so that a later run can verify the copy without reading the originals again."""
print(textwrap.fill(HELP, width=50))
print(textwrap.fill(HELP, width=60, initial_indent="  * ", subsequent_indent="    ", max_lines=3, placeholder=" [...]"))
print(textwrap.shorten("The   quick brown fox jumps over the lazy dog", width=25))
block = """
    def f():
        return 1
    """
print(repr(textwrap.dedent(block)), repr(textwrap.indent("a\n\nb\n", "> ")))
print(textwrap.indent("x\n\ny", "+ ", predicate=lambda line: True))
print(textwrap.wrap("supercalifragilisticexpialidocious words", width=10))
print(textwrap.wrap("supercalifragilisticexpialidocious words", width=10, break_long_words=False))
tw = textwrap.TextWrapper(width=30, expand_tabs=True, tabsize=4, replace_whitespace=True, drop_whitespace=False)
print(tw.wrap("col1\tcol2\tcol3 trailing   spaces   and\nnewlines here"))
