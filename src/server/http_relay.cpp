// SPDX-License-Identifier: MIT
// relay_http: two coroutines on one reactor, one per direction, sharing a queue of the requests
// still waiting for their responses.
#include "server/http_relay.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <coroutine>
#include <cstring>
#include <deque>
#include <optional>
#include <utility>

#include "http/body_scanner.hpp"
#include "http/error_page.hpp"
#include "http/forward_head.hpp"
#include "http/request_head.hpp"
#include "http/response_head.hpp"
#include "http/route.hpp"
#include "observe/log.hpp"
#include "observe/quote_untrusted.hpp"
#include "runtime/io.hpp"
#include "runtime/reactor.hpp"
#include "server/server.hpp"

namespace ringtunnel::server {
namespace {

using namespace std::chrono_literals;
using runtime::Task;

// Each direction reads into a buffer this big; a request head (at most 16 KiB) always fits.
constexpr std::size_t kRelayBuffer = 64 * 1024;
// After the last response the visitor gets this long to stop sending before the socket
// closes (closing with unread bytes would reset the connection and could destroy the
// response before the visitor has read it).
constexpr auto kLinger = 1s;
constexpr std::size_t kLingerBytes = 256 * 1024;
constexpr std::size_t kLogHost = 256;
constexpr std::size_t kLogTarget = 1024;

// One coroutine waits here until the other one wakes it (same thread; at most one waiter).
struct Wakeup {
  std::coroutine_handle<> waiter;
  void notify() {
    if (waiter) {
      auto handle = std::exchange(waiter, {});
      runtime::Reactor::current()->schedule(handle);
    }
  }
  struct Awaiter {
    Wakeup& wakeup;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> handle) noexcept { wakeup.waiter = handle; }
    void await_resume() const noexcept {}
  };
  Awaiter wait() noexcept { return {*this}; }
};

// A request forwarded (or refused) and not answered yet.
struct Pending {
  int refusal = 0;  // not 0: the ingress answers this status itself, then closes
  std::string refusal_detail;
  bool head_request = false;
  bool upgrade = false;
  bool keep_alive = true;
  RequestRecord record;
  runtime::Clock::time_point started;
};

enum class Upgrade : std::uint8_t { none, waiting, switched, declined };

struct Relay {
  net::UniqueFd visitor;
  net::UniqueFd upstream;
  HttpRelaySettings settings;
  std::deque<Pending> pending;
  Wakeup to_responses;                  // a request was queued, or the requests ended
  Wakeup to_requests;                   // an upgrade was decided, or the responses ended
  runtime::Cancellation visitor_reads;  // the request side's reads of the visitor
  Upgrade upgrade = Upgrade::none;
  bool requests_done = false;
  bool responses_done = false;
  bool body_refused = false;  // a request body's framing was bad: answer 400, not 502
  int body_status = 400;
  std::string body_detail;
};

std::span<const std::byte> as_bytes(const std::string& text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

std::string cut(std::string_view text, std::size_t limit) {
  return std::string(text.substr(0, limit));
}

std::chrono::microseconds since(runtime::Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(runtime::Clock::now() - start);
}

// ---- visitor -> upstream -------------------------------------------------------------------

// Queues a refusal (answered once the requests before it are) and ends the request side.
void refuse(Relay& relay, int status, std::string detail) {
  Pending refusal;
  refusal.refusal = status;
  refusal.refusal_detail = std::move(detail);
  relay.pending.push_back(std::move(refusal));
  relay.to_responses.notify();
}

// Raw bytes visitor -> upstream after a 101: `rest` first.
Task<void> pipe_requests(Relay& relay, std::span<std::byte> buffer, std::size_t begin,
                         std::size_t end) {
  if (end > begin) {
    if (!co_await runtime::send_all(relay.upstream.get(), buffer.subspan(begin, end - begin))) {
      co_return;
    }
  }
  for (;;) {
    auto got =
        co_await runtime::recv(relay.visitor.get(), buffer, {.cancellation = &relay.visitor_reads});
    if (!got || *got == 0) break;
    if (!co_await runtime::send_all(relay.upstream.get(), buffer.first(*got))) break;
  }
  ::shutdown(relay.upstream.get(), SHUT_WR);
}

Task<void> forward_requests(Relay& relay, std::vector<std::byte> first) {
  std::vector<std::byte> storage(kRelayBuffer);
  std::span<std::byte> buffer(storage);
  std::size_t begin = 0;                                    // unread bytes are buffer[begin, end)
  std::size_t end = std::min(first.size(), buffer.size());  // the ingress reads less than this
  std::memcpy(buffer.data(), first.data(), end);
  first = {};
  http::RequestHeadParser parser;
  std::string head_text;
  const int visitor = relay.visitor.get();
  const int upstream = relay.upstream.get();
  bool visitor_closed = false;
  // Reads more from the visitor into buffer[end...): the count, 0 at EOF, or the error.
  auto read_more = [&](std::chrono::milliseconds timeout) {
    return runtime::recv(visitor, buffer.subspan(end),
                         {.timeout = timeout, .cancellation = &relay.visitor_reads});
  };
  for (;;) {
    // The head: fed from what is buffered, then from the visitor.
    parser.reset();
    bool head_started = false;
    for (;;) {
      if (begin < end) {
        head_started = true;
        const auto fed = parser.feed(buffer.subspan(begin, end - begin));
        begin += fed.used;
        if (fed.status != http::HeadStatus::need_more) break;
      }
      begin = end = 0;  // the parser took everything
      if (relay.responses_done) goto done;
      auto got = co_await read_more(relay.settings.timeout);
      if (!got || *got == 0) {
        const bool timed_out = !got && got.error() == std::errc::timed_out;
        if (timed_out && head_started)
          refuse(relay, 408, "the request head did not arrive in time");
        // EOF (or a reset): the visitor sends no more. A timeout between requests is an idle
        // keep-alive connection ending quietly.
        if (got || (!timed_out && got.error() != std::errc::operation_canceled)) {
          visitor_closed = true;
        }
        goto done;
      }
      end = *got;
    }
    if (parser.status() == http::HeadStatus::failed) {
      refuse(relay, parser.error().status, parser.error().message);
      goto done;
    }
    const http::RequestHead& head = parser.head();
    const auto host = head.host();
    const auto name =
        host ? http::tunnel_name_for_host(*host, relay.settings.domain) : std::nullopt;
    if (!name || *name != relay.settings.tunnel) {
      refuse(
          relay, 421,
          "this connection was opened for another tunnel; open a new connection for " +
              (host ? observe::quote_untrusted(*host, 80) : std::string("a request without Host")));
      goto done;
    }
    Pending pending;
    pending.head_request = head.method == "HEAD";
    pending.upgrade = head.upgrade.has_value();
    pending.keep_alive = head.keep_alive == http::KeepAlive::yes;
    pending.started = runtime::Clock::now();
    pending.record.started = std::chrono::system_clock::now();
    pending.record.tunnel = relay.settings.tunnel;
    pending.record.method = head.method;
    pending.record.host = cut(*host, kLogHost);
    pending.record.target = cut(head.target, kLogTarget);
    pending.record.visitor = relay.settings.visitor_address;
    head_text.clear();
    http::append_forwarded_request(
        head, http::ForwardedFor{relay.settings.visitor_ip, "http", std::string(*host)}, head_text);
    pending.record.bytes_in = head_text.size();
    const bool upgrade = pending.upgrade;
    const bool keep_alive = pending.keep_alive;
    RequestRecord* record = nullptr;
    relay.pending.push_back(std::move(pending));
    record = &relay.pending.back().record;  // deque: stays put while others are added
    if (upgrade) relay.upgrade = Upgrade::waiting;
    relay.to_responses.notify();
    if (!co_await runtime::send_all(upstream, as_bytes(head_text))) goto done;
    // The body, forwarded as it arrives.
    {
      http::BodyScanner body(head.framing, head.content_length);
      while (!body.done()) {
        if (begin < end) {
          const auto step = body.feed(buffer.subspan(begin, end - begin));
          if (body.failed()) {
            relay.body_refused = true;
            relay.body_status = body.error().status;
            relay.body_detail = body.error().message;
            ::shutdown(upstream, SHUT_RDWR);
            goto done;
          }
          if (step.used > 0) {
            if (!co_await runtime::send_all(upstream, buffer.subspan(begin, step.used))) goto done;
            // `record` may be gone once its response is complete (an early answer).
            if (!relay.pending.empty() && &relay.pending.back().record == record) {
              record->bytes_in += step.used;
            }
            begin += step.used;
          }
          continue;
        }
        begin = end = 0;
        auto got = co_await read_more(relay.settings.timeout);
        if (!got || *got == 0) {
          ::shutdown(upstream, SHUT_RDWR);  // a cut body must not look complete upstream
          goto done;
        }
        end = *got;
      }
    }
    if (upgrade) {
      while (relay.upgrade == Upgrade::waiting && !relay.responses_done) {
        co_await relay.to_requests.wait();
      }
      if (relay.upgrade == Upgrade::switched) {
        co_await pipe_requests(relay, buffer, begin, end);
        visitor_closed = true;
        goto wait_responses;
      }
      relay.upgrade = Upgrade::none;
    }
    if (!keep_alive) goto done;  // what the visitor sends after a last request is not read
    // Keep the unread bytes (the next pipelined request) at the front.
    if (begin > 0) {
      std::memmove(buffer.data(), buffer.data() + begin, end - begin);
      end -= begin;
      begin = 0;
    }
  }

done:
  relay.requests_done = true;
  relay.to_responses.notify();
  if (visitor_closed) ::shutdown(upstream, SHUT_WR);
  // Until the responses are done, and a little after, whatever the visitor still sends is
  // read and dropped, so the final close does not reset the connection under the response.
  {
    std::size_t dropped = 0;
    std::optional<runtime::Clock::time_point> linger_until;
    while (!visitor_closed && dropped < kLingerBytes) {
      if (relay.responses_done && !linger_until) linger_until = runtime::Clock::now() + kLinger;
      const auto timeout = linger_until ? std::chrono::duration_cast<std::chrono::milliseconds>(
                                              *linger_until - runtime::Clock::now())
                                        : relay.settings.timeout;
      if (timeout <= 0ms) break;
      relay.visitor_reads = runtime::Cancellation{};
      auto got = co_await runtime::recv(visitor, buffer,
                                        {.timeout = timeout, .cancellation = &relay.visitor_reads});
      if (got && *got > 0) {
        dropped += *got;
        continue;
      }
      // Cancelled: the responses have ended, so the linger starts now.
      if (!got && got.error() == std::errc::operation_canceled) continue;
      break;
    }
  }
wait_responses:
  while (!relay.responses_done) co_await relay.to_requests.wait();
}

// ---- upstream -> visitor -------------------------------------------------------------------

Task<bool> send_page(Relay& relay, int status, std::string_view detail) {
  const std::string page = http::error_response(status, detail);
  if (relay.settings.totals != nullptr) ++relay.settings.totals->ingress_errors;
  co_return static_cast<bool>(co_await runtime::send_all(relay.visitor.get(), as_bytes(page)));
}

void record(Relay& relay, Pending& pending, int status, std::uint64_t bytes_out,
            std::chrono::microseconds to_head) {
  pending.record.status = status;
  pending.record.bytes_out = bytes_out;
  pending.record.to_head = to_head;
  pending.record.total = since(pending.started);
  if (relay.settings.totals != nullptr) ++relay.settings.totals->ingress_requests;
  if (observe::log_enabled(observe::LogLevel::debug)) {
    observe::log_debug("{}: {} {} {} -> {} ({} B in, {} B out, {} us)", relay.settings.label,
                       pending.record.visitor, pending.record.method,
                       observe::quote_untrusted(pending.record.target, 120), status,
                       pending.record.bytes_in, bytes_out, pending.record.total.count());
  }
  if (relay.settings.log != nullptr) relay.settings.log->push(std::move(pending.record));
}

// Raw bytes upstream -> visitor after a 101: buffer[begin, end) first.
Task<void> pipe_responses(Relay& relay, std::span<std::byte> buffer, std::size_t begin,
                          std::size_t end) {
  if (end > begin &&
      !co_await runtime::send_all(relay.visitor.get(), buffer.subspan(begin, end - begin))) {
    co_return;
  }
  for (;;) {
    auto got = co_await runtime::recv(relay.upstream.get(), buffer);
    if (!got || *got == 0) break;
    if (!co_await runtime::send_all(relay.visitor.get(), buffer.first(*got))) break;
  }
}

Task<void> forward_responses(Relay& relay) {
  std::vector<std::byte> storage(kRelayBuffer);
  std::span<std::byte> buffer(storage);
  std::size_t begin = 0;
  std::size_t end = 0;
  http::ResponseParser parser;
  std::string head_text;
  const int visitor = relay.visitor.get();
  const int upstream = relay.upstream.get();
  bool close = false;
  while (!close) {
    while (relay.pending.empty() && !relay.requests_done) co_await relay.to_responses.wait();
    if (relay.pending.empty()) break;  // every request answered, and no more will come
    Pending& pending = relay.pending.front();
    if (pending.refusal != 0) {
      co_await send_page(relay, pending.refusal, pending.refusal_detail);
      break;
    }
    parser.expect(pending.head_request);
    bool head_seen = false;
    int status = 0;
    std::uint64_t bytes_out = 0;
    std::chrono::microseconds to_head{0};
    bool complete = false;
    bool close_after = false;  // the connection ends with this response
    while (!complete && !close) {
      if (begin == end) {
        begin = end = 0;
        auto got = co_await runtime::recv(upstream, buffer, {.timeout = relay.settings.timeout});
        if (!got || *got == 0) {
          const bool timed_out = !got && got.error() == std::errc::timed_out;
          if (head_seen) {
            // A body read until the upstream closes ends here; anything else was cut.
            if (got && parser.finish()) record(relay, pending, status, bytes_out, to_head);
          } else if (relay.body_refused) {
            co_await send_page(relay, relay.body_status, relay.body_detail);
          } else if (timed_out) {
            co_await send_page(relay, 504,
                               "the tunnel's service did not start its response within " +
                                   std::to_string(relay.settings.timeout.count() / 1000) + " s");
            pending.record.status = 504;
          } else {
            co_await send_page(relay, 502,
                               "the tunnel's service closed the connection without a response "
                               "(is it running?)");
          }
          close = true;
          break;
        }
        end = *got;
      }
      const auto step = parser.feed(buffer.subspan(begin, end - begin));
      switch (step.event) {
        case http::ResponseParser::Event::need_more:
          begin += step.used;
          break;
        case http::ResponseParser::Event::failed:
          if (!head_seen) {
            observe::log_warn("{}: a malformed response from the service: {}", relay.settings.label,
                              parser.error().message);
            co_await send_page(relay, 502, "the tunnel's service sent a malformed response");
          }
          close = true;
          break;
        case http::ResponseParser::Event::head: {
          begin += step.used;
          const http::ResponseHead& head = parser.head();
          head_text.clear();
          if (head.status >= 100 && head.status < 200 && head.status != 101) {
            http::append_forwarded_response(head, false, head_text);
            if (!co_await runtime::send_all(visitor, as_bytes(head_text))) close = true;
            bytes_out += head_text.size();
            break;  // the final response follows
          }
          head_seen = true;
          status = head.status;
          to_head = since(pending.started);
          const bool switching = head.status == 101 && pending.upgrade;
          const bool last =
              !switching && (head.keep_alive == http::KeepAlive::no || !pending.keep_alive);
          http::append_forwarded_response(head, last, head_text);
          if (!co_await runtime::send_all(visitor, as_bytes(head_text))) {
            close = true;
            break;
          }
          bytes_out += head_text.size();
          if (last) close_after = true;
          if (pending.upgrade) {
            relay.upgrade = switching ? Upgrade::switched : Upgrade::declined;
            relay.to_requests.notify();
          }
          if (switching) {
            record(relay, pending, status, bytes_out, to_head);
            relay.pending.pop_front();
            co_await pipe_responses(relay, buffer, begin, end);
            goto finished;
          }
          if (step.ended) {  // no body (HEAD, 204, 304)
            record(relay, pending, status, bytes_out, to_head);
            complete = true;
          }
          break;
        }
        case http::ResponseParser::Event::body:
          if (step.used > 0) {
            if (!co_await runtime::send_all(visitor, buffer.subspan(begin, step.used))) {
              close = true;
              break;
            }
            bytes_out += step.used;
          }
          begin += step.used;
          break;
        case http::ResponseParser::Event::done:
          if (step.used > 0) {
            if (!co_await runtime::send_all(visitor, buffer.subspan(begin, step.used))) {
              close = true;
              break;
            }
            bytes_out += step.used;
          }
          begin += step.used;
          record(relay, pending, status, bytes_out, to_head);
          complete = true;
          break;
      }
    }
    if (complete) {
      relay.pending.pop_front();
      if (close_after) close = true;
    } else {
      close = true;
    }
  }
finished:
  relay.responses_done = true;
  // The visitor reads what was sent, then EOF; the upstream stream ends both ways.
  ::shutdown(visitor, SHUT_WR);
  ::shutdown(upstream, SHUT_RDWR);
  relay.visitor_reads.cancel();  // the request side stops waiting for a next request
  relay.to_requests.notify();
}

// The responses coroutine, with a flag the requests side waits on.
Task<void> run_responses(Relay& relay, bool& ended, Wakeup& ended_wakeup) {
  co_await forward_responses(relay);
  ended = true;
  ended_wakeup.notify();
}

}  // namespace

Task<void> relay_http(net::UniqueFd visitor, net::UniqueFd upstream, std::vector<std::byte> first,
                      HttpRelaySettings settings) {
  Relay relay{std::move(visitor), std::move(upstream), std::move(settings)};
  const int visitor_fd = relay.visitor.get();
  if (relay.settings.live != nullptr) relay.settings.live->insert(visitor_fd);
  bool responses_ended = false;
  Wakeup responses_wakeup;
  runtime::spawn(run_responses(relay, responses_ended, responses_wakeup));
  co_await forward_requests(relay, std::move(first));
  while (!responses_ended) co_await responses_wakeup.wait();
  if (relay.settings.live != nullptr) relay.settings.live->erase(visitor_fd);
}

}  // namespace ringtunnel::server
