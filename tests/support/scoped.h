// What several test binaries need for a scope: one environment variable set
// or unset, and a fresh temporary directory removed with what it holds.
#pragma once

#include <stdlib.h>

#include <cstdlib>
#include <optional>
#include <string>

namespace iso::testing {

// Sets (or, with nullptr, unsets) one variable until the end of the scope.
class ScopedVariable {
 public:
  ScopedVariable(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value != nullptr) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedVariable() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }
  ScopedVariable(const ScopedVariable&) = delete;
  ScopedVariable& operator=(const ScopedVariable&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

class TempDirectory {
 public:
  TempDirectory() {
    char pattern[] = "/tmp/iso-test-XXXXXX";
    path_ = mkdtemp(pattern);
  }
  ~TempDirectory() { (void)std::system(("rm -rf '" + path_ + "'").c_str()); }
  TempDirectory(const TempDirectory&) = delete;
  TempDirectory& operator=(const TempDirectory&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace iso::testing
