// SPDX-License-Identifier: MIT
// Admission decisions: authorized_keys, token enrolment, --trust-first-client, max clients.
#include "server/admission.hpp"

#include "crypto/fingerprint.hpp"
#include "observe/log.hpp"

namespace ringtunnel::server {
namespace {

using protocol::Reason;

// The failure map forgets addresses beyond this many (oldest first), so a flood of sources
// cannot grow it without bound.
constexpr std::size_t kMaxTrackedAddresses = 65536;

}  // namespace

std::string host_of(const net::SocketAddress& address) {
  std::string text = address.to_string();
  const auto colon = text.rfind(':');
  if (colon != std::string::npos) text.resize(colon);
  return text;
}

Admission::Admission(crypto::AuthorizedKeys keys, AdmissionOptions options)
    : keys_(std::move(keys)), options_(std::move(options)) {}

std::deque<Admission::Clock::time_point>& Admission::failures_of(const std::string& host,
                                                                  Clock::time_point now) {
  if (failures_.size() >= kMaxTrackedAddresses && !failures_.contains(host)) {
    // Drop every address whose failures have all expired; if none, drop one at random-ish.
    std::erase_if(failures_, [&](const auto& entry) {
      return entry.second.empty() || now - entry.second.back() > options_.failure_interval;
    });
    if (failures_.size() >= kMaxTrackedAddresses) failures_.erase(failures_.begin());
  }
  auto& list = failures_[host];
  while (!list.empty() && now - list.front() > options_.failure_interval) list.pop_front();
  return list;
}

Reason Admission::begin_handshake(const net::SocketAddress& from, Clock::time_point now) {
  if (failures_of(host_of(from), now).size() >= options_.max_failures) return Reason::rate_limited;
  if (pending_ >= options_.max_pending) return Reason::server_busy;
  ++pending_;
  return Reason::ok;
}

void Admission::end_handshake(const net::SocketAddress& from, bool failed, Clock::time_point now) {
  if (pending_ > 0) --pending_;
  if (!failed) return;
  auto& list = failures_of(host_of(from), now);
  list.push_back(now);
  while (list.size() > options_.max_failures) list.pop_front();
}

tunnel::Admission Admission::refuse(Reason reason, std::string message) const {
  tunnel::Admission verdict;
  verdict.reason = reason;
  verdict.message = std::move(message);
  return verdict;
}

tunnel::Admission Admission::accept(const crypto::PublicKey& key) {
  ++active_[key];
  tunnel::Admission verdict;
  verdict.params = options_.params;
  return verdict;
}

std::optional<tunnel::Admission> Admission::enrol(const tunnel::ClientClaim& claim,
                                                  const net::SocketAddress& from,
                                                  const char* how) {
  std::string error;
  const std::string comment = (claim.client_name.empty() ? "client" : claim.client_name) +
                              " enrolled from " + host_of(from);
  if (auto added = keys_.add(claim.client_identity, comment, &error); !added) {
    observe::log_error("cannot enrol client {}: {}", claim.client_fingerprint, error);
    return refuse(Reason::internal_error, "the server could not record your key");
  }
  observe::log_info("enrolled client {} ({}) from {} {}; it is in {}", claim.client_fingerprint,
                    claim.client_name, from.to_string(), how, keys_.path());
  return std::nullopt;
}

tunnel::Admission Admission::decide(const tunnel::ClientClaim& claim,
                                    const net::SocketAddress& from) {
  const crypto::PublicKey& key = claim.client_identity;
  // A client certificate that chained to --tls-client-ca is a credential of its own.
  const bool known = keys_.contains(key) || claim.certificate_verified;
  const bool enrolling =
      !known && (claim.token_valid || (options_.trust_first_client && keys_.empty()));
  if ((known || enrolling) && !active_.contains(key) && active_.size() >= options_.max_clients) {
    return refuse(Reason::server_full, "the server already has its maximum of " +
                                           std::to_string(options_.max_clients) + " clients");
  }
  if (!known) {
    if (claim.token_valid) {
      if (auto failed = enrol(claim, from, "with the enrolment token")) return *failed;
    } else if (options_.trust_first_client && keys_.empty()) {
      if (auto failed = enrol(claim, from, "as the first client (--trust-first-client)")) {
        return *failed;
      }
    } else if (claim.token_presented) {
      return refuse(Reason::bad_token, "the token is not this server's enrolment token");
    } else {
      return refuse(Reason::unknown_key,
                    "key " + claim.client_fingerprint +
                        " is not authorized on this server; enrol it with the server's token "
                        "(--token)");
    }
  }
  if (claim.certificate_verified) certified_.insert(key);
  return accept(key);
}

std::vector<crypto::PublicKey> Admission::replace_keys(crypto::AuthorizedKeys keys) {
  keys_ = std::move(keys);
  std::vector<crypto::PublicKey> revoked;
  for (const auto& [key, sessions] : active_) {
    if (!keys_.contains(key) && !certified_.contains(key)) revoked.push_back(key);
  }
  return revoked;
}

void Admission::session_ended(const crypto::PublicKey& key) {
  auto it = active_.find(key);
  if (it == active_.end()) return;
  if (--it->second == 0) {
    active_.erase(it);
    certified_.erase(key);
  }
}

}  // namespace ringtunnel::server
