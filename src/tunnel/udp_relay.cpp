// SPDX-License-Identifier: MIT
// UdpRelay: datagrams from local applications or visitors onto flows, idle expiry, the cap.
#include "tunnel/udp_relay.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "net/socket_address.hpp"
#include "observe/log.hpp"
#include "runtime/io.hpp"
#include "tunnel/session.hpp"
#include "tunnel/visitor_address.hpp"

namespace ringtunnel::tunnel {
namespace {

using namespace std::chrono_literals;
using protocol::Reason;

// After the peer refuses the tunnel, new flows wait this long.
constexpr auto kRefusalHoldOff = 1s;
// Drops with no flow are logged at most this often (with the count so far).
constexpr auto kDropLogEvery = 10s;

// Refusals that a new flow right away would only repeat.
bool is_refusal(Reason why) noexcept {
  switch (why) {
    case Reason::port_not_allowed:
    case Reason::host_not_allowed:
    case Reason::connect_failed:
    case Reason::connect_refused:
    case Reason::too_many_streams:
      return true;
    default:
      return false;
  }
}

}  // namespace

// The flow key and the reply path of a received datagram: who sent it, and which local
// address it was sent to (the replies' source: see net::bind_udp).
void UdpRelay::describe_source(const ::msghdr& message, FlowKey& key, DatagramPath& reply) {
  const auto length = std::min<std::size_t>(message.msg_namelen, sizeof(::sockaddr_in6));
  std::memcpy(key.bytes.data(), message.msg_name, length);
  key.length = static_cast<std::uint8_t>(length);
  std::memcpy(&reply.to, message.msg_name, length);
  reply.to_len = static_cast<::socklen_t>(length);
  for (const ::cmsghdr* header = CMSG_FIRSTHDR(&message); header != nullptr;
       header = CMSG_NXTHDR(const_cast<::msghdr*>(&message), const_cast<::cmsghdr*>(header))) {
    if (header->cmsg_level == IPPROTO_IP && header->cmsg_type == IP_PKTINFO) {
      ::in_pktinfo info{};
      std::memcpy(&info, CMSG_DATA(header), sizeof info);
      reply.local_family = AF_INET;
      reply.local4.ipi_spec_dst = info.ipi_addr;  // the address it was sent to; any interface
      std::memcpy(key.bytes.data() + key.length, &info.ipi_addr, sizeof info.ipi_addr);
      key.length = static_cast<std::uint8_t>(key.length + sizeof info.ipi_addr);
    } else if (header->cmsg_level == IPPROTO_IPV6 && header->cmsg_type == IPV6_PKTINFO) {
      ::in6_pktinfo info{};
      std::memcpy(&info, CMSG_DATA(header), sizeof info);
      reply.local_family = AF_INET6;
      reply.local6 = info;  // the address, and the interface (link-local needs it)
      std::memcpy(key.bytes.data() + key.length, &info.ipi6_addr, sizeof info.ipi6_addr);
      key.length = static_cast<std::uint8_t>(key.length + sizeof info.ipi6_addr);
    }
  }
}

OpenTarget UdpRelay::target_of(const DatagramPath& reply) const {
  if (!settings_.name_visitor) return settings_.target;
  // "VISITOR PUBLIC_ADDRESS", as the server names a TCP visitor (docs/protocol.md §3).
  OpenTarget target = settings_.target;
  auto visitor = net::SocketAddress::from_sockaddr(reinterpret_cast<const ::sockaddr*>(&reply.to),
                                                   reply.to_len);
  ::sockaddr_storage public_storage{};
  ::socklen_t public_length = 0;
  if (reply.local_family == AF_INET) {
    auto* v4 = reinterpret_cast<::sockaddr_in*>(&public_storage);
    v4->sin_family = AF_INET;
    v4->sin_addr = reply.local4.ipi_spec_dst;
    v4->sin_port = htons(target.port);
    public_length = sizeof(::sockaddr_in);
  } else if (reply.local_family == AF_INET6) {
    auto* v6 = reinterpret_cast<::sockaddr_in6*>(&public_storage);
    v6->sin6_family = AF_INET6;
    v6->sin6_addr = reply.local6.ipi6_addr;
    v6->sin6_port = htons(target.port);
    public_length = sizeof(::sockaddr_in6);
  }
  auto reached = net::SocketAddress::from_sockaddr(
      reinterpret_cast<const ::sockaddr*>(&public_storage), public_length);
  if (visitor && reached) target.host = visitor_host(*visitor, *reached);
  return target;
}

UdpRelay::UdpRelay(UdpRelayOwner& owner, UdpRelaySettings settings, int fd, const void* tag)
    : owner_(owner), settings_(std::move(settings)), fd_(fd), tag_(tag) {
  sweep_timer_.on_fire = &UdpRelay::sweep;
  sweep_timer_.context = this;
}

UdpRelay::~UdpRelay() {
  RT_ASSERT(flows_.empty());
  owner_.relay_reactor().timers().remove(sweep_timer_);
}

void UdpRelay::start() {
  if (running_ || stopping_) return;
  running_ = true;
  owner_.relay_started(*this);
  runtime::spawn(run());
}

void UdpRelay::stop(Reason reason) {
  stopping_ = true;
  stop_.cancel();
  owner_.relay_reactor().timers().remove(sweep_timer_);
  std::vector<Stream*> streams;
  for (auto& [key, flow] : flows_) streams.push_back(flow->stream);
  for (Stream* stream : streams) stream->abort(reason, true);  // each is released
}

runtime::Task<void> UdpRelay::run() {
  const std::span<std::byte> into = datagram_receive_buffer();
  while (!stopping_) {
    auto ready = co_await runtime::wait_readable(fd_, {.cancellation = &stop_});
    if (stopping_) break;
    if (!ready) {
      observe::log_warn("{}: waiting for datagrams: {}", settings_.label,
                        ready.error().message());
      co_await runtime::sleep(50ms);
      continue;
    }
    for (int i = 0; i < kDatagramsPerWake && !stopping_; ++i) {
      ::sockaddr_storage source{};
      ::iovec piece{into.data(), into.size()};
      alignas(::cmsghdr) std::array<std::byte, 128> control{};
      ::msghdr message{};
      message.msg_name = &source;
      message.msg_namelen = sizeof source;
      message.msg_iov = &piece;
      message.msg_iovlen = 1;
      message.msg_control = control.data();
      message.msg_controllen = control.size();
      const ssize_t got = ::recvmsg(fd_, &message, MSG_DONTWAIT);
      if (got < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
          observe::log_debug("{}: receive: {}", settings_.label, errno_code(errno).message());
        }
        break;
      }
      FlowKey from;
      DatagramPath reply;
      describe_source(message, from, reply);
      on_datagram(from, reply, into.first(static_cast<std::size_t>(got)));
    }
  }
  loop_ended_ = true;
  owner_.relay_ended(*this);  // the last thing: the owner may free the relay next turn
}

void UdpRelay::on_datagram(const FlowKey& from, const DatagramPath& reply,
                           std::span<const std::byte> datagram) {
  Flow* flow = nullptr;
  if (auto found = flows_.find(from); found != flows_.end()) {
    flow = found->second.get();
  } else {
    flow = open_flow(from, reply);
    if (flow == nullptr) return;
  }
  flow->stream->send_datagram(datagram);  // copied, or dropped and counted by the session
}

UdpRelay::Flow* UdpRelay::open_flow(const FlowKey& from, const DatagramPath& reply) {
  const auto now = runtime::Clock::now();
  if (now < refused_until_) {
    drop_no_flow("the peer refused this tunnel a moment ago");
    return nullptr;
  }
  Session* session = owner_.session_for_flow(*this);
  if (session == nullptr) {
    drop_no_flow("no session is up to carry it");
    return nullptr;
  }
  if (settings_.flows->fetch_add(1, std::memory_order_relaxed) >= settings_.max_flows) {
    settings_.flows->fetch_sub(1, std::memory_order_relaxed);
    ++stats_.flows_refused;
    drop_no_flow(settings_.cap_reached.c_str());
    return nullptr;
  }
  auto flow = std::make_unique<Flow>(Flow{this, from, nullptr});
  DatagramPath path = reply;
  path.fd = fd_;
  path.released = &UdpRelay::flow_released;
  path.owner = flow.get();
  flow->stream = session->open_datagram_stream(target_of(reply), path);
  if (flow->stream == nullptr) {
    settings_.flows->fetch_sub(1, std::memory_order_relaxed);
    drop_no_flow("no session takes new flows now");
    return nullptr;
  }
  ++stats_.flows;
  Flow* raw = flow.get();
  flows_.emplace(from, std::move(flow));
  arm_sweep();
  return raw;
}

void UdpRelay::drop_no_flow(const char* why) {
  ++stats_.dropped_no_flow;
  const auto now = runtime::Clock::now();
  if (now < next_drop_log_) return;
  next_drop_log_ = now + kDropLogEvery;
  observe::log_warn("{}: datagram dropped: {} ({} dropped so far on core {})", settings_.label,
                    why, stats_.dropped_no_flow, owner_.relay_reactor().id());
}

void UdpRelay::flow_released(void* owner, Stream&, Reason why) {
  auto* flow = static_cast<Flow*>(owner);
  UdpRelay& relay = *flow->relay;
  relay.settings_.flows->fetch_sub(1, std::memory_order_relaxed);
  if (is_refusal(why)) relay.refused_until_ = runtime::Clock::now() + kRefusalHoldOff;
  relay.flows_.erase(flow->key);  // destroys `flow`
}

void UdpRelay::arm_sweep() {
  if (sweep_timer_.armed() || flows_.empty() || stopping_) return;
  const auto idle = settings_.idle_timeout;
  // A quarter of the timeout: a flow ends between 1 and 1.25 timeouts after its last datagram.
  const auto every = std::clamp<runtime::Clock::duration>(idle / 4, 50ms, 5s);
  sweep_timer_.deadline = runtime::Clock::now() + every;
  owner_.relay_reactor().timers().add(sweep_timer_);
}

void UdpRelay::sweep(runtime::Timer& timer) {
  auto* self = static_cast<UdpRelay*>(timer.context);
  const auto idle = self->settings_.idle_timeout;
  const auto now = runtime::Clock::now();
  std::vector<Stream*> expired;
  for (auto& [key, flow] : self->flows_) {
    if (now - flow->stream->last_active() >= idle) expired.push_back(flow->stream);
  }
  for (Stream* stream : expired) {
    ++self->stats_.flows_expired;
    observe::log_debug("{}: stream {}: no datagram for {:.1f} s; flow ended",
                       self->settings_.label, stream->id(),
                       std::chrono::duration<double>(idle).count());
    stream->abort(Reason::idle_timeout, true);  // released: erased from flows_
  }
  self->arm_sweep();
}

}  // namespace ringtunnel::tunnel
