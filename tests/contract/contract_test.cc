// The contract's freestanding rules on their own (src/contract/): fixed
// buffers, the frame header, module names and preload lists, the start-up
// variables and their order, FNV-1a. That the front and the core apply them
// alike is tested in tests/front/ and tests/serve/.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "contract/fd_passing.h"
#include "contract/invocation.h"
#include "contract/protocol.h"
#include "contract/socket_name.h"
#include "contract/text.h"
#include "contract/unix_socket.h"

namespace {

using namespace iso::contract;  // NOLINT(google-build-using-namespace): the module under test

TEST(Text, AppendsUntilFullThenMarksOverflow) {
  Text<8> text;
  text.add("abc").add('d').add_decimal(12);
  EXPECT_STREQ(text.c_str(), "abcd12");
  EXPECT_FALSE(text.overflow());
  text.add("xy");  // 8 bytes with the NUL: one too many
  EXPECT_TRUE(text.overflow());
  EXPECT_STREQ(text.c_str(), "abcd12");
  text.clear();
  EXPECT_FALSE(text.overflow());
  EXPECT_EQ(text.size(), 0u);
}

TEST(Text, NumbersInDecimalHexAndLittleEndian) {
  Text<64> text;
  text.add_decimal(0).add(' ').add_decimal(18446744073709551615ULL).add(' ').add_hex(0xbeef, 6);
  EXPECT_STREQ(text.c_str(), "0 18446744073709551615 00beef");
  Text<8> bytes;
  bytes.add_le(0x04030201, 4);
  EXPECT_EQ(std::string(bytes.c_str(), bytes.size()), std::string("\x01\x02\x03\x04", 4));
}

TEST(Header, RoundTripsAndChecksMagicVersionAndLength) {
  unsigned char raw[kHeaderSize];
  const Header sent{kRequestMagic, Type::call, kProtocolVersion, 1234};
  encode_header(sent, raw);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(raw), 4), "KISO");
  const Header got = decode_header(raw);
  EXPECT_EQ(got.magic, sent.magic);
  EXPECT_EQ(got.type, Type::call);
  EXPECT_EQ(got.version, kProtocolVersion);
  EXPECT_EQ(got.length, 1234u);
  EXPECT_TRUE(got.valid(kRequestMagic));
  EXPECT_FALSE(got.valid(kReplyMagic));
  EXPECT_FALSE(got.valid(kRequestMagic, 1000));
  Header other = got;
  other.version = kProtocolVersion + 1;
  EXPECT_FALSE(other.valid(kRequestMagic));
}

TEST(ModuleName, DottedIdentifiersOnly) {
  for (const std::string good : {"json", "a.b.c", "_x", "x1", "numpy.linalg", "A_b9"}) {
    EXPECT_TRUE(is_module_name(good.data(), good.size())) << good;
  }
  for (const std::string bad : {"", ".", "a.", ".a", "a..b", "1x", "a.1", "a-b", "a b", "é"}) {
    EXPECT_FALSE(is_module_name(bad.data(), bad.size())) << bad;
  }
}

std::vector<std::string> names(const PreloadList& list) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < list.list().count; ++i) out.emplace_back(list.list().items[i]);
  return out;
}

TEST(Preload, ItemsTrimmedEmptiesSkippedRepeatsDropped) {
  PreloadList list;
  const PreloadParse parsed = parse_preload(" json ,\tdecimal,,json, a.b ", list);
  EXPECT_EQ(parsed.status, PreloadParse::Status::ok);
  EXPECT_EQ(names(list), (std::vector<std::string>{"json", "decimal", "a.b"}));
  PreloadList empty;
  EXPECT_EQ(parse_preload("", empty).status, PreloadParse::Status::ok);
  EXPECT_EQ(parse_preload(" , ", empty).status, PreloadParse::Status::ok);
  EXPECT_TRUE(names(empty).empty());
}

TEST(Preload, ABadItemIsNamed) {
  PreloadList list;
  const PreloadParse parsed = parse_preload("json, not-a-module ,x", list);
  EXPECT_EQ(parsed.status, PreloadParse::Status::not_a_module);
  EXPECT_EQ(std::string(parsed.item, parsed.size), "not-a-module");
}

TEST(Preload, TheFrontsListIsBounded) {
  std::string many;
  // Appended piece by piece: g++ 12 at -O3 warns (-Wrestrict, a false
  // positive) on "literal" + std::string&&.
  for (int i = 0; i <= PreloadList::kMaxModules; ++i) {
    many += 'm';
    many += std::to_string(i);
    many += ',';
  }
  PreloadList list;
  EXPECT_EQ(parse_preload(many.c_str(), list).status, PreloadParse::Status::full);
}

TEST(StartupEnvironment, WhichVariablesCount) {
  for (const char* entry : {"PYTHONPATH=/x", "PYTHONHASHSEED=0", "PYTHON=", "LC_ALL=C", "LC_CTYPE=C.UTF-8",
                            "LANG=C", "TZ=UTC", "HOME=/root", "ISO_PYMALLOC=malloc"}) {
    EXPECT_TRUE(is_startup_variable(entry)) << entry;
  }
  for (const char* entry : {"PATH=/bin", "LANGUAGE=en", "HOMEDIR=/x", "TZDIR=/z", "ISO_PYMALLOCX=1",
                            "XLC_ALL=C", "ISO_PRELOAD=json", "python=3"}) {
    EXPECT_FALSE(is_startup_variable(entry)) << entry;
  }
}

// The hash of the start-up variables equals the hash of std::sort's order,
// each with its NUL, repeats kept: what the socket name has always hashed.
TEST(StartupEnvironment, HashedInStdSortOrderWithRepeats) {
  const std::vector<std::string> environment = {"PATH=/bin",    "TZ=UTC",       "LC_ALL=C", "HOME=/h",
                                                "PYTHONPATH=b", "PYTHONPATH=a", "TZ=UTC",   "LANG=\xc3\xa9",
                                                "LANG=z",       "PYTHONPATH=a", "USER=me",  "LC_ALL=C.UTF-8"};
  std::vector<const char*> envp;
  for (const std::string& entry : environment) envp.push_back(entry.c_str());
  envp.push_back(nullptr);
  Fnv1a streamed;
  hash_startup_environment(envp.data(), &streamed);

  std::vector<std::string> sorted;
  for (const std::string& entry : environment) {
    if (is_startup_variable(entry.c_str())) sorted.push_back(entry);
  }
  std::sort(sorted.begin(), sorted.end());
  Fnv1a expected;
  for (const std::string& entry : sorted) expected.add(entry.c_str(), entry.size() + 1);
  EXPECT_EQ(streamed.value(), expected.value());
  EXPECT_EQ(sorted.size(), 10u);
  Fnv1a selected;  // the order without storage, for an environment of very many
  hash_startup_environment_by_selection(envp.data(), &selected);
  EXPECT_EQ(selected.value(), expected.value());
}

// More start-up variables than the sorting array holds: the same hash.
TEST(StartupEnvironment, VeryManyVariablesHashTheSame) {
  std::vector<std::string> environment;
  for (int i = 0; i < 150; ++i) environment.push_back("LC_X" + std::to_string((i * 37) % 101) + "=v");
  std::vector<const char*> envp;
  for (const std::string& entry : environment) envp.push_back(entry.c_str());
  envp.push_back(nullptr);
  Fnv1a streamed;
  hash_startup_environment(envp.data(), &streamed);
  std::sort(environment.begin(), environment.end());
  Fnv1a expected;
  for (const std::string& entry : environment) expected.add(entry.c_str(), entry.size() + 1);
  EXPECT_EQ(streamed.value(), expected.value());
}

TEST(Fnv1a, KnownValues) {
  Fnv1a empty;
  EXPECT_EQ(empty.value(), 0xcbf29ce484222325ULL);
  Fnv1a a;
  a.add("a");
  EXPECT_EQ(a.value(), 0xaf63dc4c8601ec8cULL);
  Fnv1a split, whole;
  split.add("foo");
  split.add("bar");
  whole.add("foobar");
  EXPECT_EQ(split.value(), whole.value());
  EXPECT_EQ(whole.value(), 0x85944171f73967e8ULL);
}

TEST(Names, SocketDirectoryAndConfigPath) {
  const char* with_runtime[] = {"XDG_RUNTIME_DIR=/run/user/7", "HOME=/home/u", nullptr};
  Path directory;
  socket_directory(with_runtime, 7, &directory);
  EXPECT_STREQ(directory.c_str(), "/run/user/7/isolate");
  const char* relative_runtime[] = {"XDG_RUNTIME_DIR=run", nullptr};
  Path fallback;
  socket_directory(relative_runtime, 42, &fallback);
  EXPECT_STREQ(fallback.c_str(), "/tmp/isolate-42");

  Path config;
  EXPECT_TRUE(config_path(with_runtime, &config));
  EXPECT_STREQ(config.c_str(), "/home/u/.config/isolate/serve.json");
  const char* xdg[] = {"HOME=/home/u", "XDG_CONFIG_HOME=/etc/u", nullptr};
  Path from_xdg;
  EXPECT_TRUE(config_path(xdg, &from_xdg));
  EXPECT_STREQ(from_xdg.c_str(), "/etc/u/isolate/serve.json");
  const char* none[] = {"HOME=relative", nullptr};
  Path nowhere;
  EXPECT_FALSE(config_path(none, &nowhere));
}

TEST(Names, SocketNameHashesKeyPreloadAndStartupVariables) {
  Path key;
  key.add("isolate 0.1.0 protocol 1; python 3.x /p; binary 1:2 3 4.5");
  const char* preload_names[] = {"json", "decimal"};
  const char* envp[] = {"PATH=/bin", "TZ=UTC", "HOME=/h", nullptr};
  Path path;
  path.add("/d");
  add_socket_name(key, {preload_names, 2}, envp, &path);

  const std::string identity =
      std::string(key.c_str()) + "\njson,decimal,\n" + std::string("HOME=/h\0TZ=UTC\0", 15);
  Fnv1a expected;
  expected.add(identity.data(), identity.size());
  Text<32> hex;
  hex.add_hex(expected.value(), 16);
  EXPECT_EQ(std::string(path.c_str()), std::string("/d/serve-") + hex.c_str() + ".sock");
}

void interrupted(int /*signum*/) {}

// A payload far larger than the socket's buffer, whose send a signal cuts in
// two: the fds travel once, with the first bytes, and arrive with them.
TEST(FdPassing, ALargePayloadCarriesItsFdsOnce) {
  int pair[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  std::string payload(4 << 20, '\0');
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 7);
  struct sigaction action {};
  action.sa_handler = interrupted;  // no SA_RESTART: the blocked sendmsg returns what it sent
  struct sigaction old {};
  ASSERT_EQ(sigaction(SIGUSR1, &action, &old), 0);
  long sent = -1;
  std::thread sender([&] { sent = send_with_fds(pair[0], payload.data(), payload.size(), pipe_fds, 2); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the socket's buffer is full by then
  pthread_kill(sender.native_handle(), SIGUSR1);
  std::string got(payload.size(), 'x');
  std::vector<int> fds;
  const long received = receive_exact(
      pair[1], got.data(), got.size(), [&](int fd) { fds.push_back(fd); }, -1);
  sender.join();
  sigaction(SIGUSR1, &old, nullptr);
  EXPECT_EQ(sent, 0);
  EXPECT_EQ(received, static_cast<long>(payload.size()));
  EXPECT_TRUE(got == payload);
  ASSERT_EQ(fds.size(), 2u);
  // The received fds are the pipe's ends: a byte written to one arrives at the other.
  ASSERT_EQ(write(fds[1], "z", 1), 1);
  char byte = 0;
  ASSERT_EQ(read(pipe_fds[0], &byte, 1), 1);
  EXPECT_EQ(byte, 'z');
  for (const int fd : {pair[0], pair[1], pipe_fds[0], pipe_fds[1], fds[0], fds[1]}) close(fd);
}

TEST(FdPassing, EndOfStreamAndTimeoutAreTold) {
  int pair[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, pair), 0);
  char buffer[8];
  const auto ignore = [](int) {};
  EXPECT_EQ(receive_exact(pair[1], buffer, sizeof buffer, ignore, 50), -ETIMEDOUT);  // nothing came
  ASSERT_EQ(write(pair[0], "abc", 3), 3);
  close(pair[0]);
  EXPECT_EQ(receive_exact(pair[1], buffer, sizeof buffer, ignore, 50), 3);  // three bytes, then the end
  EXPECT_EQ(std::string(buffer, 3), "abc");
  EXPECT_EQ(send_with_fds(pair[1], "x", 1, nullptr, 0), -EPIPE);  // no SIGPIPE: an error
  int many[kMaxFdsPerMessage + 1] = {};
  EXPECT_EQ(send_with_fds(pair[1], "x", 1, many, kMaxFdsPerMessage + 1), -EINVAL);
  close(pair[1]);
}

CallOptions call_options(std::vector<std::string> args) {
  static std::vector<std::string> kept;
  kept = std::move(args);
  static std::vector<char*> argv;
  argv.clear();
  for (std::string& arg : kept) argv.push_back(arg.data());
  argv.push_back(nullptr);
  return parse_call_options(static_cast<int>(kept.size()), argv.data());
}

TEST(Invocation, CallOptionsStopAtPythonsCommandLine) {
  const CallOptions both =
      call_options({"isolate", "call", "--socket", "/s", "--no-spawn", "-c", "--socket"});
  EXPECT_STREQ(both.socket, "/s");
  EXPECT_TRUE(both.no_spawn);
  EXPECT_FALSE(both.socket_without_path);
  EXPECT_EQ(both.first_arg, 5);
  const CallOptions joined = call_options({"isolate", "call", "--socket=/t", "script.py", "--no-spawn"});
  EXPECT_STREQ(joined.socket, "/t");
  EXPECT_FALSE(joined.no_spawn);  // the script's argument, not ours
  EXPECT_EQ(joined.first_arg, 3);
  EXPECT_TRUE(call_options({"isolate", "call", "--socket"}).socket_without_path);
  const CallOptions none = call_options({"isolate", "call"});
  EXPECT_EQ(none.socket, nullptr);
  EXPECT_EQ(none.first_arg, 2);
  EXPECT_TRUE(is_call(
      3, std::vector<char*>{const_cast<char*>("isolate"), const_cast<char*>("call"), nullptr}.data()));
  EXPECT_FALSE(invoked_as_python("/usr/bin/isolate"));
  EXPECT_TRUE(invoked_as_python("/home/u/bin/python3.13"));
}

TEST(UnixSocket, ConnectsAndNamesThePeer) {
  char directory[] = "/tmp/iso-contract-XXXXXX";
  ASSERT_NE(mkdtemp(directory), nullptr);
  const std::string path = std::string(directory) + "/s.sock";
  const int listener = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(listen(listener, 4), 0);
  const long fd = connect_unix(path.c_str());
  ASSERT_GE(fd, 0);
  EXPECT_EQ(fcntl(static_cast<int>(fd), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  EXPECT_EQ(peer_uid(static_cast<int>(fd)), static_cast<long>(geteuid()));
  close(static_cast<int>(fd));
  close(listener);
  unlink(path.c_str());
  EXPECT_EQ(connect_unix(path.c_str()), -ENOENT);
  EXPECT_EQ(connect_unix((std::string(directory) + "/" + std::string(200, 'x')).c_str()), -ENAMETOOLONG);
  rmdir(directory);
  EXPECT_EQ(peer_uid(0 + 12345), -EBADF);
}

}  // namespace
