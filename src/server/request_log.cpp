// SPDX-License-Identifier: MIT
// RequestLog: a ring of RequestRecords.
#include "server/request_log.hpp"

#include <utility>

namespace ringtunnel::server {

RequestLog::RequestLog(std::size_t capacity) : ring_(capacity == 0 ? 1 : capacity) {}

void RequestLog::push(RequestRecord record) {
  ring_[next_] = std::move(record);
  next_ = (next_ + 1) % ring_.size();
  ++total_;
}

std::vector<RequestRecord> RequestLog::snapshot() const {
  std::vector<RequestRecord> out;
  const std::size_t held = total_ < ring_.size() ? static_cast<std::size_t>(total_) : ring_.size();
  out.reserve(held);
  const std::size_t first = (next_ + ring_.size() - held) % ring_.size();
  for (std::size_t i = 0; i < held; ++i) out.push_back(ring_[(first + i) % ring_.size()]);
  return out;
}

}  // namespace ringtunnel::server
