// run_main initialises and finalises CPython, which a process can do once, so
// every case runs it in a forked child and inspects what the child printed.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "isolate/python.h"

namespace {

struct Outcome {
  int status = -1;
  std::string out;
  std::string err;
};

std::string drain(int fd) {
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) text.append(buf, static_cast<std::size_t>(n));
  close(fd);
  return text;
}

// Output is small, so reading the pipes one after the other cannot deadlock.
Outcome run_in_child(std::vector<std::string> args) {
  int out[2], err[2];
  if (pipe(out) != 0 || pipe(err) != 0) return {};
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    dup2(err[1], STDERR_FILENO);
    const int null = open("/dev/null", O_RDONLY);
    dup2(null, STDIN_FILENO);
    for (int fd : {out[0], out[1], err[0], err[1], null}) close(fd);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int status = iso::python::run_main(static_cast<int>(args.size()), argv.data());
    std::fflush(nullptr);  // what returning from main would do; _exit skips gtest's atexit work
    _exit(status);
  }
  close(out[1]);
  close(err[1]);
  Outcome o;
  o.out = drain(out[0]);
  o.err = drain(err[0]);
  int raw = 0;
  waitpid(pid, &raw, 0);
  o.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
  return o;
}

TEST(RunMain, RunsACommand) {
  const Outcome o = run_in_child({"-c", "print(6 * 7)"});
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.out, "42\n");
  EXPECT_EQ(o.err, "");
}

TEST(RunMain, ExitStatusComesFromSystemExit) {
  EXPECT_EQ(run_in_child({"-c", "raise SystemExit(3)"}).status, 3);
  const Outcome text = run_in_child({"-c", "import sys; sys.exit('bye')"});
  EXPECT_EQ(text.status, 1);
  EXPECT_EQ(text.err, "bye\n");
}

TEST(RunMain, SysExecutableIsTheRealInterpreter) {
  const Outcome o = run_in_child({"-c", "import sys; print(sys.executable); print(sys.argv)"});
  EXPECT_EQ(o.out, std::string(iso::python::build_info().executable) + "\n['-c']\n");
}

TEST(RunMain, VersionFlagAnswersLikePython) {
  const Outcome o = run_in_child({"--version"});
  EXPECT_EQ(o.status, 0);
  EXPECT_EQ(o.out, "Python " + std::string(iso::python::build_info().version) + "\n");
}

TEST(RunMain, UnknownOptionIsAUsageError) {
  const Outcome o = run_in_child({"-Z"});
  EXPECT_EQ(o.status, 2);
  EXPECT_NE(o.err.find("-Z"), std::string::npos) << o.err;
}

TEST(RunMain, CExtensionModulesLoad) {
  const Outcome o =
      run_in_child({"-c", "import _json, math, _decimal, _struct, _sqlite3; print(math.isqrt(10**6))"});
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.out, "1000\n");
}

TEST(RunMain, UncaughtExceptionPrintsTracebackAndExitsOne) {
  const Outcome o = run_in_child({"-c", "1/0"});
  EXPECT_EQ(o.status, 1);
  EXPECT_NE(o.err.find("ZeroDivisionError: division by zero"), std::string::npos) << o.err;
}

}  // namespace
