// SPDX-License-Identifier: MIT
// Writes the seed corpora of tests/fuzz/corpus/ from valid encodings (run once; output committed).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "protocol/handshake.hpp"
#include "protocol/payload.hpp"
#include "runtime/assert.hpp"

namespace {

using namespace ringtunnel::protocol;
using Bytes = std::vector<std::byte>;

void write(const std::filesystem::path& dir, const std::string& name, const Bytes& bytes) {
  std::filesystem::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  RT_ASSERT(out.good());
}

template <typename T>
Bytes body(const T& message) {
  auto encoded = encode(message);
  RT_ASSERT(encoded.ok());
  return *encoded;
}

void handshake_corpus(const std::filesystem::path& dir) {
  ClientHello client_hello;
  client_hello.client_random.fill(std::byte{0x11});
  client_hello.client_ephemeral.fill(std::byte{0x22});
  client_hello.aeads = {Aead::aes_256_gcm, Aead::chacha20_poly1305};
  write(dir, "client_hello", body(client_hello));
  auto framed = frame_handshake_message(body(client_hello));
  RT_ASSERT(framed.ok());
  write(dir, "client_hello_framed", *framed);

  ServerHello server_hello;
  server_hello.server_random.fill(std::byte{0x33});
  server_hello.server_ephemeral.fill(std::byte{0x44});
  server_hello.server_identity.fill(std::byte{0x55});
  server_hello.signature.fill(std::byte{0x66});
  write(dir, "server_hello", body(server_hello));
  write(dir, "server_hello_refusal", body(make_refusal(Reason::aead_unsupported)));

  ClientAuth auth;
  auth.client_identity.fill(std::byte{0x77});
  auth.signature.fill(std::byte{0x88});
  auth.client_name = "laptop";
  write(dir, "client_auth", body(auth));
  auth.token_mac = Bytes32{};
  auth.token_mac->fill(std::byte{0x99});
  write(dir, "client_auth_token", body(auth));

  AuthResult accepted;
  accepted.message = "welcome";
  write(dir, "auth_result_ok", body(accepted));
  AuthResult refused;
  refused.status = Reason::unknown_key;
  refused.message = "not authorized";
  write(dir, "auth_result_refused", body(refused));
}

void frame_corpus(const std::filesystem::path& dir) {
  Bytes stream;
  ByteWriter w(stream);
  RT_ASSERT(append_frame(w, 1, Open{kOpenKindTcp, kDefaultWindow, 443, "example.com", "web"}).ok());
  RT_ASSERT(append_data_frame(w, 1, Bytes(16, std::byte{'d'})).ok());
  RT_ASSERT(append_frame(w, 1, Window{4096}).ok());
  RT_ASSERT(append_frame(w, 1, Fin{}).ok());
  write(dir, "open_data_window_fin", stream);

  Bytes answers;
  ByteWriter a(answers);
  RT_ASSERT(append_frame(a, 1, OpenOk{kDefaultWindow}).ok());
  RT_ASSERT(append_frame(a, 3, OpenRefused{Reason::port_not_allowed, "port 22"}).ok());
  RT_ASSERT(append_frame(a, 5, Reset{Reason::connect_refused}).ok());
  RT_ASSERT(append_frame(a, 2, Open{kOpenKindTcp, 1, 80, "h", ""}).ok());
  write(dir, "open_ok_refused_reset", answers);

  Bytes session;
  ByteWriter s(session);
  RT_ASSERT(append_frame(s, 0, Ping{0x0102030405060708ULL}).ok());
  RT_ASSERT(append_frame(s, 0, Pong{0x0102030405060708ULL}).ok());
  RT_ASSERT(append_frame(s, 0, KeyUpdate{}).ok());
  RT_ASSERT(append_frame(s, 0, GoAway{7, Reason::shutting_down, "restart"}).ok());
  RT_ASSERT(append_frame(s, 0, Close{Reason::ok, "bye"}).ok());
  write(dir, "session_frames", session);

  Bytes record_header = {std::byte{0}, std::byte{0}, std::byte{0}, std::byte{17}};
  write(dir, "record_header_min", record_header);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <tests/fuzz/corpus directory>\n", argv[0]);
    return 2;
  }
  const std::filesystem::path root = argv[1];
  handshake_corpus(root / "handshake_decode_fuzz");
  frame_corpus(root / "frame_reader_fuzz");
  return 0;
}
