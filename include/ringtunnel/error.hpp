// SPDX-License-Identifier: MIT
// Outcome: what start() and similar calls return to an embedder: success, or one sentence.
#pragma once

#include <string>
#include <utility>

namespace ringtunnel {

/// Success, or a failure with one sentence that says what went wrong and, where it can, what
/// to do (the same sentence the command-line tool would print).
class [[nodiscard]] Outcome {
 public:
  Outcome() = default;
  static Outcome failure(std::string message) {
    Outcome outcome;
    outcome.message_ = message.empty() ? std::string("failed") : std::move(message);
    return outcome;
  }
  bool ok() const noexcept { return message_.empty(); }
  explicit operator bool() const noexcept { return ok(); }
  /// Empty on success.
  const std::string& message() const noexcept { return message_; }

 private:
  std::string message_;
};

}  // namespace ringtunnel
