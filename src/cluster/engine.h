// What `isolate map` feeds chunks of items to and takes answered chunks
// from: this process's pool, or on rank 0 of an MPI job the coordinator,
// which spreads them over every rank's pool (its own included).
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "isolate/pool.h"

namespace iso::cluster {

class Engine {
 public:
  virtual ~Engine() = default;
  virtual void submit(pool::ItemChunk chunk) = 0;  // one thread: the reader of the input
  virtual void finish() = 0;                       // the same thread: no more chunks
  // The next answered chunk, in any order; nullopt once every chunk is answered.
  virtual std::optional<pool::ResultChunk> next() = 0;
  // Items per chunk, with `max_in_flight` items read and not yet answered allowed.
  virtual std::size_t chunk_size(std::size_t max_in_flight) const = 0;
  virtual unsigned ranks() const { return 1; }
  virtual std::string describe() const = 0;  // for the summary line: "subinterp x 2"
};

class LocalEngine final : public Engine {
 public:
  explicit LocalEngine(pool::MapPool& pool) : pool_(pool) {}
  void submit(pool::ItemChunk chunk) override { pool_.submit(std::move(chunk)); }
  void finish() override { pool_.finish(); }
  std::optional<pool::ResultChunk> next() override { return pool_.next(); }
  std::size_t chunk_size(std::size_t max_in_flight) const override { return pool_.chunk_size(max_in_flight); }
  std::string describe() const override {
    return std::string(pool::backend_name(pool_.backend())) + " x " + std::to_string(pool_.workers());
  }

 private:
  pool::MapPool& pool_;
};

}  // namespace iso::cluster
