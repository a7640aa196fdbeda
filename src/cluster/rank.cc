#include "rank.h"

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "messages.h"
#include "pacing.h"

namespace iso::cluster {

namespace {

using std::chrono::microseconds;

// Waits for rank 0's word after a failed start: it is stop (or end).
int wait_for_stop(Transport& transport) {
  for (;;) {
    if (std::optional<Transport::Envelope> e = transport.poll()) {
      transport.receive(*e);
      if (e->tag == Tag::stop || e->tag == Tag::end) return 2;
    } else {
      std::this_thread::sleep_for(kLongestWait);
    }
  }
}

}  // namespace

int serve_rank(Transport& transport, pool::MapPool* pool, const std::string& start_error) {
  Hello hello;
  hello.ok = pool != nullptr;
  hello.message = start_error;
  if (pool != nullptr) {
    hello.workers = pool->workers();
    hello.credits = static_cast<std::uint32_t>(chunks_held(pool->workers()));
    hello.backend = pool::backend_name(pool->backend());
  }
  transport.send(0, Tag::hello, encode(hello));
  if (pool == nullptr) return wait_for_stop(transport);

  std::size_t out = 0;  // chunks taken, not answered
  Answers answers;
  microseconds wait = kFirstWait;
  const auto take = [&](std::chrono::nanoseconds limit) {
    bool took = false;
    while (out > 0) {
      std::optional<pool::ResultChunk> chunk = pool->next_for(took ? std::chrono::nanoseconds(0) : limit);
      if (!chunk) break;
      --out;
      answers.chunks.push_back(std::move(*chunk));
      took = true;
    }
    return took;
  };
  for (;;) {
    bool moved = false;
    while (std::optional<Transport::Envelope> e = transport.poll()) {
      moved = true;
      const std::string bytes = transport.receive(*e);
      switch (e->tag) {
        case Tag::work:
          for (pool::ItemChunk& chunk : decode_work(bytes)) {
            ++out;
            pool->submit(std::move(chunk));
          }
          break;
        case Tag::end:
        case Tag::stop:
          pool->finish();
          return 0;
        default:
          throw Error("rank 0 sent an unexpected message");
      }
    }
    if (!take(std::chrono::nanoseconds(0)) && !moved) {
      if (out == 0) {
        std::this_thread::sleep_for(wait);
      } else if (take(wait)) {
        wait = kFirstWait;
      }
      wait = std::min(wait * 2, kLongestWait);
    } else {
      wait = kFirstWait;
    }
    if (!answers.chunks.empty()) {
      answers.credits = static_cast<std::uint32_t>(answers.chunks.size());
      transport.send(0, Tag::results, encode(answers));
      answers.chunks.clear();
    }
  }
}

void end_on_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (const int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set, s);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  std::thread([set] {
    int sig = 0;
    while (sigwait(&set, &sig) != 0) {
    }
    pool::MapPool::kill_worker_processes();
    pool::EmbeddedPython::quick_exit(128 + sig);
  }).detach();
}

}  // namespace iso::cluster
