// Does this machine (or emulator) keep a seq_cst store before a later seq_cst
// load of another variable? Two threads hand a token back and forth 20,000
// times; each side publishes its index, then checks whether the other side
// announced that it sleeps, and sleeps on a futex itself when there is
// nothing to do. If a store may pass the later load, a wake-up is lost and
// the program hangs (run it under `timeout`). docs/PORTING.md, "What qemu
// taught us"; the command is in docs/BENCHMARKS.md, issue 17.
//
//   store_load_order store     publish with a seq_cst store (STLR on aarch64)
//   store_load_order exchange  publish with an atomic exchange (what isolate does)
//   store_load_order fence     a seq_cst store, then a seq_cst fence
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <thread>

namespace {

enum class Publish { store, exchange, fence };
Publish g_publish = Publish::store;

template <class T>
void publish(std::atomic<T>& where, T value) {
  switch (g_publish) {
    case Publish::store:
      where.store(value, std::memory_order_seq_cst);
      break;
    case Publish::exchange:
      (void)where.exchange(value, std::memory_order_seq_cst);
      break;
    case Publish::fence:
      where.store(value, std::memory_order_seq_cst);
      std::atomic_thread_fence(std::memory_order_seq_cst);
      break;
  }
}

void wait_while_one(std::atomic<std::uint32_t>& flag) {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&flag), FUTEX_WAIT_PRIVATE, 1, nullptr, nullptr, 0);
}

void wake(std::atomic<std::uint32_t>& flag) {
  if (flag.exchange(0, std::memory_order_seq_cst) != 0) {
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&flag), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
  }
}

template <class Ready>
void sleep_until(std::atomic<std::uint32_t>& flag, Ready ready) {
  while (!ready()) {
    publish(flag, std::uint32_t{1});
    if (ready()) {
      flag.store(0, std::memory_order_relaxed);
      return;
    }
    while (flag.load(std::memory_order_seq_cst) == 1 && !ready()) wait_while_one(flag);
  }
}

std::atomic<std::uint64_t> g_produced{0}, g_consumed{0};
std::atomic<std::uint32_t> g_consumer_sleeps{0}, g_producer_sleeps{0};
constexpr std::uint64_t kRounds = 20000;

}  // namespace

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "store";
  if (std::strcmp(mode, "exchange") == 0) {
    g_publish = Publish::exchange;
  } else if (std::strcmp(mode, "fence") == 0) {
    g_publish = Publish::fence;
  } else if (std::strcmp(mode, "store") != 0) {
    std::fprintf(stderr, "usage: %s [store|exchange|fence]\n", argv[0]);
    return 2;
  }
  std::thread consumer([] {
    for (std::uint64_t i = 0; i < kRounds; ++i) {
      sleep_until(g_consumer_sleeps, [i] { return g_produced.load(std::memory_order_seq_cst) > i; });
      publish(g_consumed, i + 1);
      if (g_producer_sleeps.load(std::memory_order_seq_cst) != 0) wake(g_producer_sleeps);
    }
  });
  for (std::uint64_t i = 0; i < kRounds; ++i) {
    sleep_until(g_producer_sleeps, [i] { return g_consumed.load(std::memory_order_seq_cst) >= i; });
    publish(g_produced, i + 1);
    if (g_consumer_sleeps.load(std::memory_order_seq_cst) != 0) wake(g_consumer_sleeps);
  }
  consumer.join();
  std::printf("%s: %llu hand-offs, no wake-up lost\n", mode, static_cast<unsigned long long>(kRounds));
  return 0;
}
