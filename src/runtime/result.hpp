// SPDX-License-Identifier: MIT
// Result<T>: a value or a std::error_code, the return type of everything on the data path.
#pragma once

#include <cerrno>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

#include "runtime/assert.hpp"

namespace ringtunnel {

/// An error code built from a positive errno value (io_uring reports -errno; negate first).
inline std::error_code errno_code(int err) noexcept {
  return {err, std::generic_category()};
}

/// Carries either a T or an error. No exceptions: callers test `ok()` / `operator bool`.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(std::error_code error) : state_(std::in_place_index<1>, error) {  // NOLINT
    RT_DCHECK(error);
  }

  bool ok() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  // get_if after the assertion: no bad_variant_access path, so noexcept callers stay noexcept.
  T& value() & {
    RT_ASSERT(ok());
    return *std::get_if<0>(&state_);
  }
  const T& value() const& {
    RT_ASSERT(ok());
    return *std::get_if<0>(&state_);
  }
  T&& value() && {
    RT_ASSERT(ok());
    return std::move(*std::get_if<0>(&state_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

  std::error_code error() const noexcept {
    return ok() ? std::error_code{} : *std::get_if<1>(&state_);
  }

 private:
  std::variant<T, std::error_code> state_;
};

/// Result<void>: success or an error code.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(std::error_code error) : error_(error) {}  // NOLINT: implicit by design

  bool ok() const noexcept { return !error_; }
  explicit operator bool() const noexcept { return ok(); }
  std::error_code error() const noexcept { return error_; }

 private:
  std::error_code error_;
};

/// Turns a syscall-style return (>= 0 value, or -errno) into a Result.
inline Result<int> from_syscall(int rc) {
  if (rc < 0) return errno_code(-rc);
  return rc;
}

}  // namespace ringtunnel
