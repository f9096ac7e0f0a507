// SPDX-License-Identifier: MIT
// Logging on spdlog: a synchronous stderr fallback, and after init one async writer thread.
#include "observe/log.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spdlog/async_logger.h>
#include <spdlog/details/thread_pool.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/sink.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <shared_mutex>
#include <system_error>
#include <utility>
#include <vector>

#include "net/unique_fd.hpp"
#include "observe/log_format.hpp"

namespace ringtunnel::observe {
namespace {

constexpr std::size_t kQueueEntries = 8192;

// Writes each line with one write(2): no stdio buffer to lose in a crash or to hide lines from
// `tail -f`, and with O_APPEND whole lines even when several processes share the file.
class FdSink final : public spdlog::sinks::sink {
 public:
  FdSink(int fd, net::UniqueFd owned, std::unique_ptr<spdlog::formatter> formatter)
      : fd_(fd), owned_(std::move(owned)), formatter_(std::move(formatter)) {}

  void log(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t line;
    std::lock_guard lock(mutex_);  // the fallback sink is shared by every thread
    formatter_->format(msg, line);
    const char* data = line.data();
    std::size_t size = line.size();
    while (size > 0) {
      const ssize_t written = ::write(fd_, data, size);
      if (written < 0 && errno == EINTR) continue;
      if (written <= 0) return;  // a full disk or a closed stderr loses the line; no one to tell
      data += written;
      size -= static_cast<std::size_t>(written);
    }
  }
  void flush() override {}
  /// Later lines go to `fd` (the log file opened again); the old one is closed.
  void replace(net::UniqueFd fd) {
    std::lock_guard lock(mutex_);
    fd_ = fd.get();
    owned_ = std::move(fd);
  }
  void set_pattern(const std::string& pattern) override {
    set_formatter(std::make_unique<spdlog::pattern_formatter>(pattern));
  }
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override {
    std::lock_guard lock(mutex_);
    formatter_ = std::move(formatter);
  }

 private:
  int fd_;
  net::UniqueFd owned_;  // empty for stderr, which is not ours to close
  std::mutex mutex_;
  std::unique_ptr<spdlog::formatter> formatter_;
};

// Writer-preferring: with glibc's default (reader-preferring) rwlock, threads that log without
// pause could keep init/shutdown waiting indefinitely. Log calls never nest, so no recursion.
class RwLock {
 public:
  void lock() { pthread_rwlock_wrlock(&lock_); }
  void unlock() { pthread_rwlock_unlock(&lock_); }
  void lock_shared() { pthread_rwlock_rdlock(&lock_); }
  void unlock_shared() { pthread_rwlock_unlock(&lock_); }

 private:
  pthread_rwlock_t lock_ = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;
};

// shared_ptr because spdlog's API requires it: the logger holds its pool as a weak_ptr and every
// queued line holds the logger.
struct Active {
  std::string file;  // the log file's name, for reopen_log_file; empty for stderr
  std::shared_ptr<FdSink> sink;  // kept so the drop report can be written after the pool stops
  std::shared_ptr<spdlog::details::thread_pool> pool;  // the only strong reference
  std::shared_ptr<spdlog::async_logger> logger;
};

struct State {
  std::mutex lifecycle;  // serialises init and shutdown
  RwLock active_lock;    // log calls share it; swapping `active` takes it alone
  Active active;
  FdSink fallback{STDERR_FILENO, net::UniqueFd(), detail::text_formatter("", false)};
};

// Never destroyed: a static destructor elsewhere may still log, and the atexit hook runs late.
State& state() {
  static State* const instance = new State;
  return *instance;
}

std::atomic<int> g_level{static_cast<int>(LogLevel::info)};
std::atomic<unsigned long long> g_dropped_at_stop{0};

// Only a file we create is forced to 0600 (umask may have narrowed it); an existing file keeps
// the mode its owner chose. O_NONBLOCK makes a FIFO without a reader fail instead of hanging.
net::UniqueFd open_log_file(const std::string& path) {
  constexpr int kFlags = O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  net::UniqueFd fd(::open(path.c_str(), kFlags | O_CREAT | O_EXCL, 0600));
  if (fd.get() >= 0) {
    static_cast<void>(::fchmod(fd.get(), 0600));
  } else if (errno == EEXIST) {
    fd.reset(::open(path.c_str(), kFlags));  // a directory fails here with EISDIR
  }
  if (fd.get() < 0) return fd;
  const int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags >= 0) static_cast<void>(::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK));
  return fd;
}

std::shared_ptr<FdSink> open_sink(const LogOptions& options, std::string* error) {
  std::unique_ptr<spdlog::formatter> formatter =
      options.json ? detail::json_formatter(options.component)
                   : detail::text_formatter(options.component, options.color && options.file.empty());
  if (options.file.empty()) {
    return std::make_shared<FdSink>(STDERR_FILENO, net::UniqueFd(), std::move(formatter));
  }
  net::UniqueFd fd = open_log_file(options.file);
  if (fd.get() < 0) {
    if (error) {
      *error = "Cannot open the log file " + options.file +
               " for appending: " + std::error_code(errno, std::system_category()).message() +
               " (check that its directory exists and is writable, and that it is a file).";
    }
    return nullptr;
  }
  const int raw = fd.get();
  return std::make_shared<FdSink>(raw, std::move(fd), std::move(formatter));
}

// Blocks every signal in the writer thread from its first instruction: signals belong to the
// main thread's handlers or signalfd, and a thread created before main blocks them would
// otherwise inherit an open mask and take SIGTERM itself.
std::shared_ptr<spdlog::details::thread_pool> start_pool() {
  struct MaskGuard {
    sigset_t previous;
    MaskGuard() {
      sigset_t all;
      sigfillset(&all);
      pthread_sigmask(SIG_SETMASK, &all, &previous);
    }
    ~MaskGuard() { pthread_sigmask(SIG_SETMASK, &previous, nullptr); }
  } guard;
  return std::make_shared<spdlog::details::thread_pool>(
      kQueueEntries, 1, [] { pthread_setname_np(pthread_self(), "rt-log"); });
}

// Drains the queue, joins the writer, then reports drops through the same sink, synchronously.
void stop(Active& active) {
  if (!active.pool) return;
  const unsigned long long dropped = active.pool->overrun_counter();
  // Pool first: it posts "terminate" behind the queued lines and joins, so the logger and its
  // sink are then destroyed here, after the join, not on the writer thread.
  active.pool.reset();
  active.logger.reset();
  if (dropped > 0) {
    const std::string text =
        fmt::format("logging: {} lines were dropped because the log queue was full", dropped);
    active.sink->log(spdlog::details::log_msg(spdlog::string_view_t(), spdlog::level::warn,
                                              spdlog::string_view_t(text.data(), text.size())));
  }
  active.sink.reset();
}

}  // namespace

bool init_logging(const LogOptions& options, std::string* error) {
  try {
    State& s = state();
    std::lock_guard life(s.lifecycle);
    Active next;
    next.sink = open_sink(options, error);
    if (!next.sink) return false;
    next.file = options.file;
    next.pool = start_pool();
    next.logger = std::make_shared<spdlog::async_logger>(
        "ringtunnel", next.sink, next.pool, spdlog::async_overflow_policy::overrun_oldest);
    next.logger->set_level(spdlog::level::trace);  // g_level filters; spdlog's default is info
    {
      std::unique_lock lock(s.active_lock);
      std::swap(s.active, next);
      g_level.store(static_cast<int>(options.level), std::memory_order_relaxed);
      g_dropped_at_stop.store(0, std::memory_order_relaxed);
    }
    stop(next);  // a second init replaces the first writer: drain it
    // A program that returns from main without shutdown_logging still gets its last lines.
    [[maybe_unused]] static const int at_exit = std::atexit(&shutdown_logging);
    return true;
  } catch (const std::exception& e) {
    if (error) *error = std::string("Logging could not start: ") + e.what() + ".";
  } catch (...) {
    if (error) *error = "Logging could not start.";
  }
  return false;
}

void shutdown_logging() noexcept {
  try {
    State& s = state();
    std::lock_guard life(s.lifecycle);
    Active old;
    {
      std::unique_lock lock(s.active_lock);
      std::swap(s.active, old);
      // No producer can reach the old pool any more, so this count is final.
      if (old.pool) g_dropped_at_stop.store(old.pool->overrun_counter(), std::memory_order_relaxed);
    }
    stop(old);
  } catch (...) {
    // Called on the way out: nothing useful to do with a failure here.
  }
}

bool log_enabled(LogLevel level) noexcept {
  const int value = static_cast<int>(level);
  return value >= 0 && value < static_cast<int>(LogLevel::off) &&
         value >= g_level.load(std::memory_order_relaxed);
}

namespace {

std::atomic<bool> g_stderr_fallback{true};

// Embedders' sinks: rare, so a plain mutex; the count keeps the lock off every other line.
struct Sinks {
  std::mutex mutex;
  std::vector<std::pair<std::uint64_t, std::shared_ptr<LineSink>>> sinks;
  std::uint64_t next_id = 1;
};
Sinks& sinks() {
  static Sinks* const instance = new Sinks;  // never destroyed, like state()
  return *instance;
}
std::atomic<int> g_sink_count{0};

void call_sinks(LogLevel level, std::string_view payload) {
  if (g_sink_count.load(std::memory_order_acquire) == 0) return;
  const std::string_view message = detail::split_payload(payload).message;
  std::vector<std::shared_ptr<LineSink>> current;
  {
    std::lock_guard lock(sinks().mutex);
    for (const auto& entry : sinks().sinks) current.push_back(entry.second);
  }
  for (const auto& sink : current) (*sink)(level, message);  // outside the lock: may log
}

void write_payload(LogLevel level, std::string_view payload) noexcept {
  const spdlog::string_view_t text(payload.data(), payload.size());
  try {
    call_sinks(level, payload);
    State& s = state();
    std::shared_lock lock(s.active_lock);
    if (s.active.logger) {
      s.active.logger->log(detail::to_spdlog(level), text);
    } else if (g_stderr_fallback.load(std::memory_order_relaxed)) {
      s.fallback.log(spdlog::details::log_msg(spdlog::string_view_t(), detail::to_spdlog(level), text));
    }
  } catch (...) {
    // Logging must never take its caller down; the line is lost.
  }
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
  if (value.empty()) return;
  if (!out.empty()) out += ',';
  out += '"';
  out += name;
  out += "\":";
  out += detail::json_string(value);
}

}  // namespace

void log_message(LogLevel level, std::string_view message) noexcept {
  if (!log_enabled(level)) return;
  if (!message.empty() && message.front() == detail::kFieldsMark) {
    // Text that starts like a fields payload (a peer's name at the start of a message) must
    // not be read as fields.
    try {
      std::string safe(message);
      safe.front() = '?';
      write_payload(level, safe);
    } catch (...) {
    }
    return;
  }
  write_payload(level, message);
}

void log_message(LogLevel level, const LogFields& fields, std::string_view message) noexcept {
  if (!log_enabled(level)) return;
  try {
    std::string members;
    append_field(members, "session", fields.session);
    append_field(members, "client", fields.client);
    append_field(members, "tunnel", fields.tunnel);
    if (fields.stream != 0) {
      if (!members.empty()) members += ',';
      members += "\"stream\":" + std::to_string(fields.stream);
    }
    if (members.empty()) return log_message(level, message);
    std::string payload;
    payload.reserve(members.size() + message.size() + 2);
    payload += detail::kFieldsMark;
    payload += members;
    payload += detail::kFieldsMark;
    payload += message;
    write_payload(level, payload);
  } catch (...) {
    log_message(level, message);
  }
}

std::uint64_t add_line_sink(LineSink sink) {
  std::lock_guard lock(sinks().mutex);
  const std::uint64_t id = sinks().next_id++;
  sinks().sinks.emplace_back(id, std::make_shared<LineSink>(std::move(sink)));
  g_sink_count.fetch_add(1, std::memory_order_release);
  return id;
}

void remove_line_sink(std::uint64_t id) noexcept {
  std::lock_guard lock(sinks().mutex);
  auto& list = sinks().sinks;
  for (auto it = list.begin(); it != list.end(); ++it) {
    if (it->first == id) {
      list.erase(it);
      g_sink_count.fetch_sub(1, std::memory_order_release);
      return;
    }
  }
}

void set_stderr_fallback(bool on) noexcept { g_stderr_fallback.store(on, std::memory_order_relaxed); }

void set_log_level(LogLevel level) noexcept {
  g_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

bool reopen_log_file(std::string* error) {
  try {
    State& s = state();
    std::lock_guard life(s.lifecycle);
    if (!s.active.sink || s.active.file.empty()) return true;
    net::UniqueFd fd = open_log_file(s.active.file);
    if (fd.get() < 0) {
      if (error) {
        *error = "Cannot open the log file " + s.active.file + " again: " +
                 std::error_code(errno, std::system_category()).message() +
                 "; still writing to the old one.";
      }
      return false;
    }
    s.active.sink->replace(std::move(fd));
    return true;
  } catch (const std::exception& e) {
    if (error) *error = std::string("Cannot reopen the log file: ") + e.what();
  }
  return false;
}

unsigned long long log_dropped() noexcept {
  try {
    State& s = state();
    std::shared_lock lock(s.active_lock);
    if (s.active.pool) return s.active.pool->overrun_counter();
  } catch (...) {  // fall through to the last known count
  }
  return g_dropped_at_stop.load(std::memory_order_relaxed);
}

bool parse_log_level(std::string_view name, LogLevel* out) noexcept {
  for (int i = 0; i < 6; ++i) {
    if (name == detail::kLevelNames[i]) {
      *out = static_cast<LogLevel>(i);
      return true;
    }
  }
  return false;
}

}  // namespace ringtunnel::observe
