// SPDX-License-Identifier: MIT
// libFuzzer target: bytes through every handshake decoder; what decodes re-encodes identically.
#include <cstddef>
#include <cstdint>
#include <span>

#include "protocol/handshake.hpp"
#include "runtime/assert.hpp"

namespace {

using namespace ringtunnel::protocol;

// A malformed message is handshake_malformed, with a message that says why.
void check_error(const std::error_code& error) {
  RT_ASSERT(error);
  RT_ASSERT(reason_of(error) == Reason::handshake_malformed);
  RT_ASSERT(!error.message().empty());
}

// Decodes `body` as a message; if that works, the encoding must give back the same bytes
// (there is one encoding per value) and decode to the same value again.
template <typename Decode>
void check_message(std::span<const std::byte> body, Decode decode) {
  const auto decoded = decode(body);
  if (!decoded.ok()) {
    check_error(decoded.error());
    return;
  }
  const auto encoded = encode(*decoded);
  RT_ASSERT(encoded.ok());
  RT_ASSERT(std::equal(encoded->begin(), encoded->end(), body.begin(), body.end()));
  const auto again = decode(*encoded);
  RT_ASSERT(again.ok() && *again == *decoded);
}

}  // namespace

// NOLINTNEXTLINE(readability-identifier-naming): the entry point libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const std::byte> input(reinterpret_cast<const std::byte*>(data), size);

  check_message(input, decode_client_hello);
  check_message(input, decode_server_hello);
  check_message(input, decode_client_auth);
  check_message(input, decode_auth_result);

  const auto signed_part = server_hello_signed_part(input);
  RT_ASSERT(signed_part.empty() || signed_part.size() == kServerHelloSignedSize);

  // The same bytes as a plaintext handshake stream: `u16 length || body`.
  if (size >= kHandshakeLengthSize) {
    const auto length = handshake_message_length(input.first<kHandshakeLengthSize>());
    if (!length.ok()) {
      check_error(length.error());
    } else if (*length <= size - kHandshakeLengthSize) {
      const auto body = input.subspan(kHandshakeLengthSize, *length);
      const auto framed = frame_handshake_message(body);
      RT_ASSERT(framed.ok());
      RT_ASSERT(std::equal(framed->begin(), framed->end(), input.begin(),
                           input.begin() + static_cast<std::ptrdiff_t>(framed->size())));
      check_message(body, decode_client_hello);
      check_message(body, decode_server_hello);
    }
  }
  return 0;
}
