// SPDX-License-Identifier: MIT
// Logging: level filtering, text and JSON lines, file creation, failures, overrun, shutdown.
#include "observe/log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace ringtunnel::observe;

namespace {
struct TempDir {
  std::string path;
  TempDir() {
    char pattern[] = "/tmp/rt-log-XXXXXX";
    REQUIRE(mkdtemp(pattern) != nullptr);
    path = pattern;
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
};

// Every test starts its own logger and leaves the process with none running.
struct Session {
  explicit Session(const LogOptions& options) {
    std::string error;
    REQUIRE(init_logging(options, &error));
    CHECK(error.empty());
  }
  ~Session() { shutdown_logging(); }
};

LogOptions file_options(const std::string& file, LogLevel level, std::string component = "") {
  LogOptions options;
  options.level = level;
  options.file = file;
  options.component = std::move(component);
  return options;
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Points fd 2 at a file for the lifetime of the object, so the fallback path can be read back.
struct StderrCapture {
  std::string path;
  int saved = -1;
  explicit StderrCapture(std::string file) : path(std::move(file)) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    REQUIRE(fd >= 0);
    saved = ::dup(STDERR_FILENO);
    REQUIRE(::dup2(fd, STDERR_FILENO) == STDERR_FILENO);
    ::close(fd);
  }
  ~StderrCapture() {
    ::dup2(saved, STDERR_FILENO);
    ::close(saved);
  }
};

const std::regex kTextLine(
    R"(^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} (trace|debug|info |warn |error) (.*)$)");
const std::regex kIsoUtc(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$)");

// The seconds since the epoch that a `YYYY-MM-DD?HH:MM:SS` prefix names, read as UTC.
long long seconds_of(const std::string& stamp) {
  std::tm tm{};
  REQUIRE(std::sscanf(stamp.c_str(), "%d-%d-%d%*c%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                      &tm.tm_hour, &tm.tm_min, &tm.tm_sec) == 6);
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<long long>(timegm(&tm));
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 0777;
}
}  // namespace

TEST_CASE("parse_log_level accepts the six names and nothing else", "[observe]") {
  const std::pair<const char*, LogLevel> names[] = {
      {"trace", LogLevel::trace}, {"debug", LogLevel::debug}, {"info", LogLevel::info},
      {"warn", LogLevel::warn},   {"error", LogLevel::error}, {"off", LogLevel::off}};
  for (const auto& [name, level] : names) {
    LogLevel parsed = LogLevel::off;
    CHECK(parse_log_level(name, &parsed));
    CHECK(parsed == level);
  }
  for (const char* bad : {"", "INFO", "warning", "info ", "fatal", "critical", "5"}) {
    LogLevel parsed = LogLevel::debug;
    CHECK_FALSE(parse_log_level(bad, &parsed));
    CHECK(parsed == LogLevel::debug);
  }
}

TEST_CASE("text lines: levels below the threshold are absent, the rest are formatted",
          "[observe]") {
  TempDir tmp;
  const std::string file = tmp.path + "/server.log";
  {
    Session session(file_options(file, LogLevel::info, "server"));
    CHECK_FALSE(log_enabled(LogLevel::debug));
    CHECK(log_enabled(LogLevel::info));
    CHECK_FALSE(log_enabled(LogLevel::off));
    log_trace("hidden trace");
    log_debug("hidden debug {}", 1);
    log_info("listening on {}:{}", "0.0.0.0", 7000);
    log_warn("slow peer");
    log_error("100% broken");
  }
  const auto lines = read_lines(file);
  REQUIRE(lines.size() == 3);
  const char* expected[][2] = {{"info ", "server: listening on 0.0.0.0:7000"},
                               {"warn ", "server: slow peer"},
                               {"error", "server: 100% broken"}};
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::smatch match;
    INFO(lines[i]);
    REQUIRE(std::regex_match(lines[i], match, kTextLine));
    CHECK(match[1] == expected[i][0]);
    CHECK(match[2] == expected[i][1]);
  }
}

TEST_CASE("text lines without a component have no component prefix", "[observe]") {
  TempDir tmp;
  const std::string file = tmp.path + "/plain.log";
  {
    Session session(file_options(file, LogLevel::trace));
    log_trace("t");
    log_debug("d");
  }
  const auto lines = read_lines(file);
  REQUIRE(lines.size() == 2);
  std::smatch match;
  REQUIRE(std::regex_match(lines[0], match, kTextLine));
  CHECK(match[1] == "trace");
  CHECK(match[2] == "t");
  REQUIRE(std::regex_match(lines[1], match, kTextLine));
  CHECK(match[2] == "d");
}

TEST_CASE("JSON lines parse, carry every field and survive hostile messages", "[observe]") {
  TempDir tmp;
  const std::string file = tmp.path + "/json.log";
  const std::string hostile = std::string("quote \" backslash \\ newline \n tab \t bell \a nul ") +
                              std::string(1, '\0') + " end";
  const std::string accents = "h\xc3\xa9llo \xe2\x9c\x93";
  const std::string invalid = "bad \xff\xfe utf8 \xc3";
  {
    LogOptions options = file_options(file, LogLevel::debug, "client \"edge\"");
    options.json = true;
    Session session(options);
    log_trace("hidden");
    log_debug("plain");
    log_message(LogLevel::info, hostile);
    log_warn("{}", accents);
    log_error("{}", invalid);
  }
  const auto lines = read_lines(file);
  REQUIRE(lines.size() == 4);  // the newline inside `hostile` did not split its line
  std::vector<nlohmann::json> parsed;
  for (const auto& line : lines) {
    INFO(line);
    REQUIRE(nlohmann::json::accept(line));
    parsed.push_back(nlohmann::json::parse(line));
    const auto& object = parsed.back();
    CHECK(object.size() == 4);
    CHECK(object.at("component") == "client \"edge\"");
    CHECK(std::regex_match(object.at("ts").get<std::string>(), kIsoUtc));
  }
  CHECK(parsed[0]["level"] == "debug");
  CHECK(parsed[0]["msg"] == "plain");
  CHECK(parsed[1]["level"] == "info");
  CHECK(parsed[1]["msg"] == hostile);
  CHECK(parsed[2]["level"] == "warn");
  CHECK(parsed[2]["msg"] == accents);
  CHECK(parsed[3]["level"] == "error");
  CHECK(parsed[3]["msg"] == "bad \xef\xbf\xbd\xef\xbf\xbd utf8 \xef\xbf\xbd");
}

TEST_CASE("JSON lines omit an empty component", "[observe]") {
  TempDir tmp;
  const std::string file = tmp.path + "/json.log";
  {
    LogOptions options = file_options(file, LogLevel::info);
    options.json = true;
    Session session(options);
    log_info("x");
  }
  const auto lines = read_lines(file);
  REQUIRE(lines.size() == 1);
  const auto object = nlohmann::json::parse(lines[0]);
  CHECK_FALSE(object.contains("component"));
  CHECK(object.size() == 3);
}

TEST_CASE("text time is local and JSON time is UTC", "[observe]") {
  TempDir tmp;
  const char* old_tz = std::getenv("TZ");
  const std::string saved_tz = old_tz ? old_tz : "";
  setenv("TZ", "RTT-05:30", 1);  // POSIX: 5h30 east of UTC, no tzdata needed
  tzset();
  const long long now = static_cast<long long>(std::time(nullptr));
  for (const bool json : {false, true}) {
    const std::string file = tmp.path + (json ? "/utc.log" : "/local.log");
    {
      LogOptions options = file_options(file, LogLevel::info);
      options.json = json;
      Session session(options);
      log_info("when");
    }
    const auto lines = read_lines(file);
    REQUIRE(lines.size() == 1);
    const std::string stamp =
        json ? nlohmann::json::parse(lines[0])["ts"].get<std::string>() : lines[0].substr(0, 23);
    const long long offset = json ? 0 : 5 * 3600 + 30 * 60;
    CHECK(std::llabs(seconds_of(stamp) - offset - now) <= 5);
  }
  if (old_tz) {
    setenv("TZ", saved_tz.c_str(), 1);
  } else {
    unsetenv("TZ");
  }
  tzset();
}

TEST_CASE("a new log file is created 0600 and an existing one is appended to", "[observe]") {
  TempDir tmp;
  const std::string file = tmp.path + "/new.log";
  const mode_t old_umask = ::umask(0);  // spdlog's own file sink would create it 0666 now
  {
    Session session(file_options(file, LogLevel::info));
    log_info("first");
  }
  ::umask(old_umask);
  CHECK(mode_of(file) == 0600);
  {
    Session session(file_options(file, LogLevel::info));  // init after shutdown works
    log_info("second");
  }
  const auto lines = read_lines(file);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].find("first") != std::string::npos);
  CHECK(lines[1].find("second") != std::string::npos);
}

TEST_CASE("a log file that cannot be opened fails with a sentence naming it", "[observe]") {
  TempDir tmp;
  struct Case {
    std::string path;
    const char* reason;
  };
  const Case cases[] = {{tmp.path, "Is a directory"},
                        {"/proc/nonexistent/x", "No such file or directory"}};
  for (const auto& c : cases) {
    std::string error;
    CHECK_FALSE(init_logging(file_options(c.path, LogLevel::info), &error));
    INFO(error);
    CHECK(error.find(c.path) != std::string::npos);
    CHECK(error.find(c.reason) != std::string::npos);
    CHECK(error.back() == '.');
    log_debug("still safe after a failed init");
  }
}

TEST_CASE("without a running logger, lines go to stderr synchronously as text", "[observe]") {
  TempDir tmp;
  const std::string file = tmp.path + "/file.log";
  {
    Session session(file_options(file, LogLevel::info, "server"));
    log_info("to the file");
  }
  shutdown_logging();  // a second shutdown is harmless
  {
    StderrCapture capture(tmp.path + "/stderr");
    log_debug("below the level that is still in force");
    log_warn("after {}", "shutdown");
    // Read while fd 2 is still captured: the line is there as soon as the call returns.
    const auto lines = read_lines(capture.path);
    REQUIRE(lines.size() == 1);
    std::smatch match;
    REQUIRE(std::regex_match(lines[0], match, kTextLine));
    CHECK(match[1] == "warn ");
    CHECK(match[2] == "after shutdown");
  }
  CHECK(read_lines(file).size() == 1);
}

TEST_CASE("level off disables every line", "[observe]") {
  TempDir tmp;
  const std::string file = tmp.path + "/off.log";
  {
    Session session(file_options(file, LogLevel::off));
    for (const auto level : {LogLevel::trace, LogLevel::debug, LogLevel::info, LogLevel::warn,
                             LogLevel::error, LogLevel::off}) {
      CHECK_FALSE(log_enabled(level));
    }
    log_error("nothing");
    log_message(LogLevel::error, "nothing either");
  }
  CHECK(read_lines(file).empty());
}

TEST_CASE("a stuck writer never blocks loggers: the oldest lines are dropped and counted",
          "[observe]") {
  TempDir tmp;
  const std::string fifo = tmp.path + "/fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  REQUIRE(reader >= 0);
  constexpr int kLines = 30000;  // far more than the pipe buffer plus the 8192-line queue
  unsigned long long dropped = 0;
  std::string received;
  {
    Session session(file_options(fifo, LogLevel::info));
    REQUIRE(::fcntl(reader, F_SETFL, 0) == 0);  // blocking reads from here on
    // Nobody reads yet, so the writer thread blocks on the pipe; the loggers must not.
    auto producer = std::async(std::launch::async, [] {
      for (int i = 0; i < kLines; ++i) log_info("line {} padding padding padding padding", i);
    });
    const bool finished = producer.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
    CHECK(finished);
    dropped = log_dropped();
    auto drain = std::async(std::launch::async, [reader, &received] {
      char buffer[65536];
      for (ssize_t n; (n = ::read(reader, buffer, sizeof buffer)) > 0;) received.append(buffer, n);
    });
    producer.wait();
    shutdown_logging();  // drains the queue, writes the report, closes the fifo: EOF for drain
    drain.wait();
  }
  ::close(reader);
  CHECK(dropped > 0);
  CHECK(log_dropped() == dropped);
  std::vector<std::string> lines;
  std::istringstream in(received);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  REQUIRE(lines.size() == kLines - dropped + 1);
  // The survivors are whole lines in the order they were logged, and the newest is among them:
  // overrun only ever discards the oldest queued line.
  int previous = -1;
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
    std::smatch match;
    REQUIRE(std::regex_match(lines[i], match, kTextLine));
    const int number = std::atoi(match[2].str().c_str() + 5);
    REQUIRE(number > previous);
    previous = number;
  }
  CHECK(previous == kLines - 1);
  CHECK(lines.back().find("logging: " + std::to_string(dropped) + " lines were dropped") !=
        std::string::npos);
}

TEST_CASE("logging from many threads across init and shutdown is safe", "[observe]") {
  TempDir tmp;
  const std::string file = tmp.path + "/busy.log";
  StderrCapture capture(tmp.path + "/stderr");  // the gaps between sessions log to stderr
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &stop] {
      for (int i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        log_info("thread {} line {}", t, i);
        // Pause now and then: enough lines to overlap every init and shutdown, few enough that
        // reading them back stays fast under the sanitizers.
        if (i % 16 == 15) std::this_thread::sleep_for(std::chrono::microseconds(100));
        static_cast<void>(log_dropped());
      }
    });
  }
  for (int round = 0; round < 20; ++round) {
    std::string error;
    REQUIRE(init_logging(file_options(file, LogLevel::info, "busy"), &error));
    if (round % 2 == 0) REQUIRE(init_logging(file_options(file, LogLevel::info), &error));
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    shutdown_logging();
  }
  stop = true;
  for (auto& thread : threads) thread.join();
  // Whole lines only: one timestamp, one level and one message each, never two interleaved.
  // (A cheap check per line; the full regex on every line would take seconds.)
  for (const std::string& path : {file, capture.path}) {
    const auto lines = read_lines(path);
    REQUIRE_FALSE(lines.empty());
    CHECK(std::regex_match(lines.front(), kTextLine));
    std::size_t torn = 0;
    for (const auto& line : lines) {
      const std::size_t message = line.find("thread ");
      const bool whole = line.size() > 31 && line.compare(23, 7, " info  ") == 0 &&
                         (message == 30 || line.compare(30, 6, "busy: ") == 0) &&
                         line.find("thread ", message + 1) == std::string::npos &&
                         std::isdigit(static_cast<unsigned char>(line.back()));
      const bool drop_report =  // the flood overruns the queue: each session reports it
          line.compare(23, 7, " warn  ") == 0 &&
          line.find("lines were dropped") != std::string::npos;
      if (!whole && !drop_report) {
        UNSCOPED_INFO(line);
        ++torn;
      }
    }
    CHECK(torn == 0);
  }
}

TEST_CASE("fields go into JSON lines as members and stay out of text lines", "[observe][fields]") {
  TempDir tmp;
  const std::string json_file = tmp.path + "/fields.json";
  const std::string text_file = tmp.path + "/fields.txt";
  const LogFields fields{"session 0 to [::1]:9000", "SHA256:abc\"def", "localhost:15432:db:5432", 7};
  const std::string forged = std::string(1, '\x1e') + "\"session\":\"forged\"" + '\x1e' + "tail";
  {
    LogOptions options = file_options(json_file, LogLevel::info, "client");
    options.json = true;
    Session session(options);
    log_with(LogLevel::info, fields, "{}: refused", "tunnel");
    log_with(LogLevel::warn, LogFields{.tunnel = "t"}, "only a tunnel");
    log_with(LogLevel::info, LogFields{}, "no fields");
    log_message(LogLevel::info, forged);  // peer text that looks like a fields payload
  }
  const auto lines = read_lines(json_file);
  REQUIRE(lines.size() == 4);
  const auto first = nlohmann::json::parse(lines[0]);
  CHECK(first["msg"] == "tunnel: refused");
  CHECK(first["session"] == "session 0 to [::1]:9000");
  CHECK(first["client"] == "SHA256:abc\"def");
  CHECK(first["tunnel"] == "localhost:15432:db:5432");
  CHECK(first["stream"] == 7);
  const auto second = nlohmann::json::parse(lines[1]);
  CHECK(second["tunnel"] == "t");
  CHECK_FALSE(second.contains("session"));
  CHECK_FALSE(second.contains("stream"));
  CHECK(nlohmann::json::parse(lines[2]).size() == 4);  // ts, level, component, msg
  const auto fourth = nlohmann::json::parse(lines[3]);
  CHECK_FALSE(fourth.contains("session"));  // no forged field
  CHECK(fourth["msg"].get<std::string>().ends_with("tail"));
  {
    Session session(file_options(text_file, LogLevel::info));
    log_with(LogLevel::info, fields, "carried");
  }
  const auto text = read_lines(text_file);
  REQUIRE(text.size() == 1);
  std::smatch match;
  REQUIRE(std::regex_match(text[0], match, kTextLine));
  CHECK(match[2] == "carried");
}

TEST_CASE("colour paints the level on a terminal, and only when asked", "[observe][fields]") {
  TempDir tmp;
  for (const bool color : {true, false}) {
    const std::string file = tmp.path + (color ? "/color" : "/plain");
    {
      StderrCapture capture(file);
      LogOptions options;
      options.color = color;
      Session session(options);
      log_warn("careful");
      log_error("broken");
      log_info("fine");
    }
    const auto lines = read_lines(file);
    REQUIRE(lines.size() == 3);
    CHECK((lines[0].find("\x1b[33mwarn\x1b[0m") != std::string::npos) == color);
    CHECK((lines[1].find("\x1b[31merror\x1b[0m") != std::string::npos) == color);
    CHECK(lines[2].find('\x1b') == std::string::npos);  // info is not painted
    if (!color) {
      for (const auto& line : lines) CHECK(line.find('\x1b') == std::string::npos);
    }
  }
}

TEST_CASE("reopen_log_file follows the name after logrotate moved the file", "[observe][fields]") {
  TempDir tmp;
  const std::string file = tmp.path + "/app.log";
  const std::string rotated = tmp.path + "/app.log.1";
  {
    Session session(file_options(file, LogLevel::info));
    log_info("before rotation");
    shutdown_logging();  // flush: the queue is asynchronous
    Session again(file_options(file, LogLevel::info));
    REQUIRE(::rename(file.c_str(), rotated.c_str()) == 0);
    log_info("still the old file");
    std::string error;
    // The writer is asynchronous: wait until the line has reached the old file before reopening.
    for (int i = 0; i < 2000 && read_lines(rotated).size() < 2; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    REQUIRE(reopen_log_file(&error));
    log_info("after rotation");
  }
  const auto old_lines = read_lines(rotated);
  const auto new_lines = read_lines(file);
  REQUIRE(old_lines.size() == 2);
  CHECK(old_lines[1].find("still the old file") != std::string::npos);
  REQUIRE(new_lines.size() == 1);
  CHECK(new_lines[0].find("after rotation") != std::string::npos);
  CHECK(mode_of(file) == 0600);
  // Without a log file there is nothing to reopen, which is no error.
  std::string error;
  CHECK(reopen_log_file(&error));
}

TEST_CASE("text lines cannot carry terminal escapes or forge a line", "[observe][fields]") {
  TempDir tmp;
  const std::string file = tmp.path + "/text.log";
  {
    Session session(file_options(file, LogLevel::info, "server"));
    // What a hostile client name could hold: an escape sequence, a bell, a carriage return, and
    // a line break followed by something that looks like a log line.
    log_info("client {} connected",
             "\x1b[31mred\x07\r\n2026-12-02 12:00:00.000 error server: forged\x7f");
    log_info("intended\n    indented continuation");
  }
  const auto lines = read_lines(file);
  REQUIRE(lines.size() == 4);
  for (const auto& line : lines) {
    for (unsigned char c : line) CHECK((c >= 0x20 && c != 0x7f));
  }
  CHECK(lines[0].ends_with("client ?[31mred??"));
  CHECK(lines[1] == "  2026-12-02 12:00:00.000 error server: forged? connected");
  CHECK_FALSE(std::regex_match(lines[1], kTextLine));  // not a line of its own
  CHECK(lines[3] == "    indented continuation");    // already indented: left as it was
}
