// Shared pieces of the family_* allocator benchmarks (family_xmalloc.cc and
// its siblings): the RNG, the command-line parser, the clock, the sink and the
// error exits. Header-only so each benchmark stays one self-contained
// executable that calls nothing but the process's malloc/free/new/delete.
//
// The parser takes "--name value" or "--name=value"; every option is looked up
// by name, so order does not matter. A bad or unknown argument prints one line
// "PROGRAM: ..." on stderr and exits 2; --help / -h prints the usage on stdout
// and exits 0.
#pragma once

#include <chrono>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <sys/resource.h>

namespace family {

// xorshift64: the same cheap generator in every benchmark, so a seed means the
// same sequence whichever allocator runs underneath.
inline std::uint64_t xorshift64(std::uint64_t& x) {
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return x;
}

// Spreads (seed, a, b) over the state space: consecutive thread numbers would
// otherwise start xorshift in visibly correlated states. Never returns 0, the
// one state xorshift cannot leave.
inline std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t a, std::uint64_t b = 0) {
  std::uint64_t z = seed + 0x9E3779B97F4A7C15ull * (a + 1) + 0xBF58476D1CE4E5B9ull * (b + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return z != 0 ? z : 1;
}

// Uniform in [lo, hi]; the modulo bias is irrelevant at these ranges.
inline std::uint64_t uniform(std::uint64_t& state, std::uint64_t lo, std::uint64_t hi) {
  return lo + xorshift64(state) % (hi - lo + 1);
}

// Written with results the compiler cannot see through, so it cannot drop an
// allocation whose pointer or contents otherwise go nowhere.
inline volatile std::uint64_t g_sink;

inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The peak resident set of this process's own address space, in KiB. VmHWM
// rather than getrusage's ru_maxrss: at exec Linux folds the RSS of the old
// address space (the parent's, when the runner spawns with vfork, or its
// fork-time copy) into ru_maxrss, so a small benchmark started from a 15 MiB
// Python runner would report 15 MiB whatever the allocator did.
inline long peak_rss_kib() {
  if (std::FILE* f = std::fopen("/proc/self/status", "r")) {
    char line[256];
    long kib = -1;
    while (std::fgets(line, sizeof line, f) != nullptr) {
      if (std::sscanf(line, "VmHWM: %ld kB", &kib) == 1) break;
    }
    std::fclose(f);
    if (kib >= 0) return kib;
  }
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return -1;
  return ru.ru_maxrss;  // KiB on Linux
}

// "PROG: message" + `tail` on stderr: the one shape of every error line.
inline void report(const char* prog, const char* fmt, va_list ap, const char* tail) {
  std::fprintf(stderr, "%s: ", prog);
  std::vfprintf(stderr, fmt, ap);
  std::fputs(tail, stderr);
}

// A failed check or allocation: other threads may still be running, so no
// exit handlers (they could free what a thread is using).
[[noreturn]] __attribute__((format(printf, 2, 3))) inline void die(const char* prog, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  report(prog, fmt, ap, "\n");
  va_end(ap);
  std::fflush(nullptr);
  std::_Exit(1);
}

class Cli {
 public:
  Cli(int argc, char** argv, const char* prog, const char* usage) : prog_(prog), usage_(usage) {
    for (int a = 1; a < argc; ++a) args_.emplace_back(argv[a]);
    used_.assign(args_.size(), false);
    for (const std::string& s : args_) {
      if (s == "--help" || s == "-h") {
        std::fputs(usage_, stdout);
        std::exit(0);
      }
    }
  }

  [[noreturn]] __attribute__((format(printf, 2, 3))) void fail(const char* fmt, ...) const {
    va_list ap;
    va_start(ap, fmt);
    report(prog_, fmt, ap, " (--help for usage)\n");
    va_end(ap);
    std::exit(2);
  }

  bool flag(std::string_view name) {
    bool seen = false;
    for (std::size_t i = 0; i < args_.size(); ++i) {
      if (!used_[i] && args_[i] == name) {
        used_[i] = true;
        seen = true;
      }
    }
    return seen;
  }

  std::uint64_t u64(std::string_view name, std::uint64_t def, std::uint64_t lo, std::uint64_t hi) {
    std::string text;
    if (!value(name, text)) return def;
    const std::uint64_t v = parse_u64(name, text);
    if (v < lo || v > hi) {
      fail("%.*s must be in [%llu, %llu], got %s", static_cast<int>(name.size()), name.data(),
           static_cast<unsigned long long>(lo), static_cast<unsigned long long>(hi), text.c_str());
    }
    return v;
  }

  // A comma-separated list of integers, each in [lo, hi].
  std::vector<std::uint64_t> list(std::string_view name, std::vector<std::uint64_t> def, std::uint64_t lo,
                                  std::uint64_t hi) {
    std::string text;
    if (!value(name, text)) return def;
    std::vector<std::uint64_t> out;
    std::size_t start = 0;
    for (;;) {
      const std::size_t comma = text.find(',', start);
      const std::string item =
          text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      const std::uint64_t v = parse_u64(name, item);
      if (v < lo || v > hi) {
        fail("every item of %.*s must be in [%llu, %llu], got %s", static_cast<int>(name.size()), name.data(),
             static_cast<unsigned long long>(lo), static_cast<unsigned long long>(hi), item.c_str());
      }
      out.push_back(v);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    return out;
  }

  // Call after every option has been read: whatever is left was not understood.
  void finish() const {
    for (std::size_t i = 0; i < args_.size(); ++i) {
      if (!used_[i]) fail("unknown or repeated argument '%s'", args_[i].c_str());
    }
  }

 private:
  bool value(std::string_view name, std::string& out) {
    bool seen = false;
    for (std::size_t i = 0; i < args_.size(); ++i) {
      if (used_[i]) continue;
      const std::string& s = args_[i];
      if (s == name) {
        if (i + 1 >= args_.size()) fail("%s needs a value", s.c_str());
        used_[i] = used_[i + 1] = true;
        out = args_[i + 1];
      } else if (s.size() > name.size() && s.compare(0, name.size(), name) == 0 && s[name.size()] == '=') {
        used_[i] = true;
        out = s.substr(name.size() + 1);
      } else {
        continue;
      }
      if (seen) fail("%s given twice", std::string(name).c_str());
      seen = true;
    }
    return seen;
  }

  std::uint64_t parse_u64(std::string_view name, const std::string& text) const {
    if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos || text.size() > 19) {
      fail("%.*s wants a non-negative integer, got '%s'", static_cast<int>(name.size()), name.data(),
           text.c_str());
    }
    return std::strtoull(text.c_str(), nullptr, 10);
  }

  const char* prog_;
  const char* usage_;
  std::vector<std::string> args_;
  std::vector<bool> used_;
};

}  // namespace family
