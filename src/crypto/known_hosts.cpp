// SPDX-License-Identifier: MIT
// KnownHosts: strict line parsing, lookup, and append with 0600.
#include "crypto/known_hosts.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace ringtunnel::crypto {

namespace {
bool valid_fingerprint(const std::string& fp) {
  if (fp.rfind("SHA256:", 0) != 0 || fp.size() != 7 + 43) return false;  // 32 bytes, unpadded
  for (std::size_t i = 7; i < fp.size(); ++i) {
    const char c = fp[i];
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/')) return false;
  }
  return true;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}
}  // namespace

Result<HostCheck> KnownHosts::check(const std::string& host_port, const std::string& fingerprint,
                                    std::string* error) const {
  std::ifstream in(path_);
  if (!in) {
    if (errno == ENOENT) return HostCheck{};
    *error = "cannot read " + path_ + ": " + std::strerror(errno);
    return errno_code(EIO);
  }
  // The whole file is validated before answering, so damage anywhere is reported.
  std::string raw;
  HostCheck trusted;
  HostCheck changed;
  for (int line = 1; std::getline(in, raw); ++line) {
    const std::string text = trim(raw);
    if (text.empty() || text[0] == '#') continue;
    std::istringstream fields(text);
    std::string host;
    std::string fp;
    std::string extra;
    fields >> host >> fp;
    if (host.empty() || !valid_fingerprint(fp) || (fields >> extra)) {
      *error = path_ + ":" + std::to_string(line) +
               ": malformed line (expected 'HOST:PORT SHA256:<43 base64 characters>')";
      return errno_code(EINVAL);
    }
    if (host != host_port) continue;
    if (fp == fingerprint && trusted.line == 0) {
      trusted = HostCheck{HostCheck::Status::trusted, fp, line};
    } else if (fp != fingerprint && changed.line == 0) {
      changed = HostCheck{HostCheck::Status::changed, fp, line};
    }
  }
  if (trusted.line != 0) return trusted;  // a matching pin wins over an older one
  return changed;
}

Result<void> KnownHosts::add(const std::string& host_port, const std::string& fingerprint,
                             std::string* error) const {
  if (host_port.empty() || host_port.find_first_of(" \t\r\n#") != std::string::npos ||
      !valid_fingerprint(fingerprint)) {
    *error = "refusing to write a malformed known_hosts entry for '" + host_port + "'";
    return errno_code(EINVAL);
  }
  const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = "cannot write " + path_ + ": " + std::strerror(errno);
    return errno_code(errno);
  }
  const std::string line = host_port + " " + fingerprint + "\n";
  const ssize_t n = ::write(fd, line.data(), line.size());
  const int saved = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(line.size())) {
    *error = "cannot write " + path_ + ": " + std::strerror(n < 0 ? saved : EIO);
    return errno_code(EIO);
  }
  return {};
}

std::string identity_changed_warning(const std::string& host_port, const HostCheck& check,
                                     const std::string& offered_fingerprint,
                                     const std::string& known_hosts_path) {
  std::ostringstream w;
  w << "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
    << "@    WARNING: SERVER IDENTITY HAS CHANGED!                @\n"
    << "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
    << "Someone could be intercepting this connection (man-in-the-middle), or the server's\n"
    << "key was replaced. The server " << host_port << " now presents\n"
    << "  " << offered_fingerprint << "\n"
    << "but " << known_hosts_path << " line " << check.line << " pins\n"
    << "  " << check.pinned_fingerprint << "\n"
    << "If the change is expected, remove that line:\n"
    << "  sed -i '" << check.line << "d' " << known_hosts_path << "\n"
    << "Connection refused.";
  return w.str();
}

}  // namespace ringtunnel::crypto
