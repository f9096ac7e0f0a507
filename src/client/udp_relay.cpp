// SPDX-License-Identifier: MIT
// UdpRelay: datagrams from local applications onto flows, idle expiry, the flow cap.
#include "client/udp_relay.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

#include "client/client_core.hpp"
#include "observe/log.hpp"
#include "runtime/io.hpp"

namespace ringtunnel::client {
namespace {

using namespace std::chrono_literals;
using protocol::Reason;

// After the server refuses the tunnel, new flows wait this long.
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
void UdpRelay::describe_source(const ::msghdr& message, FlowKey& key, tunnel::DatagramPath& reply) {
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

UdpRelay::UdpRelay(ClientCore& core, const OpenForward& forward, int fd)
    : core_(core), forward_(forward), fd_(fd) {
  sweep_timer_.on_fire = &UdpRelay::sweep;
  sweep_timer_.context = this;
}

UdpRelay::~UdpRelay() {
  RT_ASSERT(flows_.empty());
  core_.reactor.timers().remove(sweep_timer_);
}

void UdpRelay::start() {
  if (running_ || stopping_) return;
  running_ = true;
  ++core_.tasks;
  runtime::spawn(run());
}

void UdpRelay::stop(Reason reason) {
  stopping_ = true;
  stop_.cancel();
  core_.reactor.timers().remove(sweep_timer_);
  std::vector<tunnel::Stream*> streams;
  for (auto& [key, flow] : flows_) streams.push_back(flow->stream);
  for (tunnel::Stream* stream : streams) stream->abort(reason, true);  // each is released
}

runtime::Task<void> UdpRelay::run() {
  const std::span<std::byte> into = tunnel::datagram_receive_buffer();
  while (!stopping_) {
    auto ready = co_await runtime::wait_readable(fd_, {.cancellation = &stop_});
    if (stopping_) break;
    if (!ready) {
      observe::log_warn("tunnel {}: waiting for datagrams: {}", forward_.spec.name(),
                        ready.error().message());
      co_await runtime::sleep(50ms);
      continue;
    }
    for (int i = 0; i < tunnel::kDatagramsPerWake && !stopping_; ++i) {
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
          observe::log_debug("tunnel {}: receive: {}", forward_.spec.name(),
                             errno_code(errno).message());
        }
        break;
      }
      FlowKey from;
      tunnel::DatagramPath reply;
      describe_source(message, from, reply);
      on_datagram(from, reply, into.first(static_cast<std::size_t>(got)));
    }
  }
  loop_ended_ = true;
  core_.relay_ended(*this);
  --core_.tasks;
  core_.maybe_stopped();
}

void UdpRelay::on_datagram(const FlowKey& from, const tunnel::DatagramPath& reply,
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

UdpRelay::Flow* UdpRelay::open_flow(const FlowKey& from, const tunnel::DatagramPath& reply) {
  const auto now = runtime::Clock::now();
  if (now < refused_until_) {
    drop_no_flow("the server refused this tunnel a moment ago");
    return nullptr;
  }
  tunnel::Session* session = core_.pick_session();
  if (session == nullptr) {
    drop_no_flow("no session to the server is up");
    return nullptr;
  }
  const std::uint32_t cap = core_.client.options().udp_max_flows;
  if (forward_.udp_flows->fetch_add(1, std::memory_order_relaxed) >= cap) {
    forward_.udp_flows->fetch_sub(1, std::memory_order_relaxed);
    ++stats_.flows_refused;
    drop_no_flow("the tunnel has --udp-max-flows flows already");
    return nullptr;
  }
  auto flow = std::make_unique<Flow>(Flow{this, from, nullptr});
  tunnel::DatagramPath path = reply;
  path.fd = fd_;
  path.released = &UdpRelay::flow_released;
  path.owner = flow.get();
  const ForwardSpec& spec = forward_.spec;
  const tunnel::OpenTarget target{spec.target_host, spec.target_port, spec.name()};
  flow->stream = session->open_datagram_stream(target, path);
  if (flow->stream == nullptr) {
    forward_.udp_flows->fetch_sub(1, std::memory_order_relaxed);
    drop_no_flow("no session to the server takes new flows");
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
  observe::log_warn("tunnel {}: datagram dropped: {} ({} dropped so far on core {})",
                    forward_.spec.name(), why, stats_.dropped_no_flow, core_.reactor.id());
}

void UdpRelay::flow_released(void* owner, tunnel::Stream&, Reason why) {
  auto* flow = static_cast<Flow*>(owner);
  UdpRelay& relay = *flow->relay;
  relay.forward_.udp_flows->fetch_sub(1, std::memory_order_relaxed);
  if (is_refusal(why)) relay.refused_until_ = runtime::Clock::now() + kRefusalHoldOff;
  relay.flows_.erase(flow->key);  // destroys `flow`
}

void UdpRelay::arm_sweep() {
  if (sweep_timer_.armed() || flows_.empty() || stopping_) return;
  const auto idle = core_.client.options().udp_idle_timeout;
  // A quarter of the timeout: a flow ends between 1 and 1.25 timeouts after its last datagram.
  const auto every = std::clamp<runtime::Clock::duration>(idle / 4, 50ms, 5s);
  sweep_timer_.deadline = runtime::Clock::now() + every;
  core_.reactor.timers().add(sweep_timer_);
}

void UdpRelay::sweep(runtime::Timer& timer) {
  auto* self = static_cast<UdpRelay*>(timer.context);
  const auto idle = self->core_.client.options().udp_idle_timeout;
  const auto now = runtime::Clock::now();
  std::vector<tunnel::Stream*> expired;
  for (auto& [key, flow] : self->flows_) {
    if (now - flow->stream->last_active() >= idle) expired.push_back(flow->stream);
  }
  for (tunnel::Stream* stream : expired) {
    ++self->stats_.flows_expired;
    observe::log_debug("tunnel {}: stream {}: no datagram for {:.1f} s; flow ended",
                       self->forward_.spec.name(), stream->id(),
                       std::chrono::duration<double>(idle).count());
    stream->abort(Reason::idle_timeout, true);  // released: erased from flows_
  }
  self->arm_sweep();
}

}  // namespace ringtunnel::client
