// The call request across the contract: what the front encodes
// (contract::encode_call) the core decodes (serve::decode_call) field for
// field, and a payload that is short, long or lying about a count is refused.
#include "serve/protocol.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "contract/call_request.h"
#include "contract/text.h"

namespace {

using iso::contract::CallDescription;
using iso::contract::Limit;
using iso::serve::CallRequest;
using iso::serve::decode_call;
using iso::serve::ServeError;

using Payload = iso::contract::Text<1 << 16>;

struct Strings {
  std::vector<std::string> owned;
  std::vector<const char*> pointers;
  explicit Strings(std::vector<std::string> values) : owned(std::move(values)) {
    for (const std::string& value : owned) pointers.push_back(value.c_str());
  }
  iso::contract::StringList list() const { return {pointers.data(), pointers.size()}; }
};

std::string encode(const CallDescription& request) {
  Payload payload;
  EXPECT_TRUE(iso::contract::encode_call(request, &payload));
  return std::string(payload.c_str(), payload.size());
}

TEST(CallRequest, EncodeThenDecodeGivesEveryFieldBack) {
  const std::string key = "isolate 0.1.0 protocol 1; python 3.13.0 /p/python3.13; binary 1:2 3 4.5";
  const Strings preload({"json", "decimal"});
  const Strings args({"-c", "print('ü')", "", "--flag=1"});
  const Strings environment(
      {"PATH=/bin", "EMPTY=", "REPEATED=1", "REPEATED=2", std::string(5000, 'x') + "=big"});
  const Limit limits[] = {{7, 1024, 4096}, {4, 0, ~0ULL}};
  CallDescription sent;
  sent.build_key = {key.data(), key.size()};
  sent.check_preload = true;
  sent.preload = preload.list();
  sent.args = args.list();
  sent.environment = environment.list();
  sent.umask = 027;
  sent.blocked_signals = 0x8000000000000001ULL;
  sent.ignored_signals = 1ULL << 12;
  sent.limits = {limits, 2};
  sent.stdio_mask = 5;

  const CallRequest got = decode_call(encode(sent));
  EXPECT_EQ(got.build_key, key);
  EXPECT_TRUE(got.check_preload);
  EXPECT_EQ(got.preload, preload.owned);
  EXPECT_EQ(got.args, args.owned);
  EXPECT_EQ(got.environment, environment.owned);
  EXPECT_EQ(got.umask, 027u);
  EXPECT_EQ(got.blocked_signals, 0x8000000000000001ULL);
  EXPECT_EQ(got.ignored_signals, 1ULL << 12);
  ASSERT_EQ(got.limits.size(), 2u);
  EXPECT_EQ(got.limits[0].resource, 7u);
  EXPECT_EQ(got.limits[0].soft, 1024u);
  EXPECT_EQ(got.limits[0].hard, 4096u);
  EXPECT_EQ(got.limits[1].resource, 4u);
  EXPECT_EQ(got.limits[1].hard, ~0ULL);
  EXPECT_EQ(got.stdio_mask, 5u);
}

TEST(CallRequest, EmptyListsRoundTrip) {
  CallDescription sent;
  const CallRequest got = decode_call(encode(sent));
  EXPECT_EQ(got.build_key, "");
  EXPECT_FALSE(got.check_preload);
  EXPECT_TRUE(got.preload.empty() && got.args.empty() && got.environment.empty() && got.limits.empty());
  EXPECT_EQ(got.umask, 0u);
}

TEST(CallRequest, AnOverflowingPayloadIsReported) {
  const std::string big(100, 'x');
  CallDescription sent;
  sent.build_key = {big.data(), big.size()};
  iso::contract::Text<64> small;
  EXPECT_FALSE(iso::contract::encode_call(sent, &small));
  EXPECT_TRUE(small.overflow());
}

std::string message_of(const std::string& payload) {
  try {
    decode_call(payload);
  } catch (const ServeError& e) {
    return e.what();
  }
  return "accepted";
}

TEST(CallRequest, MalformedPayloadsAreRefused) {
  const Strings args({"-c", "pass"});
  CallDescription sent;
  sent.args = args.list();
  const std::string good = encode(sent);
  ASSERT_EQ(message_of(good), "accepted");
  EXPECT_EQ(message_of(good.substr(0, good.size() - 1)), "isolate: a malformed message (truncated)");
  EXPECT_EQ(message_of(good + "x"), "isolate: a malformed message (trailing bytes)");
  EXPECT_EQ(message_of(""), "isolate: a malformed message (truncated)");
  // build_key "", check_preload 0, then a preload count far past the bytes left.
  const std::string lying = std::string(4, '\0') + '\0' + std::string("\xff\xff\xff\x0f", 4) + good.substr(9);
  EXPECT_EQ(message_of(lying), "isolate: a malformed message (bad list length)");
}

TEST(Replies, U32PayloadIsLittleEndian) {
  EXPECT_EQ(iso::serve::u32_payload(0x01020304), std::string("\x04\x03\x02\x01", 4));
  std::uint32_t value = 0;
  iso::serve::Reader(iso::serve::u32_payload(4242)).u32(value);
  EXPECT_EQ(value, 4242u);
}

}  // namespace
