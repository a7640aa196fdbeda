// What ranks say to each other, as bytes. Ranks of one job share a byte
// order and a build of isolate, so integers travel as they are in memory;
// every read is bounds-checked all the same (Error on a short message).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "isolate/pool.h"

namespace iso::cluster {

struct Hello {
  bool ok = false;
  std::uint32_t workers = 0;
  std::uint32_t credits = 0;  // chunks this rank can take at once
  std::string backend;
  std::string message;  // why its pool did not start, when !ok
};

struct Answers {
  std::uint32_t credits = 0;  // chunks more this rank can take
  std::vector<pool::ResultChunk> chunks;
};

std::string encode(const Hello& hello);
std::string encode(const std::vector<pool::ItemChunk>& work);
std::string encode(const Answers& answers);

Hello decode_hello(const std::string& bytes);
std::vector<pool::ItemChunk> decode_work(const std::string& bytes);
Answers decode_answers(const std::string& bytes);

}  // namespace iso::cluster
