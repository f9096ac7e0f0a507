// SPDX-License-Identifier: MIT
// Tokens from a no-echo prompt or a file, checked before they reach the handshake.
#include "config/token_input.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "net/unique_fd.hpp"

namespace ringtunnel::config {
namespace {

// Trailing newline, carriage return and blanks are not part of a token (files end in "\n").
std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ' ||
                           text.back() == '\t')) {
    text.pop_back();
  }
  return text;
}

bool read_limited(int fd, std::string& text, const std::string& what, std::string* error) {
  char chunk[512];
  for (;;) {
    const ssize_t got = ::read(fd, chunk, sizeof chunk);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      *error = what + ": cannot read: " + std::strerror(errno);
      return false;
    }
    if (got == 0) return true;
    text.append(chunk, static_cast<std::size_t>(got));
    if (text.size() > kMaxTokenBytes) {
      *error = what + ": longer than 4 KiB; is this the token?";
      return false;
    }
    if (text.find('\n') != std::string::npos) {
      text.resize(text.find('\n'));  // the first line is the token
      return true;
    }
  }
}

bool prompt_token(std::string& token, std::string* error) {
  net::UniqueFd tty(::open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY));
  termios saved{};
  if (tty.get() < 0 || ::tcgetattr(tty.get(), &saved) != 0) {
    *error =
        "--token -: no terminal to ask on; give the token in RINGTUNNEL_TOKEN or a file "
        "with --token-file";
    return false;
  }
  static constexpr char kPrompt[] = "Token: ";
  static_cast<void>(::write(tty.get(), kPrompt, sizeof kPrompt - 1));
  termios quiet = saved;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  quiet.c_lflag |= ECHONL;
  ::tcsetattr(tty.get(), TCSAFLUSH, &quiet);
  const bool ok = read_limited(tty.get(), token, "--token -", error);
  ::tcsetattr(tty.get(), TCSAFLUSH, &saved);
  return ok;
}

bool read_token_file(const std::string& path, std::string& token,
                     std::vector<std::string>* warnings, std::string* error) {
  const std::string what = "--token-file " + path;
  net::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  struct stat info {};
  if (fd.get() < 0 || ::fstat(fd.get(), &info) != 0) {
    *error = what + ": cannot open: " + std::strerror(errno);
    return false;
  }
  if (!S_ISREG(info.st_mode)) {
    *error = what + ": not a regular file";
    return false;
  }
  if ((info.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%03o", info.st_mode & 0777);
    warnings->push_back(what + ": readable by other users (mode " + mode + "); chmod 600 it");
  }
  return read_limited(fd.get(), token, what, error);
}

}  // namespace

bool resolve_token(const std::optional<std::string>& token,
                   const std::optional<std::string>& token_file, std::optional<std::string>* out,
                   std::vector<std::string>* warnings, std::string* error) {
  out->reset();
  std::string text;
  std::string source;
  if (token && *token == "-") {
    if (!prompt_token(text, error)) return false;
    source = "the token typed";
  } else if (token) {
    text = *token;
    source = "--token";
  } else if (token_file) {
    if (!read_token_file(*token_file, text, warnings, error)) return false;
    source = "--token-file " + *token_file;
  } else {
    return true;
  }
  text = trimmed(std::move(text));
  if (text.empty()) {
    *error = source + ": the token is empty";
    return false;
  }
  *out = std::move(text);
  return true;
}

}  // namespace ringtunnel::config
