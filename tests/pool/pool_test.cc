// The pool's policy: backend names, the automatic choice, the environment's
// say (ISO_BACKEND, ISO_FORCE_PROCESS, ISO_THREADS through the executor) and
// the errors a bad setting gets. The pool itself is driven end to end through
// `isolate map` (tests/e2e/test_map.py) and `import isolate` (test_api.py).
#include <Python.h>  // PY_VERSION_HEX
#include <gtest/gtest.h>
#include <stdlib.h>

#include <optional>
#include <string>

#include "isolate/exec.h"
#include "isolate/pool.h"
#include "isolate/python.h"
#include "support/scoped.h"

namespace {

using iso::testing::ScopedVariable;

using iso::pool::Backend;
using iso::pool::BackendChoice;
using iso::pool::choose_backend;
using iso::pool::Error;

Backend best_of_build() {
  const auto& info = iso::python::build_info();
  return info.gil_disabled                      ? Backend::threads
         : info.backends.front() == "subinterp" ? Backend::subinterp
                                                : Backend::process;
}

std::string setting_error(std::string_view requested, std::string_view setting = "backend") {
  try {
    choose_backend(requested, setting);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind, Error::Kind::setting);
    return e.what();
  }
  return "no error";
}

TEST(PoolBackend, NamesRoundTrip) {
  for (const Backend b : {Backend::subinterp, Backend::threads, Backend::process}) {
    EXPECT_EQ(iso::pool::parse_backend(iso::pool::backend_name(b)), b);
  }
  EXPECT_FALSE(iso::pool::parse_backend("auto"));
  EXPECT_FALSE(iso::pool::parse_backend("Process"));
}

TEST(PoolBackend, AutoIsTheBestOfTheBuildUnlessProcessesAreForced) {
  ScopedVariable force("ISO_FORCE_PROCESS", nullptr);
  EXPECT_EQ(iso::pool::auto_backend(), best_of_build());
  setenv("ISO_FORCE_PROCESS", "1", 1);
  EXPECT_EQ(iso::pool::auto_backend(), Backend::process);
  setenv("ISO_FORCE_PROCESS", "0", 1);
  EXPECT_EQ(iso::pool::auto_backend(), best_of_build());
}

TEST(PoolBackend, AutoMayFallBackANamedBackendMayNot) {
  ScopedVariable backend("ISO_BACKEND", nullptr);
  ScopedVariable force("ISO_FORCE_PROCESS", nullptr);
  const BackendChoice automatic = choose_backend("auto");
  EXPECT_EQ(automatic.backend, best_of_build());
  EXPECT_TRUE(automatic.automatic);
  const BackendChoice named = choose_backend("process");
  EXPECT_EQ(named.backend, Backend::process);
  EXPECT_FALSE(named.automatic);
  EXPECT_EQ(choose_backend("threads").backend, Backend::threads);
}

TEST(PoolBackend, AMainWithoutAFileKeepsAutoOffSubInterpreters) {
  ScopedVariable backend("ISO_BACKEND", nullptr);
  ScopedVariable force("ISO_FORCE_PROCESS", nullptr);
  const Backend fileless = choose_backend("auto", "backend", /*main_has_file=*/false).backend;
  EXPECT_EQ(fileless, best_of_build() == Backend::subinterp ? Backend::process : best_of_build());
  if (PY_VERSION_HEX >= 0x030C0000) {  // named, it is the caller's to choose
    EXPECT_EQ(choose_backend("subinterp", "backend", false).backend, Backend::subinterp);
  }
}

TEST(PoolBackend, IsoBackendDecidesUnderAutoOnly) {
  ScopedVariable backend("ISO_BACKEND", "process");
  EXPECT_EQ(choose_backend("auto").backend, Backend::process);
  EXPECT_FALSE(choose_backend("auto").automatic);
  EXPECT_EQ(choose_backend("threads").backend, Backend::threads);
  setenv("ISO_BACKEND", "auto", 1);
  EXPECT_TRUE(choose_backend("auto").automatic);
  setenv("ISO_BACKEND", "", 1);
  EXPECT_TRUE(choose_backend("auto").automatic);
  setenv("ISO_BACKEND", "gpu", 1);
  EXPECT_EQ(setting_error("auto"),
            "isolate: unknown ISO_BACKEND 'gpu' (expected one of auto, subinterp, threads, process)");
}

TEST(PoolBackend, UnknownNamesAreSettingErrorsNamingTheSetting) {
  ScopedVariable backend("ISO_BACKEND", nullptr);
  EXPECT_EQ(setting_error("gpu"),
            "isolate: unknown backend 'gpu' (expected one of auto, subinterp, threads, process)");
  EXPECT_EQ(setting_error("Process", "--backend"),
            "isolate: unknown --backend 'Process' (expected one of auto, subinterp, threads, process)");
  if (PY_VERSION_HEX < 0x030C0000) {
    EXPECT_EQ(setting_error("subinterp").rfind("isolate: backend 'subinterp' needs CPython >= 3.12", 0), 0u);
  }
}

TEST(PoolWorkers, DefaultIsTheExecutorsDefaultConcurrency) {
  EXPECT_EQ(iso::pool::default_workers(), iso::default_concurrency());
  EXPECT_EQ(iso::pool::resolve_workers(0), iso::pool::default_workers());
  EXPECT_EQ(iso::pool::resolve_workers(3), 3u);
  EXPECT_EQ(iso::pool::resolve_workers(iso::pool::kMaxWorkers), iso::pool::kMaxWorkers);
  try {
    iso::pool::resolve_workers(iso::pool::kMaxWorkers + 1);
    FAIL() << "no error past kMaxWorkers";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind, Error::Kind::setting);
    EXPECT_EQ(std::string(e.what()), "isolate: max_workers must be from 1 to 4096, not 4097");
  }
}

}  // namespace
