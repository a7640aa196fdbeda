// `isolate map`: three stages that overlap. The dispatcher thread reads JSON
// Lines and hands chunks to the pool; the pool's workers call the function;
// the main thread collects answers and the ordered writer puts them out in
// input order. A semaphore of kMaxInFlight items (read but not yet written)
// bounds memory whatever the input size; a signal thread owns Ctrl-C.
// Under MPI, rank 0 runs all of this with the coordinator in the pool's
// place (src/cluster/), and every other rank serves chunks from its own pool.
#include "map_command.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <semaphore>
#include <thread>
#include <unordered_map>

#include "cluster/coordinator.h"
#include "cluster/engine.h"
#include "cluster/rank.h"
#include "cluster/transport.h"
#include "isolate/conc/sharded_lru.h"
#include "isolate/pool.h"
#include "map_io.h"

namespace iso::cli {

namespace {

// Items read and not yet written, per rank (one rank: the whole run).
constexpr std::ptrdiff_t kMaxInFlight = 16384;
constexpr std::ptrdiff_t kMaxRanks = 1 << 16;

using Clock = std::chrono::steady_clock;

struct UsageError {
  std::string message;
};

int open_or_fail(const std::string& path, int flags, const char* what) {
  const int fd = open(path.c_str(), flags | O_CLOEXEC, 0666);
  if (fd < 0) throw UsageError{"cannot open " + std::string(what) + " " + path + ": " + std::strerror(errno)};
  struct stat st {};
  if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
    throw UsageError{std::string(what) + " " + path + " is a directory"};
  return fd;
}

// Everything the stages share.
struct Run {
  Run(const MapOptions& o, cluster::Engine& e)
      : options(o),
        engine(&e),
        max_in_flight(kMaxInFlight * std::min<std::ptrdiff_t>(e.ranks(), kMaxRanks)),
        in_flight(max_in_flight) {}
  const MapOptions& options;
  cluster::Engine* engine;
  OrderedWriter* writer = nullptr;
  LineReader* reader = nullptr;
  const std::ptrdiff_t max_in_flight;
  std::counting_semaphore<kMaxInFlight * kMaxRanks> in_flight;
  std::unique_ptr<conc::ShardedLru<std::string, std::string>> memo;
  std::mutex memo_keys_lock;
  std::unordered_map<std::uint64_t, std::string> memo_keys;  // index -> argument line, while in flight
  std::atomic<std::uint64_t> items_read{0};
  std::atomic<std::uint64_t> memo_hits{0};
  std::atomic<bool> input_done{false};
  std::string input_error;
  std::size_t fixed_chunk = 0;    // 0: automatic
  std::uint64_t first_index = 0;  // --resume: the items before it were done by an earlier run
  std::uint64_t input_size = 0;   // a regular file's size, for the ETA
  Clock::time_point started = Clock::now();
};

std::size_t chunk_size(const Run& run) {
  return run.fixed_chunk != 0 ? run.fixed_chunk
                              : run.engine->chunk_size(static_cast<std::size_t>(run.max_in_flight));
}

void dispatch(Run& run) {
  pool::ItemChunk chunk;
  std::uint64_t index = run.first_index;
  const auto submit = [&] {
    if (!chunk.empty()) run.engine->submit(std::exchange(chunk, {}));
  };
  try {
    for (;;) {
      // Never sit on a partial chunk while the input is slow to come.
      if (!chunk.empty() && !run.reader->ready()) submit();
      std::optional<std::string> line = run.reader->next();
      if (!line) break;
      run.in_flight.acquire();
      run.items_read.store(index + 1, std::memory_order_relaxed);
      if (run.memo) {
        if (std::optional<std::string> hit = run.memo->get(*line)) {
          run.memo_hits.fetch_add(1, std::memory_order_relaxed);
          run.writer->add({index++, true, std::move(*hit)});
          run.in_flight.release();
          continue;
        }
        const std::lock_guard guard(run.memo_keys_lock);
        run.memo_keys.emplace(index, *line);
      }
      chunk.push_back({index++, std::move(*line)});
      if (chunk.size() >= chunk_size(run)) submit();
    }
  } catch (const std::exception& e) {
    run.input_error = e.what();
  }
  submit();
  run.input_done = true;
  run.engine->finish();
}

void remember(Run& run, const pool::Result& r) {
  std::string key;
  {
    const std::lock_guard guard(run.memo_keys_lock);
    auto it = run.memo_keys.find(r.index);
    if (it == run.memo_keys.end()) return;
    key = std::move(it->second);
    run.memo_keys.erase(it);
  }
  if (r.ok) run.memo->put(std::move(key), r.payload);
}

std::string summary(const Run& run, const char* how) {
  const double seconds = std::chrono::duration<double>(Clock::now() - run.started).count();
  const std::uint64_t done = run.writer->written() - run.first_index;
  std::string extra;
  if (run.first_index > 0) extra += " after " + std::to_string(run.first_index) + " resumed";
  if (run.memo) extra += ", " + std::to_string(run.memo_hits.load()) + " memo hits";
  char text[512];
  std::snprintf(text, sizeof text, "isolate map: %s%llu items%s, %llu failed, %.2f s, %.0f items/s, %s\n",
                how, static_cast<unsigned long long>(done), extra.c_str(),
                static_cast<unsigned long long>(run.writer->failed()), seconds,
                seconds > 0 ? static_cast<double>(done) / seconds : 0.0, run.engine->describe().c_str());
  return text;
}

// Ctrl-C (and SIGTERM, SIGHUP): write every result that is complete in
// order, say so, and leave at once; workers busy in user code are not waited for.
void handle_signals(Run& run, sigset_t set) {
  int sig = 0;
  while (sigwait(&set, &sig) != 0) {
  }
  try {
    run.writer->stop();
  } catch (const std::system_error&) {
    // the output is gone; nothing more to save
  }
  pool::MapPool::kill_worker_processes();
  if (!run.options.quiet) {
    const std::string line = "\n" + summary(run, "interrupted after ");
    (void)!write(STDERR_FILENO, line.data(), line.size());
  }
  pool::EmbeddedPython::quick_exit(128 + sig);
}

void show_progress(Run& run, const std::atomic<bool>& done) {
  while (!done.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    const double seconds = std::chrono::duration<double>(Clock::now() - run.started).count();
    const std::uint64_t written = run.writer->written() - run.first_index;
    const double rate = seconds > 0 ? static_cast<double>(written) / seconds : 0;
    std::string eta;
    if (run.input_size > 0 && run.reader->bytes_read() > 0 && rate > 0) {
      // Items in the whole input, from the bytes per line so far (resumed lines included).
      const double total = static_cast<double>(run.items_read.load()) * static_cast<double>(run.input_size) /
                           static_cast<double>(run.reader->bytes_read());
      const double left = total - static_cast<double>(run.writer->written());
      eta = ", ETA " + std::to_string(static_cast<long>(std::max(0.0, left / rate))) + " s";
    }
    std::fprintf(stderr, "\r\033[Kisolate map: %llu done, %.0f items/s%s",
                 static_cast<unsigned long long>(written), rate, eta.c_str());
  }
  std::fprintf(stderr, "\r\033[K");
}

// PoolError messages start with "isolate: "; map's own start "isolate: map: ".
std::string without_prefix(std::string_view message) {
  if (message.starts_with("isolate: ")) message.remove_prefix(std::strlen("isolate: "));
  return std::string(message);
}

// Every rank of an MPI job starts its own pool; only rank 0 speaks of it (`warn`).
std::unique_ptr<pool::MapPool> start_pool(const pool::Options& options, bool warn) {
  try {
    auto started = std::make_unique<pool::MapPool>(options);
    if (warn && !started->refused_module().empty()) {
      std::fprintf(
          stderr,
          "isolate: warning: module %s refuses to load in a sub-interpreter; using the process backend\n",
          started->refused_module().c_str());
    }
    return started;
  } catch (const pool::Error& e) {
    if (e.kind != pool::Error::Kind::refused) throw UsageError{without_prefix(e.what())};
    throw UsageError{"module " + e.refused_module +
                     " refuses to load in a sub-interpreter; use --backend process (" +
                     without_prefix(e.what()) + ")"};
  }
}

// What the options ask for, checked before anything starts.
struct Settings {
  pool::Options pool;
  std::size_t fixed_chunk = 0;  // 0: automatic
  OutputFormat format = OutputFormat::values;
};

Settings settings_of(const MapOptions& o) {
  Settings settings;
  settings.pool.target = o.target;
  settings.pool.star = o.star;
  try {
    settings.pool.workers = pool::resolve_workers(o.workers);
    const pool::BackendChoice backend = pool::choose_backend(o.backend, "--backend");
    settings.pool.backend = backend.backend;
    settings.pool.fall_back = backend.automatic;
  } catch (const pool::Error& e) {
    throw UsageError{without_prefix(e.what())};
  }
  if (o.chunk != "auto") {
    char* end = nullptr;
    const unsigned long n = std::strtoul(o.chunk.c_str(), &end, 10);
    if (end == o.chunk.c_str() || *end != '\0' || n == 0 || n > 1000000 || o.chunk[0] == '-') {
      throw UsageError{"--chunk " + o.chunk + ": expected auto or a number from 1 to 1000000"};
    }
    settings.fixed_chunk = n;
  }
  if (o.resume && o.output == "-") throw UsageError{"--resume needs --output FILE: it continues that file"};
  settings.format = o.format == "records" ? OutputFormat::records : OutputFormat::values;
  return settings;
}

// Signals go to one thread alone: block them before any other thread starts.
sigset_t block_stop_signals() {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  for (const int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&stop_signals, s);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return stop_signals;
}

// Every rank but 0 of an MPI job: its pool serves rank 0's chunks. Whatever
// stops its start is said to rank 0, which reports it and stops the job.
int rank_main(const MapOptions& o, cluster::Transport& transport) {
  dup2(STDERR_FILENO, STDOUT_FILENO);  // what the function prints; results go through rank 0
  cluster::end_on_stop_signals();
  std::string error;
  std::unique_ptr<pool::EmbeddedPython> interpreter;
  std::unique_ptr<pool::MapPool> pool;
  try {
    const Settings settings = settings_of(o);
    interpreter = std::make_unique<pool::EmbeddedPython>();
    pool = start_pool(settings.pool, false);
  } catch (const UsageError& e) {
    error = e.message;
  } catch (const pool::Error& e) {
    error = without_prefix(e.what());
  }
  const int status = cluster::serve_rank(transport, pool.get(), error);
  pool.reset();
  return status;
}

// One machine, or rank 0 of an MPI job (`transport` not null).
int coordinator_main(const MapOptions& o, cluster::Transport* transport, bool& coordinating) {
  const Settings settings = settings_of(o);
  const int in_fd = o.input == "-" ? STDIN_FILENO : open_or_fail(o.input, O_RDONLY, "input");
  const int out_flags = O_CREAT | (o.resume ? O_RDWR : O_WRONLY | O_TRUNC);
  const int out_fd = o.output == "-" ? dup(STDOUT_FILENO) : open_or_fail(o.output, out_flags, "output");
  const int errors_fd = o.errors.empty() ? -1 : open_or_fail(o.errors, out_flags, "errors file");
  LineReader reader(in_fd);
  Resumed resumed;
  if (o.resume) {
    try {
      resumed = resume_output(out_fd, settings.format, errors_fd);
      for (std::uint64_t i = 0; i < resumed.done; ++i) {
        if (!reader.next()) {
          throw UsageError{"--resume: " + o.output + " has " + std::to_string(resumed.done) +
                           " lines but the input only " + std::to_string(i) + ": not this input's output"};
        }
      }
    } catch (const std::runtime_error& e) {
      throw UsageError{e.what()};
    }
  }
  // Whatever the function prints (Python or C) goes to stderr: stdout
  // carries results only.
  dup2(STDERR_FILENO, STDOUT_FILENO);
  const sigset_t stop_signals = block_stop_signals();

  pool::EmbeddedPython interpreter;
  std::unique_ptr<pool::MapPool> pool = start_pool(settings.pool, true);
  std::unique_ptr<cluster::Engine> engine;
  if (transport != nullptr) {
    try {
      engine = std::make_unique<cluster::Coordinator>(*transport, *pool);
    } catch (const cluster::Error& e) {
      coordinating = true;  // the coordinator has told every rank to stop
      throw UsageError{e.what()};
    }
    coordinating = true;
  } else {
    engine = std::make_unique<cluster::LocalEngine>(*pool);
  }

  OrderedWriter writer(out_fd, settings.format, errors_fd);
  writer.start_at(resumed.done, resumed.failed);
  Run run(o, *engine);
  run.writer = &writer;
  run.reader = &reader;
  run.fixed_chunk = settings.fixed_chunk;
  run.first_index = resumed.done;
  run.items_read = resumed.done;
  if (o.memo > 0) run.memo = std::make_unique<conc::ShardedLru<std::string, std::string>>(o.memo);
  struct stat st {};
  if (fstat(in_fd, &st) == 0 && S_ISREG(st.st_mode)) run.input_size = static_cast<std::uint64_t>(st.st_size);

  std::thread(handle_signals, std::ref(run), stop_signals).detach();
  std::atomic<bool> done{false};
  std::thread progress;
  if (o.progress || (!o.quiet && isatty(STDERR_FILENO)))
    progress = std::thread(show_progress, std::ref(run), std::cref(done));
  std::thread dispatcher(dispatch, std::ref(run));

  try {
    while (std::optional<pool::ResultChunk> results = engine->next()) {
      for (pool::Result& r : *results) {
        if (run.memo) remember(run, r);
        writer.add(std::move(r));
      }
      run.in_flight.release(static_cast<std::ptrdiff_t>(results->size()));
      // Results leave as soon as they are in order: a chunk is ~5 ms of work,
      // so this is a few hundred writes a second at most.
      writer.flush();
    }
    writer.flush();
  } catch (const std::system_error& e) {
    pool::MapPool::kill_worker_processes();
    if (e.code().value() == EPIPE) {  // the reader went away: end as a pipeline stage does
      signal(SIGPIPE, SIG_DFL);
      raise(SIGPIPE);
    }
    std::fprintf(stderr, "isolate: map: cannot write the output: %s\n", std::strerror(e.code().value()));
    pool::EmbeddedPython::quick_exit(1);
  }
  dispatcher.join();
  done = true;
  if (progress.joinable()) progress.join();
  if (!run.input_error.empty()) {
    std::fprintf(stderr, "isolate: map: %s (after %llu items)\n", run.input_error.c_str(),
                 static_cast<unsigned long long>(writer.written()));
  }
  if (!o.quiet) std::fputs(summary(run, "").c_str(), stderr);
  const bool failed = writer.failed() > 0 || !run.input_error.empty();
  engine.reset();
  pool.reset();
  close(out_fd);
  if (errors_fd >= 0) close(errors_fd);
  return failed ? 1 : 0;
}

int map_main(const MapOptions& o) {
  std::unique_ptr<cluster::Transport> transport;
  if (o.mpi || cluster::launched_by_mpi()) {
    try {
      transport = std::make_unique<cluster::Transport>();
    } catch (const cluster::Error& e) {
      throw UsageError{e.what()};
    }
    if (transport->rank() != 0) return rank_main(o, *transport);
  }
  bool coordinating = false;
  try {
    return coordinator_main(o, transport.get(), coordinating);
  } catch (const UsageError&) {
    if (transport && !coordinating) cluster::Coordinator::stop_all(*transport);
    throw;
  } catch (const cluster::Error& e) {  // the job cannot go on: MPI ends every rank
    std::fprintf(stderr, "isolate: map: %s\n", e.what());
    pool::MapPool::kill_worker_processes();
    transport->abort(2);
  }
}

}  // namespace

CLI::App* add_map_command(CLI::App& app, MapOptions& o) {
  CLI::App* map = app.add_subcommand("map", "Run a Python function over JSON Lines on every core");
  map->add_option("target", o.target, "module:function or path/to/file.py:function")->required();
  map->add_option("--input,-i", o.input, "JSON Lines input, one argument per line ('-': stdin)");
  map->add_option("--output,-o", o.output, "JSON Lines output, one line per input, in order ('-': stdout)");
  map->add_option("--errors", o.errors, "also write every failure here, as {\"i\", \"error\"} records");
  map->add_option("-j,--jobs", o.workers, "workers (default: ISO_THREADS or the number of cores)")
      ->check(CLI::Range(1u, pool::kMaxWorkers));
  map->add_option("--backend", o.backend,
                  "auto (default: ISO_BACKEND, else the best), subinterp, threads or process");
  map->add_option("--chunk", o.chunk, "items per hand-over: a number, or auto (measured)");
  map->add_option("--memo", o.memo, "remember up to N results, keyed by the argument line");
  map->add_flag("--star", o.star, "spread each line's JSON array into positional arguments");
  map->add_option("--format", o.format, "values (default) or records")
      ->check(CLI::IsMember({"values", "records"}));
  map->add_flag("--progress", o.progress, "show items/s and ETA on stderr (default on a terminal)");
  map->add_flag("--quiet,-q", o.quiet, "no progress and no summary line");
  map->add_flag("--resume", o.resume,
                "keep the complete lines of an earlier run's --output and run only the items after them");
  map->add_flag("--mpi", o.mpi,
                "run as a rank of an MPI job (detected under mpirun and srun; ISO_MPI=0: never)");
  return map;
}

int run_map(const MapOptions& options) {
  try {
    return map_main(options);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "isolate: map: %s\n", e.message.c_str());
    return 2;
  } catch (const pool::Error& e) {
    std::fprintf(stderr, "isolate: map: %s\n", without_prefix(e.what()).c_str());
    return 2;
  }
}

}  // namespace iso::cli
