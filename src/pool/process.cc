// The process backend: each worker thread drives one child forked from the
// main interpreter (TARGET already imported, so children start warm) over a
// pair of pipes. A child that dies fails the chunk it held and is replaced.
//
// Frames: request  u32 count, then per item u32 length + JSON bytes;
//         reply    u32 count, then per item u8 ok + u32 length + JSON bytes.
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "internal.h"
#include "log.h"

namespace iso::pool {

namespace {

// Every pipe end the pool holds. A child closes all but its own two, so that
// a worker's death shows as end-of-file to the parent even though children
// forked later inherited copies of its pipes.
std::mutex g_fds_lock;
std::vector<int> g_fds;
std::vector<pid_t> g_pids;  // live worker processes, under g_fds_lock
// One spawn at a time: a child forked while another worker's pipes exist but
// are not yet in g_fds would keep them open.
std::mutex g_spawn_lock;

bool write_all(int fd, const void* data, std::size_t size) {
  const auto* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

bool read_all(int fd, void* data, std::size_t size) {
  auto* p = static_cast<char*>(data);
  while (size > 0) {
    const ssize_t n = read(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

bool read_u32(int fd, std::uint32_t* v) {
  return read_all(fd, v, sizeof *v);
}

bool read_string(int fd, std::string* s) {
  std::uint32_t size = 0;
  if (!read_u32(fd, &size)) return false;
  s->resize(size);
  return read_all(fd, s->data(), size);
}

// The child: serve frames until the parent closes the request pipe.
[[noreturn]] void child_loop(int requests, int replies, PyObject* run_batch) {
  ItemChunk chunk;
  for (std::uint32_t count = 0; read_u32(requests, &count);) {
    chunk.resize(count);
    for (Item& item : chunk) {
      if (!read_string(requests, &item.payload)) _exit(0);
    }
    const ResultChunk results = call_batch_locked(run_batch, chunk);
    std::string frame;
    const auto put_u32 = [&frame](std::uint32_t v) {
      frame.append(reinterpret_cast<const char*>(&v), sizeof v);
    };
    put_u32(static_cast<std::uint32_t>(results.size()));
    for (const Result& r : results) {
      frame.push_back(r.ok ? 1 : 0);
      put_u32(static_cast<std::uint32_t>(r.payload.size()));
      frame += r.payload;
    }
    if (!write_all(replies, frame.data(), frame.size())) _exit(0);
  }
  _exit(0);
}

// CPython 3.12 and 3.13 cannot fork while another interpreter lives: the
// child clears it without a thread state and aborts.
bool other_interpreters_alive() {
  PyInterpreterState* main = PyInterpreterState_Main();
  for (PyInterpreterState* i = PyInterpreterState_Head(); i != nullptr; i = PyInterpreterState_Next(i)) {
    if (i != main) return true;
  }
  return false;
}

std::string describe_death(pid_t pid, int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    return "worker process " + std::to_string(pid) + " died of signal " + std::to_string(sig) + " (" +
           sigdescr_np(sig) + ")";
  }
  if (WIFEXITED(status)) {
    return "worker process " + std::to_string(pid) + " exited with status " +
           std::to_string(WEXITSTATUS(status));
  }
  return "worker process " + std::to_string(pid) + " stopped answering";
}

class ProcessExecutor final : public Executor {
 public:
  explicit ProcessExecutor(PyObject* run_batch) : run_batch_(run_batch) { spawn(); }

  ~ProcessExecutor() override { reap(/*kill_it=*/false); }

  ResultChunk run(const ItemChunk& chunk) override {
    try {
      if (pid_ <= 0) spawn();
    } catch (const Error& e) {
      return failed_chunk(chunk, "WorkerDied", e.what());
    }
    if (send(chunk)) {
      ResultChunk results;
      if (receive(chunk, &results)) return results;
    }
    const std::string why = reap(/*kill_it=*/true);
    log().info("{}; {} items failed; starting a new worker", why, chunk.size());
    try {
      spawn();
    } catch (const Error& e) {
      log().info("{}", e.what());  // the next chunk tries again
    }
    return failed_chunk(chunk, "WorkerDied", why);
  }

 private:
  void spawn() {
    const std::lock_guard spawning(g_spawn_lock);
    int requests[2], replies[2];
    if (pipe2(requests, O_CLOEXEC) != 0)
      throw Error(Error::Kind::start, std::string("isolate: pipe: ") + std::strerror(errno));
    if (pipe2(replies, O_CLOEXEC) != 0) {
      close(requests[0]);
      close(requests[1]);
      throw Error(Error::Kind::start, std::string("isolate: pipe: ") + std::strerror(errno));
    }
    std::vector<int> inherited;
    {
      const std::lock_guard guard(g_fds_lock);
      inherited = g_fds;
    }
    // What os.fork() does: the GIL and CPython's own fork hooks around fork.
    const PyGILState_STATE gil = PyGILState_Ensure();
    PyOS_BeforeFork();  // `import isolate` closes its idle pools of sub-interpreters here
    if (other_interpreters_alive()) {
      PyOS_AfterFork_Parent();
      PyGILState_Release(gil);
      for (const int fd : {requests[0], requests[1], replies[0], replies[1]}) close(fd);
      throw Error(Error::Kind::start,
                  "isolate: cannot fork a worker process while sub-interpreters are alive (CPython's child "
                  "would die in PyOS_AfterFork_Child): shut down the PoolExecutor of sub-interpreters first");
    }
    const pid_t pid = fork();
    if (pid == 0) {
      PyOS_AfterFork_Child();
      signal(SIGINT, SIG_IGN);  // the parent decides what Ctrl-C means
      sigset_t none;
      sigemptyset(&none);
      pthread_sigmask(SIG_SETMASK, &none, nullptr);
      for (const int fd : inherited) close(fd);
      close(requests[1]);
      close(replies[0]);
      child_loop(requests[0], replies[1], run_batch_);
    }
    const int fork_errno = errno;
    PyOS_AfterFork_Parent();
    PyGILState_Release(gil);
    close(requests[0]);
    close(replies[1]);
    if (pid < 0) {
      close(requests[1]);
      close(replies[0]);
      throw Error(Error::Kind::start,
                  std::string("isolate: cannot fork a worker process: ") + std::strerror(fork_errno));
    }
    log().debug("worker process {} started", pid);
    pid_ = pid;
    to_child_ = requests[1];
    from_child_ = replies[0];
    const std::lock_guard guard(g_fds_lock);
    g_fds.push_back(to_child_);
    g_fds.push_back(from_child_);
    g_pids.push_back(pid_);
  }

  bool send(const ItemChunk& chunk) {
    std::string frame;
    const auto put_u32 = [&frame](std::uint32_t v) {
      frame.append(reinterpret_cast<const char*>(&v), sizeof v);
    };
    put_u32(static_cast<std::uint32_t>(chunk.size()));
    for (const Item& item : chunk) {
      put_u32(static_cast<std::uint32_t>(item.payload.size()));
      frame += item.payload;
    }
    return write_all(to_child_, frame.data(), frame.size());
  }

  bool receive(const ItemChunk& chunk, ResultChunk* results) {
    std::uint32_t count = 0;
    if (!read_u32(from_child_, &count) || count != chunk.size()) return false;
    results->resize(count);
    for (std::size_t i = 0; i < count; ++i) {
      char ok = 0;
      if (!read_all(from_child_, &ok, 1) || !read_string(from_child_, &(*results)[i].payload)) return false;
      (*results)[i].index = chunk[i].index;
      (*results)[i].ok = ok == 1;
    }
    return true;
  }

  // Closes the pipes and waits for the child; returns how it ended.
  std::string reap(bool kill_it) {
    if (pid_ <= 0) return "no worker process";
    {
      const std::lock_guard guard(g_fds_lock);
      std::erase(g_fds, to_child_);
      std::erase(g_fds, from_child_);
      std::erase(g_pids, pid_);
    }
    close(to_child_);
    close(from_child_);
    to_child_ = from_child_ = -1;
    if (kill_it) kill(pid_, SIGKILL);  // a child that broke the protocol but lives on
    // A healthy child leaves at end-of-file at once; one still busy in user
    // code gets a second to finish, then SIGKILL.
    int status = 0;
    for (int waited_ms = 0; waitpid(pid_, &status, WNOHANG) == 0; waited_ms += 10) {
      if (waited_ms == 1000) kill(pid_, SIGKILL);
      usleep(10000);
    }
    const std::string why = describe_death(pid_, status);
    pid_ = -1;
    return why;
  }

  PyObject* run_batch_;  // the main interpreter's, owned by the pool
  pid_t pid_ = -1;
  int to_child_ = -1;
  int from_child_ = -1;
};

}  // namespace

void kill_worker_processes() {
  const std::lock_guard guard(g_fds_lock);
  for (const pid_t pid : g_pids) kill(pid, SIGKILL);
}

std::unique_ptr<Executor> make_process_executor(PyObject* run_batch) {
  return std::make_unique<ProcessExecutor>(run_batch);
}

}  // namespace iso::pool
