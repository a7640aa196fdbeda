// Rank 0 of an MPI job: the input's chunks go to whichever pool has room,
// its own or a rank's that asked for more (each rank gives credits: the
// chunks it can take at once, and one more per chunk it answers), so a slow
// node or a run of costly items takes fewer chunks instead of stalling the
// rest. Every MPI call is made by the thread that calls next().
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

#include "engine.h"
#include "transport.h"

namespace iso::cluster {

class Coordinator final : public Engine {
 public:
  // Waits for every rank's hello. If a rank's pool did not start, tells
  // every rank to stop and throws Error ("rank 2: ...").
  // `reader_thread`: submit() comes from a thread of its own (isolate map's
  // reader), which then waits while the queue holds as many chunks as every
  // pool has room for, as MapPool::submit does. Without that the reader,
  // which is faster than any pool, queues the first chunks (of one item, the
  // size before any was measured) by the thousand.
  Coordinator(Transport& transport, pool::MapPool& local, bool reader_thread = true);
  ~Coordinator() override;  // tells every rank the job is over
  void submit(pool::ItemChunk chunk) override;
  void finish() override;
  std::optional<pool::ResultChunk> next() override;
  // As next(), waiting at most `limit`: nullopt also when the time ran out,
  // which ended() tells apart.
  std::optional<pool::ResultChunk> next_for(std::chrono::nanoseconds limit);
  bool ended() const { return ended_ || cancelled_; }
  // Takes back a chunk (named by its first index) no pool has been handed: true, and it will not run.
  bool withdraw(std::uint64_t index);
  void cancel();  // next() returns nullopt at once; answers still out are dropped
  // Waits for every chunk out, drops their answers and what is queued, and
  // makes the coordinator ready for another user (the Python API's pools).
  void reset();
  unsigned workers() const;
  std::size_t chunk_size(std::size_t max_in_flight) const override;
  unsigned ranks() const override { return static_cast<unsigned>(ranks_.size()); }
  std::string describe() const override;

  // Rank 0 could not start the job: every other rank ends without work.
  static void stop_all(Transport& transport);

 private:
  struct Rank {
    std::uint32_t credits = 0;  // chunks it can take now
    std::uint64_t out = 0;      // chunks sent, not answered
    unsigned workers = 0;
    std::string backend;
  };
  bool take_messages();
  bool hand_out();
  bool take_local(std::chrono::nanoseconds wait);
  bool everything_answered();

  Transport& transport_;
  pool::MapPool& local_;
  std::vector<Rank> ranks_;    // by rank; [0] is this one, fed directly
  std::size_t local_cap_;      // chunks the local pool may hold
  std::size_t local_out_ = 0;  // chunks it holds

  std::mutex lock_;               // pending_ and finished_, shared with submit()
  std::condition_variable room_;  // pending_ went below max_pending_
  std::size_t max_pending_;       // 0: submit() never waits
  std::deque<pool::ItemChunk> pending_;
  bool finished_ = false;

  std::deque<pool::ResultChunk> ready_;
  bool ended_ = false;
  std::atomic<bool> cancelled_{false};
};

}  // namespace iso::cluster
