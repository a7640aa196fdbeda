// The core's socket naming (settings.cc: default_socket_path), without libc.
#include "socket_path.h"

#include "../serve/wire.h"
#include "build_config.h"
#include "isolate/version.h"
#include "sys.h"

namespace iso::front {

namespace {

bool is_module_name(const char* name, std::size_t size) {
  bool start = true;
  for (std::size_t i = 0; i < size; ++i) {
    const char c = name[i];
    if (c == '.') {
      if (start) return false;
      start = true;
      continue;
    }
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!(alpha || (!start && c >= '0' && c <= '9'))) return false;
    start = false;
  }
  return !start;
}

// `name` (NUL-terminated) is the `size` bytes at `text`.
bool is_name(const char* name, const char* text, std::size_t size) {
  for (std::size_t i = 0; i < size; ++i) {
    if (name[i] != text[i]) return false;
  }
  return name[size] == '\0';
}

bool is_startup_variable(const char* entry) {
  std::size_t name = 0;
  while (entry[name] != '\0' && entry[name] != '=') ++name;
  const auto is = [&](const char* wanted) { return length(wanted) == name && starts_with(entry, wanted); };
  return starts_with(entry, "PYTHON") || starts_with(entry, "LC_") || is("LANG") || is("TZ") || is("HOME") ||
         is("ISO_PYMALLOC");
}

// std::string's order: bytes compared unsigned, a prefix first.
bool before(const char* a, const char* b) {
  while (*a != '\0' && *a == *b) {
    ++a;
    ++b;
  }
  return static_cast<unsigned char>(*a) < static_cast<unsigned char>(*b);
}

std::uint64_t fnv1a(const char* bytes, std::size_t size) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (std::size_t i = 0; i < size; ++i) {
    hash ^= static_cast<unsigned char>(bytes[i]);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

}  // namespace

const char* find_variable(char** envp, const char* name) {
  const std::size_t size = length(name);
  for (char** entry = envp; *entry != nullptr; ++entry) {
    if (starts_with(*entry, name) && (*entry)[size] == '=') return *entry + size + 1;
  }
  return nullptr;
}

bool parse_preload(const char* value, Preload* out) {
  out->count = 0;
  out->storage.clear();
  const char* item = value;
  while (true) {
    const char* end = item;
    while (*end != '\0' && *end != ',') ++end;
    const char* first = item;
    const char* last = end;
    while (first < last && (*first == ' ' || *first == '\t')) ++first;
    while (last > first && (last[-1] == ' ' || last[-1] == '\t')) --last;
    const auto size = static_cast<std::size_t>(last - first);
    if (size > 0) {
      if (!is_module_name(first, size)) return false;
      bool seen = false;
      for (int i = 0; i < out->count; ++i) seen = seen || is_name(out->names[i], first, size);
      if (!seen) {
        if (out->count == kMaxModules) return false;
        const std::size_t at = out->storage.size();
        out->storage.add(first, size).add('\0');
        out->names[out->count++] = out->storage.c_str() + at;
      }
    }
    if (*end == '\0') break;
    item = end + 1;
  }
  return !out->storage.overflow();
}

bool private_directory(char** envp, Path* out) {
  const char* runtime = find_variable(envp, "XDG_RUNTIME_DIR");
  if (runtime != nullptr && runtime[0] == '/') {
    out->add(runtime).add("/isolate");
  } else {
    out->add("/tmp/isolate-").add_decimal(static_cast<std::uint64_t>(sys::geteuid()));
  }
  if (out->overflow()) return false;
  const long made = sys::mkdir(out->c_str(), 0700);
  if (made < 0 && made != -EEXIST) return false;
  struct stat info {};
  return sys::lstat(out->c_str(), &info) == 0 && S_ISDIR(info.st_mode) &&
         info.st_uid == static_cast<uid_t>(sys::geteuid()) && (info.st_mode & 077) == 0;
}

Config config_preload(char** envp, const Path& directory, Preload* out) {
  Path config;
  const char* config_home = find_variable(envp, "XDG_CONFIG_HOME");
  if (config_home != nullptr && config_home[0] == '/') {
    config.add(config_home).add("/isolate/serve.json");
  } else {
    const char* home = find_variable(envp, "HOME");
    if (home == nullptr || home[0] != '/') return Config::none;
    config.add(home).add("/.config/isolate/serve.json");
  }
  struct stat info {};
  const long found = config.overflow() ? -ENAMETOOLONG : sys::stat(config.c_str(), &info);
  if (found == -ENOENT || found == -ENOTDIR) return Config::none;
  if (found != 0) return Config::for_the_core;
  // settings.cc: leave_for_the_front(): the list, under the version of
  // serve.json it was read from.
  Path cache;
  cache.add(directory.c_str()).add("/preload-").add_hex(fnv1a(config.c_str(), config.size()), 16);
  Text<128> version;
  version.add_decimal(info.st_dev)
      .add(':')
      .add_decimal(info.st_ino)
      .add(' ')
      .add_decimal(info.st_size)
      .add(' ');
  version.add_decimal(static_cast<std::uint64_t>(info.st_mtim.tv_sec)).add('.');
  version.add_decimal(static_cast<std::uint64_t>(info.st_mtim.tv_nsec)).add('\n');
  const long fd = cache.overflow() ? -ENAMETOOLONG : sys::open(cache.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Config::for_the_core;
  static char list[8192];
  const long size = sys::read(static_cast<int>(fd), list, sizeof(list) - 1);
  sys::close(static_cast<int>(fd));
  if (size < 0 || size == static_cast<long>(sizeof(list) - 1)) return Config::for_the_core;
  list[size] = '\0';
  if (!starts_with(list, version.c_str())) return Config::for_the_core;  // serve.json changed since
  return parse_preload(list + version.size(), out) ? Config::read : Config::for_the_core;
}

void build_key(const char* core, Path* out) {
  out->add("isolate ").add(kVersion).add(" protocol ").add_decimal(serve::kProtocolVersion);
  out->add("; python ").add(ISO_PYTHON_VERSION).add(' ').add(ISO_PYTHON_EXECUTABLE).add("; binary ");
  struct stat info {};
  if (sys::stat(core, &info) != 0) {
    out->add(core);
    return;
  }
  out->add_decimal(info.st_dev).add(':').add_decimal(info.st_ino).add(' ').add_decimal(info.st_size);
  out->add(' ').add_decimal(static_cast<std::uint64_t>(info.st_mtim.tv_sec)).add('.');
  out->add_decimal(static_cast<std::uint64_t>(info.st_mtim.tv_nsec));
}

bool add_socket_name(const char* key, const Preload& preload, char** envp, Path* path) {
  static Text<1 << 20> identity;
  identity.clear();
  identity.add(key).add('\n');
  for (int i = 0; i < preload.count; ++i) identity.add(preload.names[i]).add(',');
  identity.add('\n');
  // The start-up variables, sorted: few, so an insertion sort.
  const char* startup[256];
  int count = 0;
  for (char** entry = envp; *entry != nullptr; ++entry) {
    if (!is_startup_variable(*entry)) continue;
    if (count == 256) return false;
    int at = count++;
    while (at > 0 && before(*entry, startup[at - 1])) {
      startup[at] = startup[at - 1];
      --at;
    }
    startup[at] = *entry;
  }
  for (int i = 0; i < count; ++i) identity.add(startup[i], length(startup[i]) + 1);  // with its NUL
  if (identity.overflow()) return false;
  path->add("/serve-").add_hex(fnv1a(identity.data(), identity.size()), 16).add(".sock");
  return !path->overflow();
}

}  // namespace iso::front
