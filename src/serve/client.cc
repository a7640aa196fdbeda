// The core's side of `isolate call`, and `isolate serve --status` / `--stop`.
//
// The call itself is the front's (src/front/call.cc). The front execs the
// core with its command line when it cannot make the call alone: no server
// answers yet, the preload list is in serve.json, or a setting is wrong. The
// core then reads the settings, reports what is wrong or starts the server,
// and execs the front again with the server's socket.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "contract/invocation.h"
#include "identity.h"
#include "protocol.h"
#include "serve.h"
#include "spawn.h"

namespace iso::serve {

namespace {

// A server of another user could read what a call hands it.
void check_owner(int fd, const std::string& path) {
  if (const uid_t owner = peer_uid(fd); owner != geteuid()) {
    close(fd);
    throw ServeError("isolate: the server at " + path + " belongs to uid " +
                     std::to_string(static_cast<long>(owner)) + ", not to you");
  }
}

int connect_checked(const std::string& path, bool no_spawn, const std::vector<std::string>& preload) {
  const int fd = no_spawn ? connect_socket(path) : connect_or_spawn(path, preload, spawned_idle_timeout());
  if (fd < 0) {
    throw ServeError("isolate: no server is running at " + path + " (" + std::strerror(errno) +
                     "); start one with 'isolate serve'");
  }
  check_owner(fd, path);
  return fd;
}

// Gone, or a zombie its parent has yet to reap.
bool process_gone(pid_t pid) {
  if (kill(pid, 0) != 0) return errno == ESRCH;
  const std::string path = "/proc/" + std::to_string(pid) + "/stat";
  FILE* stat = std::fopen(path.c_str(), "r");
  if (stat == nullptr) return true;
  char state = '?';
  const int fields = std::fscanf(stat, "%*d (%*[^)]) %c", &state);
  std::fclose(stat);
  return fields == 1 && (state == 'Z' || state == 'X');
}

// --status and --stop: the server's answer, or nullopt when none runs at `path`.
std::optional<Frame> control_request(const std::string& path, Type type) {
  const int fd = connect_socket(path);
  if (fd < 0) {
    std::fprintf(stderr, "isolate: no server is running at %s\n", path.c_str());
    return std::nullopt;
  }
  check_owner(fd, path);
  Frame reply;
  const bool answered = send_header(fd, type, 0) && read_frame(fd, kReplyMagic, &reply);
  close(fd);
  if (!answered) throw ServeError("isolate: the server closed the connection without an answer");
  if (reply.type == Type::error) throw ServeError(reply.payload);
  return reply;
}

}  // namespace

int call_main(int argc, char** argv) {
  try {
    const contract::CallOptions options = contract::parse_call_options(argc, argv);
    if (options.socket_without_path) throw ServeError("isolate: call: --socket needs a path");
    const std::vector<std::string> preload =
        options.socket == nullptr ? configured_preload() : std::vector<std::string>{};
    const std::string path = options.socket == nullptr ? default_socket_path(preload) : options.socket;
    close(connect_checked(path, options.no_spawn, preload));
    if (const char* verbose = std::getenv("ISO_CALL_VERBOSE"); verbose != nullptr && *verbose == '1') {
      std::fprintf(stderr, "isolate: the core resolved the call: the server at %s\n", path.c_str());
    }
    // The front makes the call, to a server that now listens.
    const std::string& core = core_executable();
    const std::string front = core.substr(0, core.rfind('/') + 1) + ISO_FRONT_FROM_CORE;
    std::vector<char*> front_argv{const_cast<char*>("isolate"), const_cast<char*>("call"),
                                  const_cast<char*>("--socket"), const_cast<char*>(path.c_str()),
                                  const_cast<char*>("--no-spawn")};
    for (int i = options.first_arg; i < argc; ++i) front_argv.push_back(argv[i]);
    front_argv.push_back(nullptr);
    execv(front.c_str(), front_argv.data());
    throw ServeError("isolate: cannot run the isolate front " + front + ": " + std::strerror(errno));
  } catch (const ServeError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}

int print_status(const std::string& path, bool json) {
  try {
    const std::optional<Frame> reply = control_request(path, Type::status);
    if (!reply) return 3;
    if (json) {
      std::printf("%s\n", reply->payload.c_str());
      return 0;
    }
    const nlohmann::json status = nlohmann::json::parse(reply->payload);
    std::string preload;
    for (const auto& name : status["preload"])
      preload += (preload.empty() ? "" : ", ") + name.get<std::string>();
    std::printf("isolate serve: running (pid %d)\n", status["pid"].get<int>());
    std::printf("  socket        %s\n", status["socket"].get<std::string>().c_str());
    std::printf("  python        %s (%s)\n", status["python"].get<std::string>().c_str(),
                status["executable"].get<std::string>().c_str());
    std::printf("  preload       %s\n", preload.empty() ? "none" : preload.c_str());
    std::printf("  uptime        %.0f s\n", status["uptime_s"].get<double>());
    std::printf("  requests      %llu served, %llu running\n", status["requests"].get<unsigned long long>(),
                status["running"].get<unsigned long long>());
    const double idle = status["idle_timeout_s"].get<double>();
    if (idle > 0) {
      std::printf("  idle timeout  %.0f s\n", idle);
    } else {
      std::printf("  idle timeout  none\n");
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}

int stop_server(const std::string& path) {
  try {
    const std::optional<Frame> reply = control_request(path, Type::stop);
    if (!reply) return 0;
    std::uint32_t server_pid = 0;
    Reader(reply->payload).u32(server_pid);
    const auto pid = static_cast<pid_t>(server_pid);
    // The server exits once its running requests have finished.
    for (int waited_ms = 0; waited_ms < 10'000; waited_ms += 10) {
      if (process_gone(pid)) {
        std::fprintf(stderr, "isolate: stopped the server at %s (pid %d)\n", path.c_str(),
                     static_cast<int>(pid));
        return 0;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::fprintf(stderr,
                 "isolate: the server (pid %d) stopped listening and exits when its running requests end\n",
                 static_cast<int>(pid));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}

}  // namespace iso::serve
