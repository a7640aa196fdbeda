// ISO_ALLOC_* switches, read once at start-up into g_options. Nothing reads
// the environment afterwards: the hot paths see plain fields, and the switches
// that change the fast paths (checks, direct) act by the data they leave
// behind (an owner word that never matches, an empty direct table), not by
// tests on the way.
//
//   ISO_ALLOC_STATS=1          print counters to stderr at exit
//   ISO_ALLOC_CHECKS=1         checked slow paths for every call: invalid and
//   (ISO_ALLOC_SECURE=1)       double frees, free-list corruption (default on in
//                              debug builds; =0 turns it off there)
//   ISO_ALLOC_VERBOSE=1        print the option snapshot at start-up
//   ISO_ALLOC_DIRECT=0         no direct page table: every malloc takes the generic path
//   ISO_ALLOC_PURGE=0          never give free memory back with madvise
//   ISO_ALLOC_PURGE_DELAY_MS=N free units above PURGE_KIB are purged once free for ~1-2x N ms
//                              in a segment with no run freed for N ms (10; 0: no ageing)
//   ISO_ALLOC_PURGE_KIB=N      ... and at once, down to half, when a heap holds more free
//   ISO_ALLOC_PURGE_PERCENT=P  committed memory than max(N KiB, P % of its units in use)
//                              (4096, 300; the floor alone while it is only freeing); see
//                              "purging" in segment.cc
//   ISO_ALLOC_EXTEND=N         bytes carved per free-list extension (4096; 0: whole page)
//   ISO_ALLOC_SEGMENT_CACHE=N  free 4 MiB segments kept mapped, purged, for reuse (8)
//   ISO_ALLOC_HUGE_CACHE_MIB=N freed huge blocks (> 1 MiB) kept mapped and committed for
//   ISO_ALLOC_HUGE_CACHE_MS=N  reuse, up to N MiB in all (64; 0: none), each for N ms (100)
#include <unistd.h>

#include "internal.h"

extern char** environ;

namespace iso::alloc {

Options g_options;

namespace {

bool starts_with(const char* s, const char* prefix, const char** rest) {
  while (*prefix != '\0') {
    if (*s++ != *prefix++) return false;
  }
  *rest = s;
  return true;
}

bool parse_u32(const char* s, uint32_t* out) {
  uint64_t v = 0;
  if (*s == '\0') return false;
  for (; *s != '\0'; ++s) {
    if (*s < '0' || *s > '9') return false;
    v = v * 10 + static_cast<uint64_t>(*s - '0');
    if (v > 0xFFFFFFFFu) return false;
  }
  *out = static_cast<uint32_t>(v);
  return true;
}

bool parse_bool(const char* s, bool fallback) {
  if (s[0] == '\0') return fallback;
  if (s[0] == '0' || s[0] == 'n' || s[0] == 'N' || s[0] == 'f' || s[0] == 'F') return false;
  if ((s[0] == 'o' || s[0] == 'O') && (s[1] == 'f' || s[1] == 'F')) return false;
  return true;
}

void apply(const char* name, const char* value) {
  uint32_t u = 0;
  if (__builtin_strcmp(name, "STATS") == 0) {
    g_options.stats = parse_bool(value, true);
  } else if (__builtin_strcmp(name, "CHECKS") == 0 || __builtin_strcmp(name, "SECURE") == 0) {
    g_options.checks = parse_bool(value, true);
  } else if (__builtin_strcmp(name, "VERBOSE") == 0) {
    g_options.verbose = parse_bool(value, true);
  } else if (__builtin_strcmp(name, "DIRECT") == 0) {
    g_options.direct = parse_bool(value, true);
  } else if (__builtin_strcmp(name, "PURGE") == 0) {
    g_options.purge = parse_bool(value, true);
  } else if (__builtin_strcmp(name, "PURGE_KIB") == 0 && parse_u32(value, &u)) {
    g_options.purge_units = static_cast<uint32_t>((uint64_t{u} * 1024 + kUnitSize - 1) / kUnitSize);
  } else if (__builtin_strcmp(name, "PURGE_PERCENT") == 0 && parse_u32(value, &u)) {
    g_options.purge_percent = u > 100000 ? 100000 : u;
  } else if (__builtin_strcmp(name, "PURGE_DELAY_MS") == 0 && parse_u32(value, &u)) {
    g_options.purge_delay_ms = u;
  } else if (__builtin_strcmp(name, "EXTEND") == 0 && parse_u32(value, &u)) {
    g_options.extend_bytes = u;
  } else if (__builtin_strcmp(name, "SEGMENT_CACHE") == 0 && parse_u32(value, &u)) {
    g_options.segment_cache = u > 1024 ? 1024 : u;
  } else if (__builtin_strcmp(name, "HUGE_CACHE_MIB") == 0 && parse_u32(value, &u)) {
    g_options.huge_cache_mib = u > (1u << 20) ? (1u << 20) : u;
  } else if (__builtin_strcmp(name, "HUGE_CACHE_MS") == 0 && parse_u32(value, &u)) {
    g_options.huge_cache_ms = u;
  } else if (__builtin_strcmp(name, "FOREIGN_KIB") == 0 && parse_u32(value, &u)) {
    g_options.foreign_kib = u > 4096 ? 4096 : u;
  }
}

}  // namespace

// Walks `environ` directly (getenv is fine too, but this keeps the parsing in
// one pass). Called once, from process_init, before the first heap exists.
void options_init() {
  char** env = environ;
  if (env == nullptr) return;
  for (; *env != nullptr; ++env) {
    const char* rest = nullptr;
    if (!starts_with(*env, "ISO_ALLOC_", &rest)) continue;
    char name[32];
    unsigned i = 0;
    while (rest[i] != '=' && rest[i] != '\0' && i + 1 < sizeof name) {
      name[i] = rest[i];
      ++i;
    }
    if (rest[i] != '=') continue;
    name[i] = '\0';
    apply(name, rest + i + 1);
  }
}

void options_print() {
  char buf[512];
  char* p = buf;
  auto put = [&](const char* s) {
    while (*s != '\0' && p < buf + sizeof buf - 1) *p++ = *s++;
  };
  auto num = [&](uint64_t v) {
    char tmp[24];
    char* e = format_u64(tmp, v);
    *e = '\0';
    put(tmp);
  };
  put("isoalloc: options stats=");
  num(g_options.stats);
  put(" checks=");
  num(g_options.checks);
  put(" direct=");
  num(g_options.direct);
  put(" purge=");
  num(g_options.purge);
  put(" purge_kib=");
  num(uint64_t{g_options.purge_units} * kUnitSize / 1024);
  put(" purge_percent=");
  num(g_options.purge_percent);
  put(" purge_delay_ms=");
  num(g_options.purge_delay_ms);
  put(" extend=");
  num(g_options.extend_bytes);
  put(" segment_cache=");
  num(g_options.segment_cache);
  put(" huge_cache_mib=");
  num(g_options.huge_cache_mib);
  put(" huge_cache_ms=");
  num(g_options.huge_cache_ms);
  put(" foreign_kib=");
  num(g_options.foreign_kib);
  put(" debug_build=");
  num(ISO_ALLOC_DEBUG);
  put(" local_free_list=");
  num(ISO_ALLOC_LOCAL_FREE_LIST);
  put("\n");
  os_write_stderr(buf, static_cast<std::size_t>(p - buf));
}

}  // namespace iso::alloc
