// The environment switches. These tests read what ctest put in the
// environment (tests/exec/CMakeLists.txt runs them once per setting, each in
// its own process, since the switches are read once); run alone they check
// the defaults.
#include <gtest/gtest.h>
#include <sched.h>

#include <cstddef>
#include <cstdlib>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "isolate/exec.h"

namespace {

std::size_t env_or(const char* name, std::size_t fallback) {
  const char* v = std::getenv(name);
  return v == nullptr ? fallback : static_cast<std::size_t>(std::stoul(v));
}

std::size_t affinity_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  EXPECT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
  return static_cast<std::size_t>(CPU_COUNT(&set));
}

// EXPECT_THREADS: the default pool's size; EXPECT_WARNING: a word stderr must
// hold after the switches were read.
TEST(Env, DefaultPoolSize) {
  testing::internal::CaptureStderr();
  const std::size_t size = iso::default_pool().size();
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(size, env_or("EXPECT_THREADS", affinity_cpus()));
  EXPECT_EQ(iso::default_concurrency(), size);
  const char* warning = std::getenv("EXPECT_WARNING");
  if (warning != nullptr) {
    EXPECT_NE(err.find(warning), std::string::npos) << "stderr: " << err;
    EXPECT_EQ(err.find('\n'), err.size() - 1) << "one line: " << err;
  } else {
    EXPECT_EQ(err, "");
  }
}

// EXPECT_CHUNK: the chunk automatic chunking must use (ISO_CHUNK_SIZE); an
// explicit fixed(n) is kept whatever the environment says.
TEST(Env, ChunkSize) {
  iso::ThreadPool pool(2);
  std::mutex mu;
  std::vector<std::pair<std::size_t, std::size_t>> chunks;
  const auto record = [&](std::size_t first, std::size_t last) {
    const std::lock_guard lock(mu);
    chunks.emplace_back(first, last);
  };
  if (const std::size_t forced = env_or("EXPECT_CHUNK", 0); forced != 0) {
    pool.parallel_for_chunks(0, 1000, record);
    ASSERT_EQ(chunks.size(), (1000 + forced - 1) / forced);
    for (const auto& [first, last] : chunks) {
      EXPECT_EQ(first % forced, 0u);
      EXPECT_EQ(last - first, std::min(forced, 1000 - first));
    }
    chunks.clear();
  }
  pool.parallel_for_chunks(0, 1000, record, iso::Chunking::fixed(100));
  ASSERT_EQ(chunks.size(), 10u);
  for (const auto& [first, last] : chunks) EXPECT_EQ(last - first, 100u);
}

}  // namespace
