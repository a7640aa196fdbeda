#include "coordinator.h"

#include <algorithm>
#include <thread>

#include "messages.h"
#include "pacing.h"

namespace iso::cluster {

using std::chrono::microseconds;

Coordinator::Coordinator(Transport& transport, pool::MapPool& local, bool reader_thread)
    : transport_(transport),
      local_(local),
      ranks_(static_cast<std::size_t>(transport.size())),
      local_cap_(chunks_held(local.workers())),
      max_pending_(0) {
  ranks_[0].workers = local.workers();
  ranks_[0].backend = pool::backend_name(local.backend());
  std::string failures;
  for (std::size_t greeted = 1; greeted < ranks_.size();) {
    std::optional<Transport::Envelope> e = transport_.poll();
    if (!e) {
      std::this_thread::sleep_for(kFirstWait);
      continue;
    }
    const std::string bytes = transport_.receive(*e);
    if (e->tag != Tag::hello) throw Error("rank " + std::to_string(e->from) + " spoke before it said hello");
    const Hello hello = decode_hello(bytes);
    Rank& r = ranks_[static_cast<std::size_t>(e->from)];
    r.workers = hello.workers;
    r.credits = hello.credits;
    r.backend = hello.backend;
    if (!hello.ok)
      failures += (failures.empty() ? "rank " : "; rank ") + std::to_string(e->from) + ": " + hello.message;
    ++greeted;
  }
  if (!failures.empty()) {
    stop_all(transport_);
    throw Error(failures);
  }
  if (reader_thread) max_pending_ = chunks_held(workers());
}

Coordinator::~Coordinator() {
  try {
    for (int r = 1; r < transport_.size(); ++r) transport_.send(r, Tag::end, {});
  } catch (const Error&) {
    // a transport that failed: MPI ends the job without us
  }
}

void Coordinator::stop_all(Transport& transport) {
  for (int r = 1; r < transport.size(); ++r) transport.send(r, Tag::stop, {});
}

void Coordinator::submit(pool::ItemChunk chunk) {
  std::unique_lock guard(lock_);
  if (max_pending_ > 0) room_.wait(guard, [&] { return pending_.size() < max_pending_ || cancelled_; });
  pending_.push_back(std::move(chunk));
}

void Coordinator::finish() {
  const std::lock_guard guard(lock_);
  finished_ = true;
}

unsigned Coordinator::workers() const {
  unsigned total = 0;
  for (const Rank& r : ranks_) total += r.workers;
  return total;
}

void Coordinator::cancel() {
  cancelled_ = true;
  const std::lock_guard guard(lock_);
  room_.notify_all();
}

bool Coordinator::withdraw(std::uint64_t index) {
  const std::lock_guard guard(lock_);
  const auto it = std::find_if(pending_.begin(), pending_.end(), [&](const pool::ItemChunk& chunk) {
    return !chunk.empty() && chunk.front().index == index;
  });
  if (it == pending_.end()) return false;
  pending_.erase(it);
  return true;
}

void Coordinator::reset() {
  {
    const std::lock_guard guard(lock_);
    pending_.clear();
    finished_ = true;  // so that next() ends once every chunk out has come back
  }
  cancelled_ = false;
  while (next()) {
  }
  ready_.clear();
  const std::lock_guard guard(lock_);
  finished_ = false;
  ended_ = false;
}

std::size_t Coordinator::chunk_size(std::size_t max_in_flight) const {
  const unsigned total = workers();
  // The local pool measures the cost per item; its share of the items in flight is its share of the workers.
  return local_.chunk_size(max_in_flight * local_.workers() / std::max(1u, total));
}

std::string Coordinator::describe() const {
  const unsigned total = workers();
  bool same = true;
  for (const Rank& r : ranks_) same = same && r.backend == ranks_[0].backend;
  return (same ? ranks_[0].backend : std::string("mixed backends")) + ", " + std::to_string(ranks_.size()) +
         (ranks_.size() == 1 ? " rank, " : " ranks, ") + std::to_string(total) +
         (total == 1 ? " worker" : " workers");
}

std::optional<pool::ResultChunk> Coordinator::next() {
  return next_for(std::chrono::nanoseconds::max());
}

std::optional<pool::ResultChunk> Coordinator::next_for(std::chrono::nanoseconds limit) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point deadline =
      limit >= std::chrono::hours(24 * 365) ? Clock::time_point::max() : Clock::now() + limit;
  microseconds wait = kFirstWait;
  for (;;) {
    if (cancelled_) return std::nullopt;
    if (!ready_.empty()) {
      pool::ResultChunk chunk = std::move(ready_.front());
      ready_.pop_front();
      return chunk;
    }
    if (ended_) return std::nullopt;
    const bool answered = take_messages();  // all three run, every time round
    const bool handed = hand_out();
    const bool taken = take_local(std::chrono::nanoseconds(0));
    const bool moved = answered || handed || taken;
    if (!ready_.empty()) continue;
    if (everything_answered()) {
      ended_ = true;
      return std::nullopt;
    }
    if (moved) {
      wait = kFirstWait;
      continue;
    }
    const Clock::time_point now = Clock::now();
    if (now >= deadline) return std::nullopt;
    // Nothing moved: sleep where an answer of the local pool wakes us at once.
    const auto nap = std::min<std::chrono::nanoseconds>(wait, deadline - now);
    if (!take_local(nap)) wait = std::min(wait * 2, kLongestWait);
  }
}

bool Coordinator::take_messages() {
  bool moved = false;
  while (std::optional<Transport::Envelope> e = transport_.poll()) {
    moved = true;
    const std::string bytes = transport_.receive(*e);
    if (e->tag != Tag::results)
      throw Error("rank " + std::to_string(e->from) + " sent an unexpected message");
    Answers answers = decode_answers(bytes);
    Rank& r = ranks_[static_cast<std::size_t>(e->from)];
    r.credits += answers.credits;
    r.out -= std::min<std::uint64_t>(r.out, answers.chunks.size());
    for (pool::ResultChunk& chunk : answers.chunks) ready_.push_back(std::move(chunk));
  }
  return moved;
}

bool Coordinator::hand_out() {
  std::vector<std::pair<int, std::vector<pool::ItemChunk>>> sends;
  std::vector<pool::ItemChunk> local;
  {
    const std::lock_guard guard(lock_);
    if (pending_.empty()) return false;
    // Round the ranks one chunk at a time, so that a short input is spread
    // over every pool rather than filling the first one's credits.
    std::vector<std::vector<pool::ItemChunk>> batch(ranks_.size());
    for (bool any = true; any && !pending_.empty();) {
      any = false;
      for (std::size_t r = 0; r < ranks_.size() && !pending_.empty(); ++r) {
        const bool room =
            r == 0 ? local_cap_ > 0 && batch[0].size() + local_out_ < local_cap_ : ranks_[r].credits > 0;
        if (!room) continue;
        batch[r].push_back(std::move(pending_.front()));
        pending_.pop_front();
        if (r != 0) --ranks_[r].credits;
        any = true;
      }
    }
    local = std::move(batch[0]);
    for (std::size_t r = 1; r < ranks_.size(); ++r)
      if (!batch[r].empty()) sends.emplace_back(static_cast<int>(r), std::move(batch[r]));
  }
  room_.notify_one();
  for (auto& [r, chunks] : sends) {
    ranks_[static_cast<std::size_t>(r)].out += chunks.size();
    transport_.send(r, Tag::work, encode(chunks));
  }
  for (pool::ItemChunk& chunk : local) {
    ++local_out_;
    local_.submit(std::move(chunk));
  }
  return !sends.empty() || !local.empty();
}

bool Coordinator::take_local(std::chrono::nanoseconds wait) {
  if (local_out_ == 0) {
    if (wait.count() > 0) std::this_thread::sleep_for(wait);
    return false;
  }
  bool moved = false;
  while (std::optional<pool::ResultChunk> chunk = local_.next_for(wait)) {
    --local_out_;
    ready_.push_back(std::move(*chunk));
    moved = true;
    wait = std::chrono::nanoseconds(0);
    if (local_out_ == 0) break;
  }
  return moved;
}

bool Coordinator::everything_answered() {
  if (local_out_ != 0) return false;
  for (const Rank& r : ranks_)
    if (r.out != 0) return false;
  const std::lock_guard guard(lock_);
  return finished_ && pending_.empty();
}

}  // namespace iso::cluster
