// Which server a call uses: the rule the front and the core must apply
// alike, so that `isolate call` finds the server that the core started.
//
// A server is one per user (the socket directory), per build (build_key), per
// preload list and per start-up environment (the variables Python reads while
// it initialises). The socket is DIRECTORY/serve-HASH.sock, HASH the FNV-1a
// of "KEY\nM1,M2,...,\n" followed by the sorted start-up variables, each with
// its NUL. The preload list comes from ISO_PRELOAD, or from serve.json, which
// only the core parses (it has a JSON parser): it leaves the checked list for
// the front in DIRECTORY/preload-HASH (HASH of serve.json's path), under a
// first line naming the version of serve.json it was read from.
#pragma once

#include <sys/stat.h>

#include <cstddef>
#include <cstdint>

#include "build_config.h"
#include "call_request.h"
#include "isolate/version.h"
#include "protocol.h"
#include "sys.h"
#include "text.h"

namespace iso::contract {

// FNV-1a: the name only has to tell configurations apart; the server checks
// the build key itself.
class Fnv1a {
 public:
  void add(const char* bytes, std::size_t size) {
    for (std::size_t i = 0; i < size; ++i) {
      hash_ ^= static_cast<unsigned char>(bytes[i]);
      hash_ *= 0x100000001b3ULL;
    }
  }
  void add(const char* text) { add(text, length(text)); }
  std::uint64_t value() const { return hash_; }

 private:
  std::uint64_t hash_ = 0xcbf29ce484222325ULL;
};

// The value of `name` in `envp`, or nullptr; the first one, as getenv() does.
inline const char* find_variable(const char* const* envp, const char* name) {
  const std::size_t size = length(name);
  for (const char* const* entry = envp; *entry != nullptr; ++entry) {
    if (starts_with(*entry, name) && (*entry)[size] == '=') return *entry + size + 1;
  }
  return nullptr;
}

// ------------------------------------------------------------ the preload list
// A dotted Python module name: identifiers of ASCII letters, digits and '_'.
inline bool is_module_name(const char* name, std::size_t size) {
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

struct PreloadParse {
  enum class Status { ok, not_a_module, full } status = Status::ok;
  const char* item = nullptr;  // the offending item (not NUL-terminated)
  std::size_t size = 0;
};

// "a, b,,a" -> a, b: items split at commas, blanks trimmed, empty ones
// skipped, repeats dropped. `list` has contains(item, size) and
// add(item, size), which returns false when the list is full.
template <class List>
PreloadParse parse_preload(const char* text, List& list) {
  const char* item = text;
  while (true) {
    const char* end = item;
    while (*end != '\0' && *end != ',') ++end;
    const char* first = item;
    const char* last = end;
    while (first < last && (*first == ' ' || *first == '\t')) ++first;
    while (last > first && (last[-1] == ' ' || last[-1] == '\t')) --last;
    const auto size = static_cast<std::size_t>(last - first);
    if (size > 0) {
      if (!is_module_name(first, size)) return {PreloadParse::Status::not_a_module, first, size};
      if (!list.contains(first, size) && !list.add(first, size))
        return {PreloadParse::Status::full, first, size};
    }
    if (*end == '\0') return {};
    item = end + 1;
  }
}

// The front's preload list: fixed storage, no allocator.
class PreloadList {
 public:
  static constexpr int kMaxModules = 64;
  bool contains(const char* item, std::size_t size) const {
    for (int i = 0; i < count_; ++i) {
      if (length(names_[i]) == size && same_bytes(names_[i], item, size)) return true;
    }
    return false;
  }
  bool add(const char* item, std::size_t size) {
    if (count_ == kMaxModules) return false;
    const std::size_t at = storage_.size();
    storage_.add(item, size).add('\0');
    if (storage_.overflow()) return false;
    names_[count_++] = storage_.c_str() + at;
    return true;
  }
  StringList list() const { return {names_, static_cast<std::size_t>(count_)}; }

 private:
  static bool same_bytes(const char* name, const char* item, std::size_t size) {
    for (std::size_t i = 0; i < size; ++i) {
      if (name[i] != item[i]) return false;
    }
    return true;
  }
  const char* names_[kMaxModules] = {};
  int count_ = 0;
  Text<8192> storage_;
};

// ------------------------------------------------------------ the start-up environment
// Read while Python initialises (or by modules a server may have preloaded):
// PYTHON*, LC_*, LANG, TZ, HOME, ISO_PYMALLOC. A server serves warm only
// callers whose values of these equal its own.
inline bool is_startup_variable(const char* entry) {
  std::size_t name = 0;
  while (entry[name] != '\0' && entry[name] != '=') ++name;
  const auto is = [&](const char* wanted) { return length(wanted) == name && starts_with(entry, wanted); };
  return starts_with(entry, "PYTHON") || starts_with(entry, "LC_") || is("LANG") || is("TZ") || is("HOME") ||
         is("ISO_PYMALLOC");
}

// std::string's order: bytes compared unsigned, a prefix first.
inline bool before(const char* a, const char* b) {
  while (*a != '\0' && *a == *b) {
    ++a;
    ++b;
  }
  return static_cast<unsigned char>(*a) < static_cast<unsigned char>(*b);
}

// Feeds the start-up variables of `envp` to `hash` in sorted order, each with
// its NUL, repeats included. There are a handful: one pass collects them into
// a small array, sorted as they come. Past its size (never seen), a
// selection over envp, which needs no storage, gives the same order.
inline void hash_startup_environment_by_selection(const char* const* envp, Fnv1a* hash) {
  const char* done = nullptr;  // the greatest entry hashed so far
  while (true) {
    const char* next = nullptr;
    int copies = 0;
    for (const char* const* entry = envp; *entry != nullptr; ++entry) {
      if (!is_startup_variable(*entry) || (done != nullptr && !before(done, *entry))) continue;
      if (next == nullptr || before(*entry, next)) {
        next = *entry;
        copies = 1;
      } else if (!before(next, *entry)) {
        ++copies;
      }
    }
    if (next == nullptr) return;
    while (copies-- > 0) hash->add(next, length(next) + 1);
    done = next;
  }
}

inline void hash_startup_environment(const char* const* envp, Fnv1a* hash) {
  constexpr int kMost = 64;
  const char* sorted[kMost];
  int count = 0;
  for (const char* const* entry = envp; *entry != nullptr; ++entry) {
    if (!is_startup_variable(*entry)) continue;
    if (count == kMost) return hash_startup_environment_by_selection(envp, hash);
    int at = count++;
    while (at > 0 && before(*entry, sorted[at - 1])) {
      sorted[at] = sorted[at - 1];
      --at;
    }
    sorted[at] = *entry;
  }
  for (int i = 0; i < count; ++i) hash->add(sorted[i], length(sorted[i]) + 1);
}

// ------------------------------------------------------------ files and names
// "DEVICE:INODE SIZE SECONDS.NANOSECONDS": a file's version, which a rebuild or
// an edit changes, at the cost of a stat() instead of reading it.
template <class Sink>
void add_file_version(Sink* out, const struct stat& info) {
  out->add_decimal(info.st_dev).add(':').add_decimal(info.st_ino).add(' ').add_decimal(info.st_size);
  out->add(' ').add_decimal(static_cast<std::uint64_t>(info.st_mtim.tv_sec)).add('.');
  out->add_decimal(static_cast<std::uint64_t>(info.st_mtim.tv_nsec));
}

// What a server and its callers must share: isolate's version and protocol,
// the CPython embedded, and the version of the core executable at `core`.
inline void build_key(const char* core, Path* out) {
  out->add("isolate ").add(kVersion).add(" protocol ").add_decimal(kProtocolVersion);
  out->add("; python ").add(ISO_PYTHON_VERSION).add(' ').add(ISO_PYTHON_EXECUTABLE).add("; binary ");
  struct stat info {};
  if (sys::stat(core, &info) == 0) {
    add_file_version(out, info);
  } else {
    out->add(core);
  }
}

// $XDG_RUNTIME_DIR/isolate, or /tmp/isolate-UID.
inline void socket_directory(const char* const* envp, long uid, Path* out) {
  const char* runtime = find_variable(envp, "XDG_RUNTIME_DIR");
  if (runtime != nullptr && runtime[0] == '/') {
    out->add(runtime).add("/isolate");
  } else {
    out->add("/tmp/isolate-").add_decimal(static_cast<std::uint64_t>(uid));
  }
}

// Why the socket directory is not private to `uid`; ok when it is. Another
// user could have made it first, to see or answer our calls.
enum class DirectoryProblem { ok, not_a_directory, other_owner, open_mode };
inline DirectoryProblem directory_problem(const struct stat& info, long uid) {
  if (!S_ISDIR(info.st_mode)) return DirectoryProblem::not_a_directory;
  if (static_cast<long>(info.st_uid) != uid) return DirectoryProblem::other_owner;
  if ((info.st_mode & 077) != 0) return DirectoryProblem::open_mode;
  return DirectoryProblem::ok;
}

// $XDG_CONFIG_HOME/isolate/serve.json, or ~/.config/isolate/serve.json; false
// when neither variable names an absolute directory.
inline bool config_path(const char* const* envp, Path* out) {
  const char* config_home = find_variable(envp, "XDG_CONFIG_HOME");
  if (config_home != nullptr && config_home[0] == '/') {
    out->add(config_home).add("/isolate/serve.json");
    return true;
  }
  const char* home = find_variable(envp, "HOME");
  if (home == nullptr || home[0] != '/') return false;
  out->add(home).add("/.config/isolate/serve.json");
  return true;
}

// Where the core leaves serve.json's list for the front: one file per
// serve.json path, in the socket directory.
inline void preload_cache_path(const Path& directory, const Path& config, Path* out) {
  Fnv1a hash;
  hash.add(config.c_str(), config.size());
  out->add(directory.c_str()).add("/preload-").add_hex(hash.value(), 16);
}

// The cache's first line: the version of serve.json the list was read from.
template <class Sink>
void add_preload_cache_header(Sink* out, const struct stat& config) {
  add_file_version(out, config);
  out->add('\n');
}

// Appends "/serve-HASH.sock" to `path`, the socket directory.
inline void add_socket_name(const Path& key, StringList preload, const char* const* envp, Path* path) {
  Fnv1a hash;
  hash.add(key.c_str(), key.size());
  hash.add("\n");
  for (std::size_t i = 0; i < preload.count; ++i) {
    hash.add(preload.items[i]);
    hash.add(",");
  }
  hash.add("\n");
  hash_startup_environment(envp, &hash);
  path->add("/serve-").add_hex(hash.value(), 16).add(".sock");
}

}  // namespace iso::contract
