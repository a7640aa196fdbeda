// CPython's memory domains served by isoalloc or libc malloc instead of
// pymalloc (ISO_PYMALLOC, -X iso_pymalloc). CPython's contract allows a new
// allocator between Py_PreInitialize and Py_InitializeFromConfig; every block
// the interpreter allocates later comes from it.
#include <Python.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include "allocator.h"
#include "isolate/alloc.h"
#include "isolate/python.h"

namespace iso::python {

namespace {

// CPython's domains promise a distinct non-NULL block for size 0 and a
// realloc to 0 that keeps the block; malloc's C semantics differ on both, so
// zero sizes become one byte, as in CPython's own raw allocator.
template <auto Malloc, auto Calloc, auto Realloc, auto Free>
struct Domain {
  static void* malloc(void*, size_t size) { return Malloc(size == 0 ? 1 : size); }
  static void* calloc(void*, size_t count, size_t size) {
    if (count == 0 || size == 0) count = size = 1;
    return Calloc(count, size);
  }
  static void* realloc(void*, void* ptr, size_t size) { return Realloc(ptr, size == 0 ? 1 : size); }
  static void free(void*, void* ptr) { Free(ptr); }
  static PyMemAllocatorEx table() { return {nullptr, malloc, calloc, realloc, free}; }
};

using IsoallocDomain = Domain<iso_malloc, iso_calloc, iso_realloc, iso_free>;
using LibcDomain = Domain<std::malloc, std::calloc, std::realloc, std::free>;

// The last -X iso_pymalloc=VALUE of the parsed command line, if any.
std::optional<std::string> xoption_choice(const PyConfig& config) {
  static constexpr std::wstring_view kKey = L"iso_pymalloc=";
  std::optional<std::string> choice;
  for (Py_ssize_t i = 0; i < config.xoptions.length; ++i) {
    const std::wstring_view option = config.xoptions.items[i];
    if (option.substr(0, kKey.size()) != kKey) continue;
    std::string value;
    for (const wchar_t c : option.substr(kKey.size())) value.push_back(c < 0x80 ? static_cast<char>(c) : '?');
    choice = std::move(value);
  }
  return choice;
}

bool mentions_choice(Py_ssize_t argc, char** argv) {
  if (std::getenv("ISO_PYMALLOC") != nullptr) return true;
  for (Py_ssize_t i = 1; i < argc; ++i) {
    if (std::strstr(argv[i], "iso_pymalloc") != nullptr) return true;
  }
  return false;
}

}  // namespace

std::optional<Allocator> parse_allocator(std::string_view name) {
  if (name == "pymalloc") return Allocator::pymalloc;
  if (name == "isoalloc") return Allocator::isoalloc;
  if (name == "malloc") return Allocator::malloc;
  return std::nullopt;
}

void install_allocator(Allocator allocator, bool debug_hooks) {
  PyMemAllocatorEx table{};
  switch (allocator) {
    case Allocator::pymalloc:
      return;
    case Allocator::isoalloc:
      table = IsoallocDomain::table();
      break;
    case Allocator::malloc:
      table = LibcDomain::table();
      break;
  }
  for (const PyMemAllocatorDomain domain : {PYMEM_DOMAIN_RAW, PYMEM_DOMAIN_MEM, PYMEM_DOMAIN_OBJ}) {
    PyMem_SetAllocator(domain, &table);
  }
  if (debug_hooks) PyMem_SetupDebugHooks();
}

AllocatorChoice choose_allocator(Py_ssize_t argc, char** argv) {
  // The common case costs one getenv and a scan of argv; only a mention of
  // the option pays for parsing the command line the way python3 does.
  if (!mentions_choice(argc, argv)) return {};

  PyConfig config;
  PyConfig_InitPythonConfig(&config);
  PyStatus status = PyConfig_SetBytesArgv(&config, argc, argv);
  if (!PyStatus_Exception(status)) status = PyConfig_Read(&config);
  AllocatorChoice choice;
  if (PyStatus_Exception(status)) {
    // A bad command line: python3's own message was printed by the parse.
    choice.failed_status = status;
    PyConfig_Clear(&config);
    return choice;
  }
  const std::optional<std::string> from_x = xoption_choice(config);
  const bool dev_mode = config.dev_mode != 0;
  const char* python_malloc = config.use_environment != 0 ? std::getenv("PYTHONMALLOC") : nullptr;
  const bool python_malloc_set = python_malloc != nullptr && python_malloc[0] != '\0';
  PyConfig_Clear(&config);

  const char* env = std::getenv("ISO_PYMALLOC");
  const std::string requested = from_x ? *from_x : std::string(env != nullptr ? env : "");
  const char* source = from_x ? "-X iso_pymalloc" : "ISO_PYMALLOC";
  if (requested.empty()) return choice;
  const std::optional<Allocator> allocator = parse_allocator(requested);
  if (!allocator) {
    std::fprintf(stderr, "isolate: %s=%s: expected isoalloc, pymalloc or malloc\n", source,
                 requested.c_str());
    choice.exit_code = 2;
    return choice;
  }
  if (*allocator != Allocator::pymalloc && python_malloc_set) {
    std::fprintf(stderr, "isolate: %s=%s conflicts with PYTHONMALLOC=%s; set only one of them\n", source,
                 requested.c_str(), python_malloc);
    choice.exit_code = 2;
    return choice;
  }
#ifdef Py_GIL_DISABLED
  // Its collector finds objects by walking mimalloc's heaps, and its dicts
  // and lists are read without locks from memory mimalloc keeps valid.
  if (*allocator != Allocator::pymalloc) {
    std::fprintf(stderr,
                 "isolate: %s=%s: a free-threaded CPython needs its own allocator (mimalloc); use pymalloc, "
                 "which means the build's own\n",
                 source, requested.c_str());
    choice.exit_code = 2;
    return choice;
  }
#endif
  choice.allocator = *allocator;
  choice.debug_hooks = dev_mode;  // python3 -X dev puts its debug hooks on any allocator
  return choice;
}

}  // namespace iso::python
