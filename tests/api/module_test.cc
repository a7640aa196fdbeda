// The C half of `import isolate`, `_Pool`, in an embedded interpreter: the
// pool's policy reaches Python as ValueError for a bad setting, the default
// worker count, the file-less __main__ rule, and the fallback from
// sub-interpreters to processes (refused_module). CPython initialises once
// per process, so each case runs in a forked child.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "api/module.h"
#include "isolate/pool.h"
#include "isolate/python.h"

namespace {

struct Outcome {
  int status = -1;
  std::string out;
};

// Runs `code` with `python -c` in a child that has `import isolate`; returns
// what it printed (stderr goes to the test's own).
Outcome run_python(const std::string& code) {
  int out[2];
  if (pipe(out) != 0) return {};
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    iso::api::register_module();
    std::string flag = "-c", text = code;
    char* argv[] = {flag.data(), text.data(), nullptr};
    const int status = iso::python::run_main(2, argv);
    std::fflush(nullptr);
    _exit(status);
  }
  close(out[1]);
  Outcome o;
  char buffer[4096];
  for (ssize_t n; (n = read(out[0], buffer, sizeof buffer)) > 0;)
    o.out.append(buffer, static_cast<std::size_t>(n));
  close(out[0]);
  int raw = 0;
  waitpid(pid, &raw, 0);
  o.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
  return o;
}

const char* kPrelude =
    "import sys, isolate\n"
    "P = isolate._Pool\n"
    "preload = isolate._preload(None)\n"
    "def error(*args):\n"
    "    try:\n"
    "        P(*args).close()\n"
    "    except Exception as e:\n"
    "        print(type(e).__name__, e)\n";

TEST(ApiPool, BadSettingsAreValueErrors) {
  const Outcome o = run_python(std::string(kPrelude) +
                               "error('gpu', 0, preload)\n"
                               "error('process', 5000, preload)\n");
  EXPECT_EQ(o.status, 0);
  EXPECT_EQ(o.out,
            "ValueError isolate: unknown backend 'gpu' (expected one of auto, subinterp, threads, process)\n"
            "ValueError isolate: max_workers must be from 1 to 4096, not 5000\n");
}

TEST(ApiPool, ZeroWorkersIsTheDefaultAndChunksStartAtOne) {
  const Outcome o = run_python(std::string(kPrelude) +
                               "p = P('process', 0, preload)\n"
                               "print(p.backend, p.workers, p.refused_module, p.chunk_size())\n"
                               "p.close()\n");
  EXPECT_EQ(o.status, 0);
  EXPECT_EQ(o.out, "process " + std::to_string(iso::pool::default_workers()) + " None 1\n");
}

TEST(ApiPool, AFilelessMainKeepsAutoOffSubInterpreters) {
  if (iso::pool::auto_backend() != iso::pool::Backend::subinterp)
    GTEST_SKIP() << "auto is not subinterp here";
  const Outcome o = run_python(std::string(kPrelude) +
                               "for has_file in (True, False):\n"
                               "    p = P('auto', 1, preload, has_file)\n"
                               "    print(p.backend)\n"
                               "    p.close()\n");
  EXPECT_EQ(o.status, 0);
  EXPECT_EQ(o.out, "subinterp\nprocess\n");
}

TEST(ApiPool, AutoFallsBackToProcessesWhenAModuleRefusesSubInterpreters) {
  if (iso::pool::auto_backend() != iso::pool::Backend::subinterp)
    GTEST_SKIP() << "auto is not subinterp here";
  char directory[] = "/tmp/iso-api-test-XXXXXX";
  ASSERT_NE(mkdtemp(directory), nullptr);
  const std::string module = std::string(directory) + "/single.py";
  std::FILE* file = std::fopen(module.c_str(), "w");
  ASSERT_NE(file, nullptr);
  std::fputs("import _testsinglephase\ndef f(x):\n    return x\n", file);
  std::fclose(file);
  const Outcome o = run_python(std::string(kPrelude) + "sys.path.insert(0, '" + directory +
                               "')\n"
                               "try:\n"
                               "    import _testsinglephase\n"
                               "except ImportError:\n"
                               "    print('no _testsinglephase'); sys.exit(0)\n"
                               "refusing = isolate._preload(('single', 'f', None))\n"
                               "p = P('auto', 1, refusing)\n"
                               "print(p.backend, p.refused_module)\n"
                               "p.close()\n"
                               "error('subinterp', 1, refusing)\n");
  unlink(module.c_str());
  rmdir(directory);
  EXPECT_EQ(o.status, 0);
  if (o.out == "no _testsinglephase\n") GTEST_SKIP() << "this CPython has no _testsinglephase";
  ASSERT_EQ(o.out.substr(0, o.out.find('\n') + 1), "process _testsinglephase\n");
  EXPECT_EQ(o.out.rfind("ImportError isolate: cannot load the function: ", o.out.find('\n') + 1),
            o.out.find('\n') + 1)
      << o.out;
}

// An executor's functions come later: what this process has loaded decides.
TEST(ApiPool, AnExecutorFallsBackWhenTheProcessLoadedARefusingModule) {
  if (iso::pool::auto_backend() != iso::pool::Backend::subinterp)
    GTEST_SKIP() << "auto is not subinterp here";
  const Outcome o = run_python(std::string(kPrelude) +
                               "def start(functions_known):\n"
                               "    p = P('auto', 1, preload, True, functions_known)\n"
                               "    print(p.backend, p.refused_module)\n"
                               "    p.close()\n"
                               "start(False)\n"
                               "try:\n"
                               "    import _testsinglephase\n"
                               "except ImportError:\n"
                               "    print('no _testsinglephase'); sys.exit(0)\n"
                               "start(True)\n"
                               "start(False)\n");
  EXPECT_EQ(o.status, 0);
  if (o.out.find("no _testsinglephase") != std::string::npos)
    GTEST_SKIP() << "this CPython has no _testsinglephase";
  EXPECT_EQ(o.out, "subinterp None\nsubinterp None\nprocess _testsinglephase\n");
}

}  // namespace
