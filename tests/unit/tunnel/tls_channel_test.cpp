// SPDX-License-Identifier: MIT
// TlsChannel: frames cut across TLS records come out whole and in place; tampering and
// oversized frames are final errors; a key update is invisible to the peer.
#include "tunnel/tls_channel.hpp"

#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "crypto/ed25519.hpp"
#include "crypto/tls/tls.hpp"
#include "protocol/frame.hpp"
#include "protocol/reason.hpp"

namespace ringtunnel::tunnel {
namespace {

namespace tls = crypto::tls;
using Clock = Channel::Clock;

// A server key and its self-signed certificate in a temp dir, removed at the end.
struct Certificate {
  Certificate() {
    char pattern[] = "/tmp/rt-tls-channel-XXXXXX";
    REQUIRE(::mkdtemp(pattern) != nullptr);
    dir = pattern;
    key = dir + "/server_key";
    cert = dir + "/tls_cert.pem";
    REQUIRE(crypto::save_private_key(crypto::Ed25519PrivateKey::generate(), key));
    std::string error;
    REQUIRE(tls::ensure_self_signed(key, cert, &error));
  }
  ~Certificate() { std::filesystem::remove_all(dir); }
  std::string dir, key, cert;
};

// Whose record layer each side runs after the handshake: ringtunnel's RecordLayer, or
// OpenSSL's own on one side, which checks ours against an implementation we did not write.
enum class Records { ours, library_sender, library_receiver };

// A client and a server TlsChannel whose handshake ran in memory; the client sends unless
// `server_sends`.
struct Pair {
  explicit Pair(Records records = Records::ours, bool server_sends = false) {
    std::string error;
    tls::ServerConfig server_config{certificate.cert, certificate.key, {}};
    const bool server_library =
        records == (server_sends ? Records::library_sender : Records::library_receiver);
    const bool client_library =
        records == (server_sends ? Records::library_receiver : Records::library_sender);
    server_config.library_records = server_library;
    tls::ClientConfig client_config;  // Verify::pin
    client_config.library_records = client_library;
    auto server_context = tls::TlsContext::server(server_config, &error);
    auto client_context = tls::TlsContext::client(client_config, &error);
    REQUIRE(server_context);
    REQUIRE(client_context);
    auto server = (*server_context)->new_connection();
    auto client = (*client_context)->new_connection();
    REQUIRE(server);
    REQUIRE(client);
    std::vector<std::byte> to_server, to_client;
    bool client_done = false, server_done = false;
    for (int round = 0; round < 10 && !(client_done && server_done); ++round) {
      std::vector<std::byte> out;
      auto step = (*client)->handshake(to_client, &out);
      REQUIRE(step);
      to_client.erase(to_client.begin(), to_client.begin() + step->consumed);
      client_done = step->done;
      to_server.insert(to_server.end(), out.begin(), out.end());
      out.clear();
      step = (*server)->handshake(to_server, &out);
      REQUIRE(step);
      to_server.erase(to_server.begin(), to_server.begin() + step->consumed);
      server_done = step->done;
      to_client.insert(to_client.end(), out.begin(), out.end());
    }
    REQUIRE(client_done);
    REQUIRE(server_done);
    REQUIRE(to_server.empty());
    CHECK((*client)->peer().pin.substr(0, 7) == "SHA256:");
#ifdef RT_CRYPTO_OPENSSL
    // OpenSSL hands over its secrets; the wolfSSL build keeps its library's records always.
    CHECK((*client)->records_by_ringtunnel() == !client_library);
    CHECK((*server)->records_by_ringtunnel() == !server_library);
#else
    CHECK_FALSE((*client)->records_by_ringtunnel());
    CHECK_FALSE((*server)->records_by_ringtunnel());
#endif
    sender =
        std::make_unique<TlsChannel>(std::move(server_sends ? *server : *client), Clock::now());
    receiver =
        std::make_unique<TlsChannel>(std::move(server_sends ? *client : *server), Clock::now());
    contexts[0] = std::move(*server_context);
    contexts[1] = std::move(*client_context);
  }

  // Seals `pieces` with the sender; returns the wire bytes.
  std::vector<std::byte> seal(std::span<const ConstBytes> pieces,
                              Clock::time_point now = Clock::now()) {
    std::size_t total = 0;
    for (const ConstBytes& piece : pieces) total += piece.size();
    std::vector<std::byte> wire(sender->sealed_size(total));
    auto sealed = sender->seal(pieces, wire, now);
    REQUIRE(sealed);
    wire.resize(*sealed);
    return wire;
  }

  Certificate certificate;
  std::array<std::unique_ptr<tls::TlsContext>, 2> contexts;
  std::unique_ptr<TlsChannel> sender;
  std::unique_ptr<TlsChannel> receiver;
};

// A DATA frame: header and payload, back to back.
std::vector<std::byte> data_frame(std::uint32_t stream, std::size_t size, std::mt19937& random) {
  std::vector<std::byte> frame(protocol::kFrameHeaderSize + size);
  protocol::write_frame_header(std::span(frame).first<protocol::kFrameHeaderSize>(),
                               protocol::FrameType::data, 0, stream,
                               static_cast<std::uint32_t>(size));
  for (std::size_t i = protocol::kFrameHeaderSize; i < frame.size(); ++i) {
    frame[i] = static_cast<std::byte>(random());
  }
  return frame;
}

// Feeds `wire` to the receiver in chunks of random size through a ring-like buffer whose
// unconsumed bytes never move (as the Session's mirrored ring), and returns what open() gave.
std::vector<std::byte> receive(TlsChannel& receiver, const std::vector<std::byte>& wire,
                               std::mt19937& random, std::size_t max_chunk) {
  std::vector<std::byte> ring(wire.size() + 4096);
  std::size_t start = 0, end = 0, fed = 0;
  std::vector<std::byte> frames;
  while (fed < wire.size()) {
    const std::size_t chunk = std::min<std::size_t>(wire.size() - fed, 1 + random() % max_chunk);
    std::copy(wire.begin() + fed, wire.begin() + fed + chunk, ring.begin() + end);
    fed += chunk;
    end += chunk;
    for (;;) {
      auto opened = receiver.open(std::span(ring).subspan(start, end - start));
      REQUIRE(opened);
      if (opened->consumed == 0) break;
      CHECK(opened->frames.data() == ring.data() + start);  // in place, at the front
      frames.insert(frames.end(), opened->frames.begin(), opened->frames.end());
      start += opened->consumed;
    }
    // What the channel keeps unconsumed stays bounded, or a long session fills its ring.
    REQUIRE(end - start <= receiver.max_unit() + max_chunk);
  }
  return frames;
}

}  // namespace

TEST_CASE("TlsChannel yields frames cut across records whole, in place, in order",
          "[tunnel][tls]") {
  const Records records =
      GENERATE(Records::ours, Records::library_sender, Records::library_receiver);
  const bool server_sends = GENERATE(false, true);
  CAPTURE(static_cast<int>(records), server_sends);
  Pair pair(records, server_sends);
  std::mt19937 random(7);
  std::vector<std::byte> sent;
  std::vector<std::byte> wire;
  // Sizes around the 16 KiB TLS record and the 64 KiB frame limit, and tiny ones.
  for (std::size_t size : {0, 1, 9, 100, 16373, 16374, 16384, 40000, 65536, 65536, 3, 65000}) {
    const auto frame = data_frame(3, size, random);
    const ConstBytes pieces[] = {std::span(frame).first(protocol::kFrameHeaderSize),
                                 std::span(frame).subspan(protocol::kFrameHeaderSize)};
    const auto sealed = pair.seal(size == 0 ? std::span(pieces).first(1) : std::span(pieces));
    sent.insert(sent.end(), frame.begin(), frame.end());
    wire.insert(wire.end(), sealed.begin(), sealed.end());
  }
  for (std::size_t max_chunk : {std::size_t{1} << 20, std::size_t{7000}, std::size_t{13}}) {
    SECTION("chunks of up to " + std::to_string(max_chunk) + " bytes") {
      CHECK(receive(*pair.receiver, wire, random, max_chunk) == sent);
    }
  }
}

TEST_CASE("TlsChannel keeps what it holds back bounded over thousands of records",
          "[tunnel][tls]") {
  Pair pair;
  std::mt19937 random(17);
  std::vector<std::byte> sent, wire;
  auto add = [&](std::size_t payload) {
    const auto frame = data_frame(9, payload, random);
    const ConstBytes pieces[] = {frame};
    const auto sealed = pair.seal(pieces);
    sent.insert(sent.end(), frame.begin(), frame.end());
    wire.insert(wire.end(), sealed.begin(), sealed.end());
  };
  SECTION("12,000 small records, frames whole in each") {
    for (int i = 0; i < 12000; ++i) add(20);
    CHECK(receive(*pair.receiver, wire, random, 1000) == sent);
  }
  SECTION("1,600 frames cut across two records each, read in small pieces") {
    for (int i = 0; i < 1600; ++i) add(16380);  // 16,390 bytes: a full record and 6 bytes
    CHECK(receive(*pair.receiver, wire, random, 2000) == sent);
  }
}

TEST_CASE("TlsChannel: one flipped bit is decrypt_failed, final", "[tunnel][tls]") {
  const Records records = GENERATE(Records::ours, Records::library_receiver);
  Pair pair(records);
  std::mt19937 random(11);
  const auto frame = data_frame(5, 1000, random);
  const ConstBytes pieces[] = {frame};
  auto wire = pair.seal(pieces);
  wire[wire.size() / 2] ^= std::byte{0x10};
  auto opened = pair.receiver->open(wire);
  REQUIRE_FALSE(opened);
  CHECK(opened.error() == protocol::Reason::decrypt_failed);
}

TEST_CASE("TlsChannel refuses a frame header announcing more than a frame may carry",
          "[tunnel][tls]") {
  Pair pair;
  std::array<std::byte, protocol::kFrameHeaderSize> header{};
  protocol::write_frame_header(header, protocol::FrameType::data, 0, 1,
                               protocol::kMaxFramePayload + 1);
  const ConstBytes pieces[] = {header};
  auto wire = pair.seal(pieces);
  auto opened = pair.receiver->open(wire);
  REQUIRE_FALSE(opened);
  CHECK(opened.error() == protocol::Reason::frame_too_large);
}

TEST_CASE("TlsChannel updates its key after an hour; the peer reads on", "[tunnel][tls]") {
  const Records records =
      GENERATE(Records::ours, Records::library_sender, Records::library_receiver);
  const bool server_sends = GENERATE(false, true);
  CAPTURE(static_cast<int>(records), server_sends);
  Pair pair(records, server_sends);
  std::mt19937 random(13);
  std::vector<std::byte> sent, wire;
  for (int hour = 0; hour < 3; ++hour) {
    const auto frame = data_frame(7, 500, random);
    const ConstBytes pieces[] = {frame};
    const auto sealed =
        pair.seal(pieces, Clock::now() + std::chrono::hours(hour) + std::chrono::minutes(1));
    if (hour > 0) CHECK(pair.sender->records_on_key() == 1);  // counted afresh after the update
    sent.insert(sent.end(), frame.begin(), frame.end());
    wire.insert(wire.end(), sealed.begin(), sealed.end());
  }
  CHECK(receive(*pair.receiver, wire, random, 100) == sent);
  CHECK_FALSE(pair.receiver->peer_key_update());  // KEY_UPDATE frames are not TLS's
}

}  // namespace ringtunnel::tunnel
