#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>

#include "cluster/messages.h"
#include "cluster/transport.h"

namespace iso::cluster {
namespace {

TEST(ClusterMessages, WorkAndAnswersRoundTripWithEveryByte) {
  std::string binary;
  for (int c = 0; c < 256; ++c) binary += static_cast<char>(c);
  const std::vector<pool::ItemChunk> work = {{{0, "1"}, {1, binary}}, {}, {{1ULL << 40, ""}}};
  EXPECT_EQ(decode_work(encode(work)).size(), 3u);
  const auto back = decode_work(encode(work));
  ASSERT_EQ(back[0].size(), 2u);
  EXPECT_EQ(back[0][1].payload, binary);
  EXPECT_EQ(back[2][0].index, 1ULL << 40);
  EXPECT_TRUE(back[1].empty());

  Answers answers;
  answers.credits = 7;
  answers.chunks = {{{3, true, "9"}, {4, false, R"({"type": "ValueError"})"}}};
  const Answers got = decode_answers(encode(answers));
  EXPECT_EQ(got.credits, 7u);
  ASSERT_EQ(got.chunks.size(), 1u);
  EXPECT_EQ(got.chunks[0][1].index, 4u);
  EXPECT_FALSE(got.chunks[0][1].ok);
  EXPECT_EQ(got.chunks[0][1].payload, R"({"type": "ValueError"})");
}

TEST(ClusterMessages, HelloCarriesWhyAStartFailed) {
  const Hello hello = decode_hello(encode(Hello{false, 0, 0, "", "cannot load f.py:g"}));
  EXPECT_FALSE(hello.ok);
  EXPECT_EQ(hello.message, "cannot load f.py:g");
  const Hello ok = decode_hello(encode(Hello{true, 64, 128, "subinterp", ""}));
  EXPECT_EQ(ok.workers, 64u);
  EXPECT_EQ(ok.credits, 128u);
  EXPECT_EQ(ok.backend, "subinterp");
}

TEST(ClusterMessages, ShortLongOrLyingMessagesAreErrorsNotCrashes) {
  const std::string good = encode(std::vector<pool::ItemChunk>{{{0, "12345"}}});
  for (std::size_t cut = 0; cut < good.size(); ++cut)
    EXPECT_THROW(decode_work(good.substr(0, cut)), Error) << cut;
  EXPECT_THROW(decode_work(good + "x"), Error);
  std::string lying = good;
  lying[0] = '\xff';  // a chunk count far past what the bytes can hold
  EXPECT_THROW(decode_work(lying), Error);
  EXPECT_THROW(decode_answers("\x01"), Error);
  EXPECT_THROW(decode_hello(""), Error);
}

TEST(ClusterDetection, LaunchersAreSeenAndIsoMpiZeroTurnsThemOff) {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "ISO_MPI"}) unsetenv(name);
  EXPECT_FALSE(launched_by_mpi());
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"}) {
    setenv(name, "2", 1);
    EXPECT_TRUE(launched_by_mpi()) << name;
    setenv("ISO_MPI", "0", 1);
    EXPECT_FALSE(launched_by_mpi()) << name;
    unsetenv("ISO_MPI");
    unsetenv(name);
  }
}

}  // namespace
}  // namespace iso::cluster
