// SPDX-License-Identifier: MIT
// libFuzzer target: a record plaintext through FrameReader, every payload decoder and back.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "protocol/frame.hpp"
#include "protocol/payload.hpp"
#include "protocol/record.hpp"
#include "runtime/assert.hpp"

namespace {

using namespace ringtunnel::protocol;

// Every error must carry a reason a peer could be told, and print.
void check_error(const std::error_code& error) {
  RT_ASSERT(error);
  const Reason reason = reason_of(error);
  RT_ASSERT(reason == Reason::protocol_error || reason == Reason::frame_too_large ||
            reason == Reason::flow_control);
  RT_ASSERT(!error.message().empty());
}

// Decodes a frame's payload as P; if that works, re-encodes the frame, checks the bytes are
// the original ones (the encoding is canonical), and that they decode to the same value.
template <typename P>
void check_payload(const FrameView& frame, std::span<const std::byte> original) {
  const auto decoded = decode_payload<P>(frame.payload);
  if (!decoded.ok()) {
    check_error(decoded.error());
    return;
  }
  std::vector<std::byte> encoded;
  ByteWriter writer(encoded);
  const auto written = append_frame(writer, frame.stream_id, *decoded);
  RT_ASSERT(written.ok());
  RT_ASSERT(encoded.size() == kFrameHeaderSize + payload_size(*decoded));
  RT_ASSERT(std::equal(encoded.begin(), encoded.end(), original.begin(), original.end()));

  FrameReader again(encoded);
  auto next = again.next();
  RT_ASSERT(next.ok() && next->has_value());
  const auto redecoded = decode_payload<P>((*next)->payload);
  RT_ASSERT(redecoded.ok() && *redecoded == *decoded);
}

void check_data(const FrameView& frame, std::span<const std::byte> original) {
  std::vector<std::byte> encoded;
  ByteWriter writer(encoded);
  RT_ASSERT(append_data_frame(writer, frame.stream_id, frame.payload).ok());
  RT_ASSERT(std::equal(encoded.begin(), encoded.end(), original.begin(), original.end()));
}

void check_frame(const FrameView& frame, std::span<const std::byte> original) {
  switch (frame.type) {
    case FrameType::open:
      return check_payload<Open>(frame, original);
    case FrameType::open_ok:
      return check_payload<OpenOk>(frame, original);
    case FrameType::open_refused:
      return check_payload<OpenRefused>(frame, original);
    case FrameType::data:
      return check_data(frame, original);
    case FrameType::window:
      return check_payload<Window>(frame, original);
    case FrameType::fin:
      return check_payload<Fin>(frame, original);
    case FrameType::reset:
      return check_payload<Reset>(frame, original);
    case FrameType::ping:
      return check_payload<Ping>(frame, original);
    case FrameType::pong:
      return check_payload<Pong>(frame, original);
    case FrameType::goaway:
      return check_payload<GoAway>(frame, original);
    case FrameType::key_update:
      return check_payload<KeyUpdate>(frame, original);
    case FrameType::close:
      return check_payload<Close>(frame, original);
  }
  RT_ASSERT(false && "FrameReader returned an unknown type");
}

}  // namespace

// NOLINTNEXTLINE(readability-identifier-naming): the entry point libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const std::byte> input(reinterpret_cast<const std::byte*>(data), size);

  if (size >= kRecordHeaderSize) {
    const auto length = parse_record_length(input.first<kRecordHeaderSize>());
    if (length.ok()) {
      RT_ASSERT(*length >= kMinRecordCiphertext && *length <= kMaxRecordCiphertext);
    } else {
      check_error(length.error());
    }
  }

  StreamIdTracker client_streams(Role::client);
  StreamIdTracker server_streams(Role::server);
  FrameReader reader(input);
  std::size_t consumed = 0;
  for (;;) {
    auto next = reader.next();
    if (!next.ok()) {
      check_error(next.error());
      break;
    }
    if (!next->has_value()) {
      RT_ASSERT(consumed == size);
      break;
    }
    const FrameView frame = **next;
    RT_ASSERT(frame.flags == 0 && frame.payload.size() <= kMaxFramePayload);
    RT_ASSERT(frame.payload.data() == input.data() + consumed + kFrameHeaderSize);
    const auto original = input.subspan(consumed, kFrameHeaderSize + frame.payload.size());
    consumed += original.size();
    RT_ASSERT(reader.remaining() == size - consumed);
    check_frame(frame, original);
    if (frame.type == FrameType::open) {
      StreamIdTracker& tracker =
          stream_opener(frame.stream_id) == Role::client ? client_streams : server_streams;
      const uint32_t before = tracker.last();
      const auto opened = tracker.on_open(frame.stream_id);
      RT_ASSERT(opened.ok() == (frame.stream_id > before));
      if (!opened.ok()) check_error(opened.error());
    }
  }
  return 0;
}
