// How loops behave around the work itself: exceptions, nesting, the threads
// that run bodies, concurrent callers, shutdown and fork().
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "exec/variants.h"
#include "isolate/exec.h"

namespace {

using iso::Chunking;
using iso::ThreadPool;
using iso::exec_detail::Schedule;

std::size_t triangle(std::size_t n) {
  return n * (n - 1) / 2;
}

// ------------------------------------------------------------ exceptions

// Counts the bodies running now and all that started.
struct Tracker {
  std::atomic<int> running{0};
  std::atomic<std::size_t> started{0};
};

class Running {
 public:
  explicit Running(Tracker& t) : t_(t) {
    t_.running.fetch_add(1);
    t_.started.fetch_add(1);
  }
  ~Running() { t_.running.fetch_sub(1); }
  Running(const Running&) = delete;
  Running& operator=(const Running&) = delete;

 private:
  Tracker& t_;
};

void spin_for(std::chrono::microseconds d) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < until) {
  }
}

TEST(Exceptions, RethrownToTheCallerWithNoBodyLeftRunning) {
  for (Schedule schedule : {Schedule::stealing, Schedule::shared_cursor}) {
    const auto owned_pool = iso::exec_detail::make_pool(3, schedule);
    ThreadPool& pool = *owned_pool;
    // Thrown by the caller's first item, by a worker's (the last item is in
    // the last thread's share), and in the middle; fixed and automatic chunks.
    constexpr std::size_t n = 2000;
    for (std::size_t bad : {std::size_t{0}, n - 1, n / 2}) {
      for (Chunking chunking : {Chunking::fixed(1), Chunking::fixed(16), Chunking::automatic()}) {
        Tracker t;
        try {
          pool.parallel_for(
              0, n,
              [&](std::size_t i) {
                const Running r(t);
                spin_for(std::chrono::microseconds(20));
                if (i == bad) throw std::runtime_error("item " + std::to_string(i));
              },
              chunking);
          ADD_FAILURE() << "no exception";
        } catch (const std::runtime_error& e) {
          EXPECT_EQ(std::string(e.what()), "item " + std::to_string(bad));
        }
        EXPECT_EQ(t.running.load(), 0);
        const std::size_t started = t.started.load();
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        EXPECT_EQ(t.started.load(), started) << "a body started after the loop returned";
        // The loop stopped early: with one-item chunks, once the throw is seen
        // each thread runs at most the item it has.
        if (bad == 0 && chunking.items() == 1) {
          EXPECT_LT(started, n / 2);
        }
      }
      // The pool is still usable.
      std::atomic<std::size_t> sum{0};
      pool.parallel_for(0, n, [&](std::size_t i) { sum.fetch_add(i); });
      EXPECT_EQ(sum.load(), triangle(n));
    }
  }
}

TEST(Exceptions, OneOfSeveralIsRethrown) {
  ThreadPool pool(4);
  for (int round = 0; round < 20; ++round) {
    try {
      pool.parallel_for(
          0, 400, [](std::size_t i) { throw static_cast<int>(i); }, Chunking::fixed(1));
      ADD_FAILURE() << "no exception";
    } catch (int i) {
      EXPECT_GE(i, 0);
      EXPECT_LT(i, 400);
    }
  }
}

TEST(Exceptions, EveryEntryPoint) {
  ThreadPool pool(2);
  auto throw_at_7 = [](std::size_t i) {
    if (i == 7) throw std::logic_error("seven");
  };
  EXPECT_THROW(pool.parallel_for(0, 1000, throw_at_7, Chunking::fixed(3)), std::logic_error);
  EXPECT_THROW(iso::exec_detail::parallel_for_dyn(pool, 0, 1000, throw_at_7, Chunking::fixed(3)),
               std::logic_error);
  EXPECT_THROW(pool.parallel_for_chunks(
                   0, 1000,
                   [&](std::size_t first, std::size_t last) {
                     for (std::size_t i = first; i < last; ++i) throw_at_7(i);
                   },
                   Chunking::fixed(3)),
               std::logic_error);
  EXPECT_THROW(pool.parallel_reduce(
                   0, 100000, 0,
                   [&](std::size_t i) {
                     throw_at_7(i);
                     return 1;
                   },
                   std::plus<>()),
               std::logic_error);
  EXPECT_THROW(iso::parallel_for(0, 1000, throw_at_7), std::logic_error);
  ThreadPool single(1);
  EXPECT_THROW(single.parallel_for(0, 1000, throw_at_7), std::logic_error);
}

// ------------------------------------------------------------ nesting

TEST(Nesting, LoopsInsideBodiesFinish) {
  for (std::size_t threads : {1, 2, 3, 8}) {
    ThreadPool pool(threads);
    constexpr std::size_t outer = 64;
    constexpr std::size_t inner = 300;
    std::vector<std::atomic<int>> hits(outer * inner);
    pool.parallel_for(
        0, outer,
        [&](std::size_t i) {
          pool.parallel_for(
              0, inner, [&](std::size_t j) { hits[i * inner + j].fetch_add(1); }, Chunking::fixed(7));
        },
        Chunking::fixed(1));
    for (const auto& h : hits) ASSERT_EQ(h.load(), 1);
  }
}

TEST(Nesting, ThreeLevelsAcrossPoolsAndEntryPoints) {
  ThreadPool a(2);
  ThreadPool b(3);
  std::atomic<std::size_t> total{0};
  a.parallel_for(
      0, 8,
      [&](std::size_t) {
        iso::exec_detail::parallel_for_dyn(b, 0, 8, [&](std::size_t) {
          const int s = iso::parallel_reduce(
              0, 100, 0, [](std::size_t) { return 1; }, std::plus<>(), Chunking::fixed(9));
          total.fetch_add(static_cast<std::size_t>(s));
        });
      },
      Chunking::fixed(1));
  EXPECT_EQ(total.load(), 8u * 8u * 100u);
}

// ------------------------------------------------------------ threads

// Item k of [0, threads) waits until `threads` bodies are running at once:
// that happens only if every thread of the pool takes one (fixed(1) gives
// each thread's share exactly one item). A 20 s timeout turns a broken pool
// into a failure instead of a hang.
bool all_threads_run_at_once(ThreadPool& pool) {
  const std::size_t n = pool.size();
  std::atomic<std::size_t> arrived{0};
  std::atomic<bool> timed_out{false};
  std::mutex mu;
  std::set<std::thread::id> ids;
  pool.parallel_for(
      0, n,
      [&](std::size_t) {
        {
          const std::lock_guard lock(mu);
          ids.insert(std::this_thread::get_id());
        }
        arrived.fetch_add(1);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (arrived.load() < n) {
          if (std::chrono::steady_clock::now() > deadline) {
            timed_out = true;
            return;
          }
          std::this_thread::yield();
        }
      },
      Chunking::fixed(1));
  return !timed_out && ids.size() == n;
}

TEST(Threads, EveryThreadOfThePoolTakesPart) {
  ThreadPool two(2);
  EXPECT_TRUE(all_threads_run_at_once(two));
  // More threads than this machine's CPUs.
  const std::size_t many = 4 * std::max<std::size_t>(2, std::thread::hardware_concurrency());
  ThreadPool oversubscribed(many);
  EXPECT_EQ(oversubscribed.size(), many);
  EXPECT_TRUE(all_threads_run_at_once(oversubscribed));
  EXPECT_TRUE(all_threads_run_at_once(oversubscribed));  // and again, from sleep
}

TEST(Threads, OneThreadRunsEverythingOnTheCaller) {
  ThreadPool pool(1);
  const auto caller = std::this_thread::get_id();
  std::atomic<int> elsewhere{0};
  auto check = [&](std::size_t) {
    if (std::this_thread::get_id() != caller) elsewhere.fetch_add(1);
  };
  pool.parallel_for(0, 100000, check);
  pool.parallel_for(0, 100000, check, Chunking::fixed(1));
  iso::exec_detail::parallel_for_dyn(pool, 0, 1000, check);
  EXPECT_EQ(elsewhere.load(), 0);
}

#if !defined(ISO_EXEC_LITE)  // the lite build learns nothing (lite_test.cc)
TEST(Threads, SmallBatchRunsInlineOnTheCaller) {
  ThreadPool pool(2);
  const auto caller = std::this_thread::get_id();
  std::vector<int> out(16);
  std::atomic<int> elsewhere{0};
  auto body = [&](std::size_t i) {
    out[i] = static_cast<int>(i);
    if (std::this_thread::get_id() != caller) elsewhere.fetch_add(1);
  };
  for (int round = 0; round < 50; ++round) pool.parallel_for(0, out.size(), body);
  EXPECT_EQ(elsewhere.load(), 0);
}
#endif

// The free functions run on default_pool(), one pool for the whole process:
// the same object from every thread, of the default size, whose worker
// threads are the ones the free functions use.
TEST(Threads, FreeFunctionsRunOnTheDefaultPool) {
  iso::ThreadPool& pool = iso::default_pool();
  EXPECT_EQ(pool.size(), iso::default_concurrency());
  const iso::ThreadPool* seen_elsewhere = nullptr;
  std::thread([&] { seen_elsewhere = &iso::default_pool(); }).join();
  EXPECT_EQ(seen_elsewhere, &pool);

  std::mutex mu;
  std::set<std::thread::id> by_pool, by_free;
  const auto recorder = [&mu](std::set<std::thread::id>& ids) {
    return [&mu, &ids](std::size_t) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));  // long enough for every thread to join in
      const std::lock_guard lock(mu);
      ids.insert(std::this_thread::get_id());
    };
  };
  for (int round = 0; round < 3; ++round) {
    auto into_pool = recorder(by_pool);
    pool.parallel_for(0, 64, into_pool, Chunking::fixed(1));
    auto into_free = recorder(by_free);
    iso::parallel_for(0, 64, into_free, Chunking::fixed(1));
  }
  by_pool.erase(std::this_thread::get_id());
  by_free.erase(std::this_thread::get_id());
  if (pool.size() > 1) {
    EXPECT_FALSE(by_free.empty());
  }
  for (const std::thread::id& id : by_free) {
    EXPECT_EQ(by_pool.count(id), 1u) << "a worker outside default_pool()";
  }
}

TEST(Threads, ConcurrentCallersFromSeveralThreads) {
  ThreadPool shared(3);
  constexpr int kCallers = 4;
  constexpr int kRounds = 60;
  std::atomic<int> failures{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < kCallers; ++c) {
    callers.emplace_back([&, c] {
      for (int r = 0; r < kRounds; ++r) {
        const std::size_t n = 1000 + static_cast<std::size_t>(c * 997 + r * 31);
        std::atomic<std::size_t> sum{0};
        auto body = [&](std::size_t i) { sum.fetch_add(i, std::memory_order_relaxed); };
        ThreadPool& pool = (r % 2 == 0) ? shared : iso::default_pool();
        switch (r % 3) {
          case 0:
            pool.parallel_for(0, n, body);
            break;
          case 1:
            pool.parallel_for(0, n, body, Chunking::fixed(13));
            break;
          default:
            iso::exec_detail::parallel_for_dyn(pool, 0, n, body, Chunking::fixed(50));
            break;
        }
        if (sum.load() != triangle(n)) failures.fetch_add(1);
        const std::size_t reduced = pool.parallel_reduce(
            0, n, std::size_t{0}, [](std::size_t i) { return i; }, std::plus<>(), Chunking::fixed(5));
        if (reduced != triangle(n)) failures.fetch_add(1);
      }
    });
  }
  for (std::thread& t : callers) t.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(Threads, ShutdownThenLoopsRunOnTheCaller) {
  ThreadPool pool(3);
  std::atomic<std::size_t> sum{0};
  pool.parallel_for(
      0, 10000, [&](std::size_t i) { sum.fetch_add(i); }, Chunking::fixed(10));
  pool.shutdown();
  pool.shutdown();
  const auto caller = std::this_thread::get_id();
  std::atomic<int> elsewhere{0};
  pool.parallel_for(
      0, 10000,
      [&](std::size_t i) {
        sum.fetch_add(i);
        if (std::this_thread::get_id() != caller) elsewhere.fetch_add(1);
      },
      Chunking::fixed(10));
  EXPECT_EQ(sum.load(), 2 * triangle(10000));
  EXPECT_EQ(elsewhere.load(), 0);
}

TEST(Threads, PoolsComeAndGo) {
  for (int round = 0; round < 20; ++round) {
    ThreadPool pool(2 + round % 3);
    if (round % 2 == 0) {
      std::atomic<std::size_t> sum{0};
      pool.parallel_for(
          0, 1000, [&](std::size_t i) { sum.fetch_add(i); }, Chunking::fixed(3));
      EXPECT_EQ(sum.load(), triangle(1000));
    }
  }
}

// ------------------------------------------------------------ fork

// The child runs loops on a pool whose threads it never had. alarm() turns a
// hang into a failure.
int child_status_after_fork(ThreadPool& pool) {
  const pid_t pid = fork();
  if (pid == 0) {
    alarm(20);
    std::atomic<std::size_t> sum{0};
    pool.parallel_for(
        0, 100000, [&](std::size_t i) { sum.fetch_add(i); }, Chunking::fixed(100));
    iso::parallel_for(
        0, 100000, [&](std::size_t i) { sum.fetch_add(i); }, Chunking::fixed(100));
    _exit(sum.load() == 2 * triangle(100000) ? 0 : 1);
  }
  int status = -1;
  waitpid(pid, &status, 0);
  return status;
}

TEST(Fork, ChildGetsFreshThreads) {
  ThreadPool pool(3);
  std::atomic<std::size_t> sum{0};
  pool.parallel_for(
      0, 1000, [&](std::size_t i) { sum.fetch_add(i); }, Chunking::fixed(1));
  iso::parallel_for(
      0, 1000, [&](std::size_t i) { sum.fetch_add(i); }, Chunking::fixed(1));
  EXPECT_EQ(child_status_after_fork(pool), 0);
  // The parent's threads are untouched.
  sum = 0;
  pool.parallel_for(
      0, 1000, [&](std::size_t i) { sum.fetch_add(i); }, Chunking::fixed(1));
  EXPECT_EQ(sum.load(), triangle(1000));
}

TEST(Fork, WhileAnotherThreadRunsLoops) {
  ThreadPool pool(2);
  std::atomic<bool> stop{false};
  std::thread busy([&] {
    while (!stop.load()) {
      std::atomic<std::size_t> sum{0};
      pool.parallel_for(
          0, 20000, [&](std::size_t i) { sum.fetch_add(i); }, Chunking::fixed(50));
    }
  });
  for (int round = 0; round < 3; ++round) EXPECT_EQ(child_status_after_fork(pool), 0);
  stop = true;
  busy.join();
}

}  // namespace
