// SPDX-License-Identifier: MIT
// HostTrust: known_hosts lookup, the flags, and the terminal prompt.
#include "client/host_trust.hpp"

#include <cstdio>
#include <iostream>

#include "observe/log.hpp"
#include "protocol/reason.hpp"

namespace ringtunnel::client {
namespace {

std::error_code refused() { return protocol::make_error_code(protocol::Reason::identity_changed); }

}  // namespace

Result<void> HostTrust::pin(const std::string& fingerprint, std::string* message) {
  std::string error;
  if (auto added = known_hosts_.add(options_.host_port, fingerprint, &error); !added) {
    *message = error;
    return added.error();
  }
  return {};
}

bool HostTrust::ask(const std::string& fingerprint) {
  std::fprintf(stderr,
               "The authenticity of server '%s' can't be established.\n"
               "Its identity key fingerprint is %s.\n"
               "Compare it with what the server printed at start-up.\n"
               "Trust this server and continue (yes/no)? ",
               options_.host_port.c_str(), fingerprint.c_str());
  std::fflush(stderr);
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  return answer == "yes" || answer == "y";
}

Result<void> HostTrust::decide(const std::string& fingerprint, std::string* message,
                               bool* pinned_now) {
  *pinned_now = false;
  std::string error;
  auto check = known_hosts_.check(options_.host_port, fingerprint, &error);
  if (!check) {
    *message = error;
    return check.error();
  }
  using Status = crypto::HostCheck::Status;
  if (check->status == Status::trusted) return {};
  if (check->status == Status::changed) {
    *message = crypto::identity_changed_warning(options_.host_port, *check, fingerprint,
                                                known_hosts_.path());
    return refused();
  }
  // Unknown: pinned only on the user's say-so.
  if (options_.expected_fingerprint) {
    if (*options_.expected_fingerprint != fingerprint) {
      *message = "server " + options_.host_port + " presents " + fingerprint +
                 ", not the " + *options_.expected_fingerprint +
                 " given with --server-fingerprint; connection refused";
      return refused();
    }
  } else if (options_.accept_new_host) {
    observe::log_warn("server {} is new: trusting {} (--accept-new-host) and pinning it in {}",
                      options_.host_port, fingerprint, known_hosts_.path());
  } else if (options_.interactive) {
    if (!ask(fingerprint)) {
      *message = "server " + options_.host_port + " was not trusted; connection refused";
      return refused();
    }
  } else {
    *message = "server " + options_.host_port + " is not in " + known_hosts_.path() +
               " (its fingerprint is " + fingerprint +
               "); to trust it, check that fingerprint against the server's start-up log and "
               "run again with --server-fingerprint " + fingerprint +
               ", or with --accept-new-host to trust it on first use";
    return refused();
  }
  if (auto pinned = pin(fingerprint, message); !pinned) return pinned;
  *pinned_now = true;
  observe::log_info("pinned server {} as {} in {}", options_.host_port, fingerprint,
                    known_hosts_.path());
  return {};
}

}  // namespace ringtunnel::client
