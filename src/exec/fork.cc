// fork(): the child has only the thread that forked. Every Core records the
// fork generation it was started in; the child handler bumps the generation,
// so the child's first loop finds its pool's Core stale and starts a new one
// (the old one, whose threads do not exist here, is abandoned, never joined).
#include <pthread.h>

#include <atomic>
#include <mutex>

#include "core.h"

namespace iso::exec_detail {
namespace {

std::atomic<std::uint32_t> g_fork_generation{0};

void before_fork() {
  lifecycle_mutex().lock();
}
void after_fork_in_parent() {
  lifecycle_mutex().unlock();
}
void after_fork_in_child() {
  g_fork_generation.fetch_add(1, std::memory_order_relaxed);
  lifecycle_mutex().unlock();
}

void install_fork_handlers() {
  static std::once_flag once;
  std::call_once(once, [] { pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child); });
}

// Registered at load, before main() and so before any thread of ours runs: a
// once-flag caught "running" by another thread's fork() stays so in the child
// for ever under ThreadSanitizer, whose pthread_once (unlike glibc's) does not
// reset it there. The call in lifecycle_mutex() covers a loop started by a
// static initializer that runs before this one.
[[gnu::constructor(101)]] void install_fork_handlers_at_load() {
  install_fork_handlers();
}

}  // namespace

std::uint32_t fork_generation() noexcept {
  return g_fork_generation.load(std::memory_order_relaxed);
}

// The handlers are registered before the mutex can first be taken: a fork()
// while another thread held it with no handler registered yet (the first
// Core being started) left the child a mutex locked for ever.
std::mutex& lifecycle_mutex() {
  static std::mutex m;
  install_fork_handlers();
  return m;
}

}  // namespace iso::exec_detail
