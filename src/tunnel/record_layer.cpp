// SPDX-License-Identifier: MIT
// RecordSealer/RecordOpener over crypto::AeadKey: length header as AAD, implicit counters.
#include "tunnel/record_layer.hpp"

#include <cerrno>
#include <utility>

#include "protocol/reason.hpp"

namespace ringtunnel::tunnel {
namespace {

std::error_code decrypt_failed() noexcept {
  return protocol::make_error_code(protocol::Reason::decrypt_failed);
}

// The AEAD key of a traffic secret: key(secret).
Result<crypto::AeadKey> traffic_key(crypto::AeadAlgorithm algorithm, SecretView secret) {
  const Secret key = record_key(secret);
  return crypto::AeadKey::create(algorithm, key.span());
}

// A key update, the same in both directions: secret = next(secret), key = key(secret).
// Nothing changes unless the new key could be made.
Result<void> ratchet(crypto::AeadAlgorithm algorithm, Secret& secret, crypto::AeadKey& key) {
  Secret next = next_secret(secret.span());
  auto next_key = traffic_key(algorithm, next.span());
  if (!next_key) return next_key.error();
  secret = std::move(next);
  key = std::move(next_key).value();
  return {};
}

}  // namespace

Result<std::size_t> seal_record(crypto::AeadKey& key, std::uint64_t counter,
                                std::span<const std::byte> plaintext,
                                std::span<std::byte> out) noexcept {
  if (plaintext.empty()) return errno_code(EINVAL);
  if (plaintext.size() > protocol::kMaxRecordPlaintext) return errno_code(EMSGSIZE);
  const std::size_t size = RecordSealer::sealed_size(plaintext.size());
  if (out.size() < size) return errno_code(EINVAL);
  const auto header = out.first<protocol::kRecordHeaderSize>();
  protocol::write_record_header(header,
                                static_cast<std::uint32_t>(size - protocol::kRecordHeaderSize));
  // AeadKey refuses a plaintext that overlaps the header or is shifted against the body.
  auto sealed = key.seal(counter, header, plaintext, out.subspan(protocol::kRecordHeaderSize));
  if (!sealed) return sealed.error();
  return size;
}

Result<std::size_t> seal_record_gather(crypto::AeadKey& key, std::uint64_t counter,
                                       std::span<const std::span<const std::byte>> pieces,
                                       std::span<std::byte> out) noexcept {
  std::size_t plaintext = 0;
  for (const auto piece : pieces) plaintext += piece.size();
  if (plaintext == 0) return errno_code(EINVAL);
  if (plaintext > protocol::kMaxRecordPlaintext) return errno_code(EMSGSIZE);
  const std::size_t size = RecordSealer::sealed_size(plaintext);
  if (out.size() < size) return errno_code(EINVAL);
  const auto header = out.first<protocol::kRecordHeaderSize>();
  protocol::write_record_header(header,
                                static_cast<std::uint32_t>(size - protocol::kRecordHeaderSize));
  auto sealed = key.seal_gather(counter, header, pieces, out.subspan(protocol::kRecordHeaderSize));
  if (!sealed) return sealed.error();
  return size;
}

Result<std::size_t> open_record(crypto::AeadKey& key, std::uint64_t counter,
                                std::span<std::byte> record) noexcept {
  if (record.size() < protocol::kRecordHeaderSize) return decrypt_failed();
  const auto header = record.first<protocol::kRecordHeaderSize>();
  const auto length = protocol::parse_record_length(header);
  if (!length || *length != record.size() - protocol::kRecordHeaderSize) return decrypt_failed();
  const auto body = record.subspan(protocol::kRecordHeaderSize);
  auto opened = key.open(counter, header, body, body);
  if (!opened) return decrypt_failed();
  return *opened;
}

// ---- RecordSealer -------------------------------------------------------------------------

RecordSealer::RecordSealer(crypto::AeadAlgorithm algorithm, Secret secret, crypto::AeadKey key,
                           Clock::time_point now) noexcept
    : algorithm_(algorithm), secret_(std::move(secret)), key_(std::move(key)), key_started_(now) {}

Result<RecordSealer> RecordSealer::create(crypto::AeadAlgorithm algorithm,
                                          SecretView traffic_secret, Clock::time_point now) {
  auto key = traffic_key(algorithm, traffic_secret);
  if (!key) return key.error();
  return RecordSealer(algorithm, Secret(traffic_secret), std::move(key).value(), now);
}

// The counter discipline shared by seal and seal_gather: refuse past the last counter, make
// a library failure sticky, advance only on success.
template <typename SealFn>
Result<std::size_t> RecordSealer::seal_counted(SealFn&& seal_fn) noexcept {
  if (failed_) return failed_;
  if (counter_ > protocol::kMaxRecordCounter) {
    failed_ = errno_code(EOVERFLOW);
    return failed_;
  }
  Result<std::size_t> sealed = seal_fn(key_, counter_);
  if (!sealed) {
    // A library failure may have half-used the nonce: never seal under this key again.
    if (sealed.error() == std::errc::state_not_recoverable) failed_ = sealed.error();
    return sealed.error();
  }
  ++counter_;
  return *sealed;
}

Result<std::size_t> RecordSealer::seal(std::span<const std::byte> plaintext,
                                       std::span<std::byte> out) noexcept {
  return seal_counted([&](crypto::AeadKey& key, std::uint64_t counter) {
    return seal_record(key, counter, plaintext, out);
  });
}

Result<std::size_t> RecordSealer::seal_gather(std::span<const std::span<const std::byte>> pieces,
                                              std::span<std::byte> out) noexcept {
  return seal_counted([&](crypto::AeadKey& key, std::uint64_t counter) {
    return seal_record_gather(key, counter, pieces, out);
  });
}

bool RecordSealer::key_update_due(Clock::time_point now) const noexcept {
  return counter_ >= protocol::kKeyUpdateRecords - 1 ||
         now - key_started_ >= protocol::kKeyUpdateInterval;
}

Result<void> RecordSealer::update_key(Clock::time_point now) noexcept {
  if (failed_) return failed_;
  if (auto updated = ratchet(algorithm_, secret_, key_); !updated) {
    failed_ = updated.error();
    return failed_;
  }
  counter_ = 0;
  key_started_ = now;
  return {};
}

// ---- RecordOpener -------------------------------------------------------------------------

RecordOpener::RecordOpener(crypto::AeadAlgorithm algorithm, Secret secret,
                           crypto::AeadKey key) noexcept
    : algorithm_(algorithm), secret_(std::move(secret)), key_(std::move(key)) {}

Result<RecordOpener> RecordOpener::create(crypto::AeadAlgorithm algorithm,
                                          SecretView traffic_secret) {
  auto key = traffic_key(algorithm, traffic_secret);
  if (!key) return key.error();
  return RecordOpener(algorithm, Secret(traffic_secret), std::move(key).value());
}

Result<std::size_t> RecordOpener::open(std::span<std::byte> record) noexcept {
  if (failed_) return failed_;
  // The peer's sealer aborts before this counter; a record claiming it is forged.
  auto opened = counter_ > protocol::kMaxRecordCounter ? Result<std::size_t>(decrypt_failed())
                                                       : open_record(key_, counter_, record);
  if (!opened) {
    failed_ = opened.error();
    return failed_;
  }
  ++counter_;
  return *opened;
}

Result<void> RecordOpener::update_key() noexcept {
  if (failed_) return failed_;
  if (auto updated = ratchet(algorithm_, secret_, key_); !updated) {
    failed_ = updated.error();
    return failed_;
  }
  counter_ = 0;
  return {};
}

}  // namespace ringtunnel::tunnel
