// SPDX-License-Identifier: MIT
// `ringtunnel status`: what the data dir holds, then each running process's own answer from
// its control socket (run/<role>-<pid>.sock).
#include "cli/status_command.hpp"

#include <dirent.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>

#include "cli/common.hpp"
#include "cli/config_layer.hpp"
#include "cli/live_report.hpp"
#include "config/config_file.hpp"
#include "config/data_dir.hpp"
#include "crypto/authorized_keys.hpp"
#include "crypto/ed25519.hpp"
#include "crypto/fingerprint.hpp"
#include "observe/control_socket.hpp"
#include "observe/live_status.hpp"

namespace ringtunnel::cli {
namespace {

struct StatusFlags {
  std::optional<std::string> data_dir;
  bool json = false;
};

// Text from files and sockets, safe to print: control bytes become '?'.
std::string printable(std::string text) {
  for (char& c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) c = '?';
  }
  return text;
}

std::string bytes_text(std::uint64_t bytes) {
  char text[32];
  if (bytes < 10 * 1024) {
    std::snprintf(text, sizeof text, "%llu B", static_cast<unsigned long long>(bytes));
  } else if (bytes < 10ull * 1024 * 1024) {
    std::snprintf(text, sizeof text, "%.1f KiB", static_cast<double>(bytes) / 1024);
  } else if (bytes < 10ull * 1024 * 1024 * 1024) {
    std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1024 * 1024));
  } else {
    std::snprintf(text, sizeof text, "%.1f GiB",
                  static_cast<double>(bytes) / (1024.0 * 1024 * 1024));
  }
  return text;
}

void print_key(const std::string& label, const std::string& path, const std::string& made_by) {
  std::string error;
  auto key = crypto::load_private_key(path, &error);
  if (key) {
    std::printf("%-12s %s  (%s)\n", label.c_str(), crypto::fingerprint(key->public_key()).c_str(),
                path.c_str());
  } else if (key.error() == std::errc::no_such_file_or_directory) {
    std::printf("%-12s none yet (%s makes it)\n", label.c_str(), made_by.c_str());
  } else {
    std::printf("%-12s unreadable: %s\n", label.c_str(), printable(error).c_str());
  }
}

void print_known_hosts(const std::string& path) {
  std::ifstream file(path);
  std::vector<std::string> pins;
  for (std::string line; std::getline(file, line);) {
    if (!line.empty() && line[0] != '#') pins.push_back(printable(line));
  }
  std::printf("known hosts  %zu pinned (%s)\n", pins.size(), path.c_str());
  for (const std::string& pin : pins) std::printf("  %s\n", pin.c_str());
}

void print_authorized(const std::string& path) {
  std::string error;
  auto keys = crypto::AuthorizedKeys::load(path, &error);
  if (!keys) {
    std::printf("clients      unreadable: %s\n", printable(error).c_str());
    return;
  }
  std::printf("clients      %zu enrolled (%s)\n", keys->size(), path.c_str());
  for (const crypto::AuthorizedKey& entry : keys->keys()) {
    std::printf("  %s %s\n", crypto::fingerprint(entry.key).c_str(),
                printable(entry.comment).c_str());
  }
}

void print_profiles(const std::string& data_dir) {
  std::string error;
  const std::string path = data_dir + "/config.yaml";
  auto file = config::load_config_file(path, &error);
  if (!file) {
    std::printf("profiles     config.yaml has an error: %s\n", printable(error).c_str());
    return;
  }
  if (!file->exists) {
    std::printf("profiles     none (no %s; `ringtunnel config init` writes one)\n", path.c_str());
    return;
  }
  std::printf("profiles     %zu (%s)\n", file->profiles.size(), path.c_str());
  for (const config::Profile& profile : file->profiles) {
    const auto value = [&](std::string_view key) -> std::string {
      const config::Setting* own = profile.find(key);
      if (own == nullptr) own = config::ConfigFile::find(file->defaults, key);
      return own == nullptr ? "" : own->values.front().text;
    };
    const config::Setting* tunnels = profile.find("tunnels");
    std::string server = value("server");
    std::string port = value("port");
    std::printf("  %-12s %s%s, %zu tunnel(s)\n", profile.name.c_str(),
                server.empty() ? "(no server)" : printable(server).c_str(),
                port.empty() || server.find(':') != std::string::npos ? "" : (":" + port).c_str(),
                tunnels == nullptr ? 0 : tunnels->values.size());
  }
}

// The control sockets of processes running on this data dir, asked one by one; a socket
// nobody answers on (its process died without removing it) is removed.
std::vector<observe::LiveStatus> ask_running(const std::string& data_dir,
                                             std::vector<std::string>* problems) {
  std::vector<observe::LiveStatus> found;
  const std::string dir = control_directory(data_dir);
  std::unique_ptr<DIR, int (*)(DIR*)> listing(::opendir(dir.c_str()), &::closedir);
  if (!listing) return found;
  std::vector<std::string> names;
  while (const dirent* entry = ::readdir(listing.get())) {
    const std::string name = entry->d_name;
    if (name.size() > 5 && name.ends_with(".sock")) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    const std::string path = dir + "/" + name;
    std::string answer, error;
    if (!observe::ask_control_socket(path, 3000, &answer, &error)) {
      if (error.find("Connection refused") != std::string::npos) {
        ::unlink(path.c_str());  // stale
      } else {
        problems->push_back(error);
      }
      continue;
    }
    auto status = observe::live_status_from_json(answer, &error);
    if (!status) {
      problems->push_back(path + ": " + error);
      continue;
    }
    found.push_back(std::move(*status));
  }
  return found;
}

void print_running(const std::vector<observe::LiveStatus>& running) {
  if (running.empty()) {
    std::printf("running      nothing on this data dir\n");
    return;
  }
  for (const observe::LiveStatus& s : running) {
    std::printf(
        "%-12s pid %ld, %s, up %.0f s, %s %s; %zu session(s) now, %llu in all, %llu "
        "stream(s), %s in, %s out%s\n",
        printable(s.role).c_str(), s.pid, printable(s.state).c_str(), s.uptime_seconds,
        s.role == "server" ? "listening on" : "server", printable(s.address).c_str(),
        s.sessions.size(), static_cast<unsigned long long>(s.sessions_total),
        static_cast<unsigned long long>(s.streams_total), bytes_text(s.bytes_in).c_str(),
        bytes_text(s.bytes_out).c_str(), s.complete ? "" : " (a reactor did not answer)");
    for (const std::string& tunnel : s.tunnels)
      std::printf("  tunnel %s\n", printable(tunnel).c_str());
    for (const observe::LiveSession& session : s.sessions) {
      char rtt[32] = "rtt not measured yet";
      if (session.rtt_ms) std::snprintf(rtt, sizeof rtt, "rtt %.2f ms", *session.rtt_ms);
      std::printf("  %s: core %u, up %.0f s, %s, %llu stream(s) open, %s in, %s out\n",
                  printable(session.name).c_str(), session.core, session.uptime_seconds, rtt,
                  static_cast<unsigned long long>(session.streams_open),
                  bytes_text(session.bytes_in).c_str(), bytes_text(session.bytes_out).c_str());
    }
  }
}

int run_status(const StatusFlags& flags) {
  const std::string dir = config::default_data_dir_path(flags.data_dir);
  std::vector<std::string> problems;
  const auto running = ask_running(dir, &problems);
  if (flags.json) {
    std::printf("[");
    for (std::size_t i = 0; i < running.size(); ++i) {
      std::printf("%s%s", i ? "," : "", observe::to_json(running[i]).c_str());
    }
    std::printf("]\n");
  } else {
    std::printf("data dir     %s\n", dir.c_str());
    print_key("client key", dir + "/key", "the first `ringtunnel client`");
    print_key("server key", dir + "/server_key", "the first `ringtunnel server`");
    print_known_hosts(dir + "/known_hosts");
    print_authorized(dir + "/authorized_keys");
    print_profiles(dir);
    print_running(running);
  }
  for (const std::string& problem : problems) {
    std::fprintf(stderr, "ringtunnel status: %s\n", printable(problem).c_str());
  }
  return 0;
}

}  // namespace

void add_status_command(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<StatusFlags>();
  CLI::App* cmd = app.add_subcommand(
      "status",
      "Show this data dir's keys, pinned servers, enrolled clients and profiles, and the live "
      "state of each server or client running on it");
  cmd->add_option("--data-dir", flags->data_dir,
                  "The data dir; default $RINGTUNNEL_DATA_DIR, else ~/.ringtunnel");
  cmd->add_flag("--json", flags->json,
                "Print only the running processes' live state, as a JSON list");
  cmd->callback([flags, &exit_code] { exit_code = run_status(*flags); });
}

}  // namespace ringtunnel::cli
