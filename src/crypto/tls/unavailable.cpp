// SPDX-License-Identifier: MIT
// The TLS interface for a backend without its TLS implementation yet: every call says so.
#include <cerrno>

#include "crypto/tls/tls.hpp"

namespace ringtunnel::crypto::tls {
namespace {

constexpr const char* kMissing =
    "this build's crypto backend has no TLS transport; use --transport native or a build "
    "configured with -Dcrypto=openssl";

}  // namespace

struct TlsContext::Impl {};
struct TlsConnection::Impl {};

TlsContext::TlsContext(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
TlsContext::~TlsContext() = default;
TlsConnection::TlsConnection(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
TlsConnection::~TlsConnection() = default;

Result<std::unique_ptr<TlsContext>> TlsContext::server(const ServerConfig&, std::string* error) {
  if (error) *error = kMissing;
  return errno_code(EOPNOTSUPP);
}
Result<std::unique_ptr<TlsContext>> TlsContext::client(const ClientConfig&, std::string* error) {
  if (error) *error = kMissing;
  return errno_code(EOPNOTSUPP);
}
Result<std::unique_ptr<TlsConnection>> TlsContext::new_connection() const {
  return errno_code(EOPNOTSUPP);
}
Result<HandshakeStep> TlsConnection::handshake(std::span<const std::byte>,
                                               std::vector<std::byte>*) {
  return errno_code(EOPNOTSUPP);
}
std::size_t TlsConnection::sealed_size(std::size_t) const noexcept {
  return 0;
}
Result<std::size_t> TlsConnection::write(std::span<const std::span<const std::byte>>,
                                         std::span<std::byte>) noexcept {
  return errno_code(EOPNOTSUPP);
}
Result<std::size_t> TlsConnection::read_record(std::span<std::byte>,
                                               std::span<std::byte>) noexcept {
  return errno_code(EOPNOTSUPP);
}
Result<std::vector<std::byte>> TlsConnection::export_key(std::string_view, std::size_t) const {
  return errno_code(EOPNOTSUPP);
}
Result<void> TlsConnection::update_key() noexcept {
  return errno_code(EOPNOTSUPP);
}
const PeerCertificate& TlsConnection::peer() const noexcept {
  static const PeerCertificate kNone;
  return kNone;
}
bool TlsConnection::records_by_ringtunnel() const noexcept {
  return false;
}
const std::string& TlsConnection::error_text() const noexcept {
  static const std::string kText = kMissing;
  return kText;
}
Result<void> ensure_self_signed(const std::string&, const std::string&, std::string* error) {
  if (error) *error = kMissing;
  return errno_code(EOPNOTSUPP);
}
Result<std::string> certificate_pin(const std::string&, std::string* error) {
  if (error) *error = kMissing;
  return errno_code(EOPNOTSUPP);
}
std::string library_version() {
  return "no TLS";
}

}  // namespace ringtunnel::crypto::tls
