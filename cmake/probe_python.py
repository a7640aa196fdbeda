"""Describe a CPython build for CMake: one `key=value` line per fact.

Run by the candidate interpreter itself, so the answers are that build's own
(sysconfig of a different Python would describe the wrong libpython).
"""
import os
import sys
import sysconfig

cfg = sysconfig.get_config_var


def static_library():
    """The non-shared libpython archive of this build, or '' when there is none."""
    name = cfg("LIBRARY") or ""
    if not name.endswith(".a"):
        return ""
    for folder in (cfg("LIBPL"), cfg("LIBDIR")):
        if folder and os.path.isfile(os.path.join(folder, name)):
            return os.path.join(folder, name)
    return ""


def link_libraries():
    """The -l flags libpython.a needs; -L and rpath flags point at the shared build and are dropped."""
    flags = " ".join(cfg(k) or "" for k in ("LIBS", "SYSLIBS", "MODLIBS")).split()
    seen = []
    for flag in flags:
        if flag.startswith("-l") and flag not in seen:
            seen.append(flag)
    return ",".join(f[2:] for f in seen)


facts = {
    "version": "%d.%d.%d" % sys.version_info[:3],
    "executable": sys.executable,
    "include": sysconfig.get_paths()["include"],
    "static_library": static_library(),
    "link_libraries": link_libraries(),
    "gil_disabled": "1" if cfg("Py_GIL_DISABLED") else "0",
    "ext_suffix": cfg("EXT_SUFFIX") or ".so",
    "lto": "1" if "--with-lto" in (cfg("CONFIG_ARGS") or "") else "0",
}
for key, value in facts.items():
    print("%s=%s" % (key, value))
