"""configparser + shlex + io: parse an INI config with interpolation, typed getters, sections and write it back."""
import configparser
import io
import shlex

INI = """
[DEFAULT]
base_dir = /srv/app
log_level = info

[server]
host = 0.0.0.0
port = 8080
workers = 4
debug = no
log_file = %(base_dir)s/logs/server.log

[database]
url = postgres://db.internal:5432/app
pool_size = 10
timeout = 2.5
; comment line
options = --ssl-mode require --app-name "inventory service"

[paths]
static = ${server:host}
"""
cp = configparser.ConfigParser()
cp.read_string(INI)
print(cp.sections(), cp.defaults())
srv = cp["server"]
print(srv.get("host"), srv.getint("port"), srv.getboolean("debug"), srv["log_file"], srv.get("log_level"))
print(cp.getfloat("database", "timeout"), cp.getint("database", "pool_size"), cp.get("database", "missing", fallback="n/a"))
print(shlex.split(cp["database"]["options"]))
print(sorted(cp.options("database")))
print(cp.has_option("server", "base_dir"), "paths" in cp, cp["paths"]["static"])
for bad in (lambda: cp.getint("server", "host"), lambda: cp.get("nosuch", "x"), lambda: cp["server"]["nokey"]):
    try:
        bad()
    except (ValueError, configparser.Error, KeyError) as e:
        print(type(e).__name__ + ":", e)

ext = configparser.ConfigParser(interpolation=configparser.ExtendedInterpolation())
ext.read_string("[server]\nhost = example.org\n[paths]\nstatic = ${server:host}/static\n")
print(ext["paths"]["static"])

cp["server"]["workers"] = "8"
cp.add_section("cache")
cp.set("cache", "ttl", "300")
cp.remove_option("server", "debug")
out = io.StringIO()
cp.write(out)
print(out.getvalue())
raw = configparser.RawConfigParser()
raw.read_string("[x]\npercent = 100%\n")
print(raw.get("x", "percent"))
try:
    configparser.ConfigParser().read_string("[a]\nk = 1\n[a]\n")
except configparser.DuplicateSectionError as e:
    print("DuplicateSectionError:", e)
try:
    configparser.ConfigParser().read_string("no section header\n")
except configparser.MissingSectionHeaderError as e:
    print("MissingSectionHeaderError:", e.lineno)
print(shlex.quote("it's here"), shlex.join(["a b", "c"]) if hasattr(shlex, "join") else "")
