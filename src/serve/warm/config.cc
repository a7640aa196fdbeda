// Which parts of a request's configuration a warm interpreter can take on.
//
// Most of PyConfig is spent during initialisation: the hash seed, the
// allocators' debug hooks, -X importtime, the warning filters, the site
// directories, -O (the preloaded modules were compiled without it). A request
// that differs there needs a fresh interpreter. What Py_RunMain and the sys
// module read afterwards (argv, what to run, -u, -B, -i, -P, the stdio
// encoding) can change per request.
#include "config.h"

#include <cwchar>
#include <string>

namespace iso::serve::warm {

namespace {

bool same(const wchar_t* a, const wchar_t* b) {
  if (a == nullptr || b == nullptr) return a == b;
  return std::wcscmp(a, b) == 0;
}

bool same(const PyWideStringList& a, const PyWideStringList& b) {
  if (a.length != b.length) return false;
  for (Py_ssize_t i = 0; i < a.length; ++i) {
    if (!same(a.items[i], b.items[i])) return false;
  }
  return true;
}

bool same(int a, int b) {
  return a == b;
}

std::string shown(const wchar_t* text) {
  if (text == nullptr) return "unset";
  std::string out = "'";
  for (const wchar_t* c = text; *c != L'\0'; ++c) out.push_back(*c < 0x80 ? static_cast<char>(*c) : '?');
  return out + "'";
}
std::string shown(const PyWideStringList& list) {
  std::string out = "[";
  for (Py_ssize_t i = 0; i < list.length; ++i) out += (i > 0 ? ", " : "") + shown(list.items[i]);
  return out + "]";
}
std::string shown(int value) {
  return std::to_string(value);
}
std::string shown(unsigned long value) {
  return std::to_string(value);
}
bool same(unsigned long a, unsigned long b) {
  return a == b;
}

}  // namespace

// Every field fixed at initialisation, by name. A field that a later CPython
// adds and this list lacks counts as per-request, so each new version's
// PyConfig has to be read against it (3.11 to 3.13 have been).
std::string fixed_setting_difference(const PyConfig& request, const PyConfig& server) {
#define ISO_FIXED(field)                                                                    \
  if (!same(request.field, server.field)) {                                                 \
    return #field " (" + shown(request.field) + " in the request, " + shown(server.field) + \
           " in the server)";                                                               \
  }
  ISO_FIXED(isolated);
  ISO_FIXED(use_environment);
  ISO_FIXED(dev_mode);
  ISO_FIXED(install_signal_handlers);
  ISO_FIXED(use_hash_seed);
  ISO_FIXED(hash_seed);
  ISO_FIXED(faulthandler);
  ISO_FIXED(tracemalloc);
#if PY_VERSION_HEX >= 0x030C0000
  ISO_FIXED(perf_profiling);
  ISO_FIXED(int_max_str_digits);
#endif
  ISO_FIXED(import_time);
  ISO_FIXED(code_debug_ranges);
  ISO_FIXED(show_ref_count);
  ISO_FIXED(dump_refs);
  ISO_FIXED(dump_refs_file);
  ISO_FIXED(malloc_stats);
  ISO_FIXED(filesystem_encoding);
  ISO_FIXED(filesystem_errors);
  ISO_FIXED(xoptions);
  ISO_FIXED(warnoptions);
  ISO_FIXED(site_import);
  ISO_FIXED(bytes_warning);
  ISO_FIXED(warn_default_encoding);
  ISO_FIXED(optimization_level);
  ISO_FIXED(parser_debug);
  ISO_FIXED(verbose);
  ISO_FIXED(user_site_directory);
  ISO_FIXED(configure_c_stdio);
  ISO_FIXED(check_hash_pycs_mode);
  ISO_FIXED(use_frozen_modules);
#ifdef Py_GIL_DISABLED
  ISO_FIXED(enable_gil);
#endif
  ISO_FIXED(pathconfig_warnings);
  ISO_FIXED(program_name);
  ISO_FIXED(pythonpath_env);
  ISO_FIXED(home);
  ISO_FIXED(platlibdir);
  ISO_FIXED(module_search_paths);
  ISO_FIXED(stdlib_dir);
  ISO_FIXED(executable);
  ISO_FIXED(base_executable);
  ISO_FIXED(prefix);
  ISO_FIXED(base_prefix);
  ISO_FIXED(exec_prefix);
  ISO_FIXED(base_exec_prefix);
  ISO_FIXED(_install_importlib);
  ISO_FIXED(_init_main);
#undef ISO_FIXED
  return {};
}

}  // namespace iso::serve::warm
