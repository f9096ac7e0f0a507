// SPDX-License-Identifier: MIT
// RequestLog: the last HTTP requests through the ingress on one core, in a fixed ring.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ringtunnel::server {

/// One request through the HTTP ingress, as the dashboard lists it.
struct RequestRecord {
  std::chrono::system_clock::time_point started;
  std::string tunnel;  ///< the name it was routed to
  std::string method;
  std::string host;             ///< the Host as sent (cut to 256 bytes)
  std::string target;           ///< the request target as sent (cut to 1024 bytes)
  std::string visitor;          ///< "203.0.113.9:51000"
  int status = 0;               ///< the response's, or the ingress's own (502, 504...)
  std::uint64_t bytes_in = 0;   ///< forwarded to the service: the head as rewritten, the body
  std::uint64_t bytes_out = 0;  ///< forwarded to the visitor: head and body
  std::chrono::microseconds to_head{0};  ///< until the response head arrived
  std::chrono::microseconds total{0};    ///< until the response was complete
};

/// The last `capacity` records of one core: push() overwrites the oldest, so memory stays
/// fixed however many requests pass. Threads: the owning reactor only (a snapshot for other
/// cores is taken there, with runtime::call_on).
class RequestLog {
 public:
  static constexpr std::size_t kDefaultCapacity = 512;
  explicit RequestLog(std::size_t capacity = kDefaultCapacity);

  void push(RequestRecord record);
  /// Oldest first.
  std::vector<RequestRecord> snapshot() const;
  /// Records pushed since the start (also those overwritten).
  std::uint64_t total() const noexcept { return total_; }
  std::size_t capacity() const noexcept { return ring_.size(); }

 private:
  std::vector<RequestRecord> ring_;
  std::size_t next_ = 0;
  std::uint64_t total_ = 0;
};

}  // namespace ringtunnel::server
