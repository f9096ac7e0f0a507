// SPDX-License-Identifier: MIT
// Stream, kind udp: one DATA frame per datagram, early datagrams, the upstream socket's pump.
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <memory>

#include "observe/log.hpp"
#include "runtime/io.hpp"
#include "tunnel/datagram_state.hpp"
#include "tunnel/session.hpp"

namespace ringtunnel::tunnel {
namespace {

// Before OPEN_OK an opener keeps this much that did not fit the early allowance.
constexpr std::size_t kMaxHeldDatagrams = 16;
constexpr std::size_t kMaxHeldBytes = 256 * 1024;

bool is_unreachable(int error) noexcept {
  // ICMP errors a connected UDP socket reports on a later call: the target is not there (yet).
  return error == ECONNREFUSED || error == EHOSTUNREACH || error == ENETUNREACH ||
         error == EHOSTDOWN || error == ENETDOWN;
}

// One datagram out of `path`: to its application from the address that application sent to
// (client), or on the connected upstream socket (server). False when the socket refused it.
bool send_on_path(const DatagramPath& path, std::span<const std::byte> payload) {
  ::iovec piece{const_cast<std::byte*>(payload.data()), payload.size()};
  ::msghdr message{};
  message.msg_iov = &piece;
  message.msg_iovlen = 1;
  if (path.to_len > 0) {
    message.msg_name = const_cast<::sockaddr_storage*>(&path.to);
    message.msg_namelen = path.to_len;
  }
  alignas(::cmsghdr) std::array<std::byte, CMSG_SPACE(sizeof(::in6_pktinfo))> control{};
  if (path.local_family == AF_INET || path.local_family == AF_INET6) {
    const bool v4 = path.local_family == AF_INET;
    const std::size_t size = v4 ? sizeof(::in_pktinfo) : sizeof(::in6_pktinfo);
    message.msg_control = control.data();
    message.msg_controllen = CMSG_SPACE(size);
    ::cmsghdr* header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = v4 ? IPPROTO_IP : IPPROTO_IPV6;
    header->cmsg_type = v4 ? IP_PKTINFO : IPV6_PKTINFO;
    header->cmsg_len = CMSG_LEN(size);
    std::memcpy(CMSG_DATA(header), v4 ? static_cast<const void*>(&path.local4)
                                      : static_cast<const void*>(&path.local6),
                size);
  }
  return ::sendmsg(path.fd, &message, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0;
}

}  // namespace

std::string describe_datagrams(const SessionStats& stats) {
  const DatagramDrops& drops = stats.datagram_drops;
  if (stats.datagrams_in == 0 && stats.datagrams_out == 0 && drops.total() == 0) return {};
  const std::uint64_t flows = stats.flows_opened + stats.flows_accepted;
  std::string text = ", " + std::to_string(flows) + " UDP flows, " +
                     std::to_string(stats.datagrams_in) + " datagrams in, " +
                     std::to_string(stats.datagrams_out) + " out, " +
                     std::to_string(drops.total()) + " dropped";
  if (drops.total() == 0) return text;
  std::string causes;
  const auto add = [&](std::uint64_t count, const char* what) {
    if (count == 0) return;
    causes += (causes.empty() ? "" : ", ") + std::to_string(count) + " " + what;
  };
  add(drops.too_large, "too large");
  add(drops.no_room, "no room");
  add(drops.local_send, "refused by the local socket");
  return text + " (" + causes + ")";
}

std::span<std::byte> datagram_receive_buffer() noexcept {
  // Any datagram fits (IPv6 allows 65,527 bytes of payload); used synchronously, so one per
  // thread serves every UDP socket on its reactor. Allocated on first use: a thread_local
  // array would be zeroed (64 KiB of RSS) in every thread, UDP or not.
  constexpr std::size_t kSize = 65536;
  thread_local std::unique_ptr<std::byte[]> buffer;
  if (!buffer) buffer = std::make_unique_for_overwrite<std::byte[]>(kSize);
  return {buffer.get(), kSize};
}

void Stream::attach_datagram_path(const DatagramPath& path) {
  RT_ASSERT(udp_);
  udp_->path = path;
}

runtime::Clock::time_point Stream::last_active() const noexcept {
  return udp_ ? udp_->last_active : runtime::Clock::time_point{};
}

void Stream::released() noexcept {
  if (udp_ && udp_->path.released) udp_->path.released(udp_->path.owner, *this, udp_->end);
}

void Stream::send_datagram(std::span<const std::byte> datagram) {
  if (state_ == State::closed || state_ == State::accepting) return;
  udp_->last_active = runtime::Clock::now();
  session_.note_interactive(id_);  // datagrams are latency-sensitive: bulk beside them stays short
  SessionStats& stats = session_.stats();
  if (datagram.size() > session_.config().peer_max_frame) {
    ++stats.datagram_drops.too_large;
    return;
  }
  if (state_ == State::opening) {
    const bool fits_early = datagram.size() <= send_credit_ &&
                            udp_->early_sent < protocol::kMaxEarlyDatagrams && udp_->held.empty();
    if (!fits_early) {  // kept, in order, until OPEN_OK
      if (udp_->held.size() >= kMaxHeldDatagrams ||
          udp_->held_bytes + datagram.size() > kMaxHeldBytes) {
        ++stats.datagram_drops.no_room;
        return;
      }
      udp_->held.emplace_back(datagram.begin(), datagram.end());
      udp_->held_bytes += datagram.size();
      return;
    }
    ++udp_->early_sent;
  }
  write_datagram(datagram);
}

void Stream::write_datagram(std::span<const std::byte> datagram) {
  SessionStats& stats = session_.stats();
  if (datagram.size() > send_credit_ || !session_.writer().datagram(*this, datagram)) {
    ++stats.datagram_drops.no_room;
    return;
  }
  send_credit_ -= static_cast<std::uint32_t>(datagram.size());
  ++stats.datagrams_out;
  stats.bytes_out += datagram.size();
}

void Stream::on_datagram(std::span<const std::byte> payload) {
  ++session_.stats().datagrams_in;
  udp_->last_active = runtime::Clock::now();
  session_.note_interactive(id_);
  deliver_datagram(payload);  // straight from the session's receive ring
}

void Stream::deliver_datagram(std::span<const std::byte> datagram) {
  // A full socket buffer, an ICMP error from an earlier datagram or a datagram too big for the
  // target's family drops this one: UDP's rules. Its credit goes back either way.
  if (!send_on_path(udp_->path, datagram)) {
    ++session_.stats().datagram_drops.local_send;
    observe::log_debug("{}: tunnel '{}': stream {}: datagram of {} bytes dropped: {}",
                       session_.name(), target_.tunnel, id_, datagram.size(),
                       errno_code(errno).message());
  }
  consumed(datagram.size());
}

void Stream::hold_early_datagram(std::span<const std::byte> payload) {
  ++session_.stats().datagrams_in;
  if (abandoned_) return;
  if (++udp_->early_received > protocol::kMaxEarlyDatagrams) {
    ++session_.stats().datagram_drops.no_room;
    return;
  }
  udp_->early.emplace_back(payload.begin(), payload.end());  // until the upstream socket is up
  backlog_size_ += payload.size();
  session_.buffered(static_cast<std::ptrdiff_t>(payload.size()));
}

void Stream::start_datagrams(bool accepter) {
  udp_->last_active = runtime::Clock::now();
  if (accepter) {
    udp_->path.fd = socket_.get();
    for (const auto& datagram : udp_->early) deliver_datagram(datagram);
    udp_->early.clear();
    session_.buffered(-static_cast<std::ptrdiff_t>(backlog_size_));
    backlog_size_ = 0;
    ++tasks_;
    runtime::spawn(datagram_pump());
    return;
  }
  auto held = std::move(udp_->held);
  udp_->held_bytes = 0;
  for (const auto& datagram : held) write_datagram(datagram);
}

runtime::Task<void> Stream::datagram_pump() {
  const int fd = socket_.get();
  while (state_ == State::open) {
    auto ready = co_await runtime::wait_readable(fd, {.cancellation = &udp_->pump_cancel});
    if (state_ != State::open) break;
    if (!ready) {
      local_failed(ready.error(), "wait for");
      break;
    }
    const std::span<std::byte> into = datagram_receive_buffer();
    for (int i = 0; i < kDatagramsPerWake && state_ == State::open; ++i) {
      const ssize_t got = ::recv(fd, into.data(), into.size(), MSG_DONTWAIT);
      if (got >= 0) {
        send_datagram(into.first(static_cast<std::size_t>(got)));  // copied: `into` is reused
        continue;
      }
      const int error = errno;
      if (error == EAGAIN || error == EWOULDBLOCK) break;
      if (is_unreachable(error)) {  // the flow stays: the service may come (back) up
        ++session_.stats().datagram_drops.local_send;
        continue;
      }
      local_failed(errno_code(error), "receive from");
    }
  }
  task_ended();
}

}  // namespace ringtunnel::tunnel
