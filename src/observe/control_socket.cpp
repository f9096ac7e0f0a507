// SPDX-License-Identifier: MIT
// ControlSocket: poll on the listener and a stop eventfd, one answer per connection.
#include "observe/control_socket.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ringtunnel::observe {
namespace {

constexpr std::size_t kMaxAnswer = 1 << 20;

bool socket_address(const std::string& path, sockaddr_un& address, std::string* error) {
  address = {};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) {
    *error = path + ": too long for a Unix socket (" + std::to_string(sizeof address.sun_path - 1) +
             " bytes at most); use a shorter --data-dir";
    return false;
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  return true;
}

void write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t sent = ::send(fd, text.data(), text.size(), MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return;  // the asker went away or stalled past SO_SNDTIMEO
    text.remove_prefix(static_cast<std::size_t>(sent));
  }
}

}  // namespace

bool ControlSocket::start(const std::string& path, Answer answer, std::string* error) {
  sockaddr_un address;
  if (!socket_address(path, address, error)) return false;
  const std::string dir = path.substr(0, path.rfind('/'));
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    *error = dir + ": cannot create: " + std::strerror(errno);
    return false;
  }
  // A socket file nobody answers on is left over from a process that died: replace it. One
  // that answers belongs to a live process (the name carries our pid, so that is a bug).
  std::string ignored;
  std::string reply;
  if (ask_control_socket(path, 200, &reply, &ignored)) {
    *error = path + ": another process answers there";
    return false;
  }
  ::unlink(path.c_str());
  net::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (fd.get() < 0) {
    *error = std::string("cannot make a Unix socket: ") + std::strerror(errno);
    return false;
  }
  // chmod, not umask (process-wide, other threads make files): the 0700 directory already
  // keeps others out for the moment between bind and chmod.
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::chmod(path.c_str(), 0600) != 0 || ::listen(fd.get(), 16) != 0) {
    *error = path + ": cannot listen: " + std::strerror(errno);
    return false;
  }
  wake_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (wake_.get() < 0) {
    *error = std::string("eventfd: ") + std::strerror(errno);
    ::unlink(path.c_str());
    return false;
  }
  path_ = path;
  answer_ = std::move(answer);
  listener_ = std::move(fd);
  thread_ = std::thread([this] { serve(); });
  return true;
}

void ControlSocket::stop() {
  if (!thread_.joinable()) return;
  const std::uint64_t one = 1;
  static_cast<void>(::write(wake_.get(), &one, sizeof one));
  thread_.join();
  ::unlink(path_.c_str());
  listener_.reset();
}

void ControlSocket::serve() {
  pollfd watched[2] = {{listener_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
  for (;;) {
    if (::poll(watched, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (watched[1].revents != 0) return;
    net::UniqueFd peer(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (peer.get() < 0) continue;  // EAGAIN after a peer gave up, EMFILE: try the next one
    ucred credentials{};
    socklen_t size = sizeof credentials;
    if (::getsockopt(peer.get(), SOL_SOCKET, SO_PEERCRED, &credentials, &size) != 0 ||
        (credentials.uid != ::geteuid() && credentials.uid != 0)) {
      continue;  // another user: the directory's mode should have stopped them already
    }
    const timeval limit{1, 0};
    ::setsockopt(peer.get(), SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    write_all(peer.get(), answer_() + "\n");
  }
}

bool ask_control_socket(const std::string& path, int timeout_ms, std::string* answer,
                        std::string* error) {
  sockaddr_un address;
  if (!socket_address(path, address, error)) return false;
  net::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0 ||
      ::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    *error = path + ": " + std::strerror(errno);
    return false;
  }
  answer->clear();
  pollfd readable{fd.get(), POLLIN, 0};
  char chunk[4096];
  while (answer->find('\n') == std::string::npos) {
    const int ready = ::poll(&readable, 1, timeout_ms);
    if (ready <= 0) {
      *error = path + ": no answer within " + std::to_string(timeout_ms) + " ms";
      return false;
    }
    const ssize_t got = ::read(fd.get(), chunk, sizeof chunk);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    answer->append(chunk, static_cast<std::size_t>(got));
    if (answer->size() > kMaxAnswer) {
      *error = path + ": answer larger than 1 MiB";
      return false;
    }
  }
  const auto newline = answer->find('\n');
  if (newline == std::string::npos) {
    *error = path + ": the answer ended early";
    return false;
  }
  answer->resize(newline);
  return true;
}

}  // namespace ringtunnel::observe
