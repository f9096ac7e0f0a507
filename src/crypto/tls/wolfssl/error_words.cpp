// SPDX-License-Identifier: MIT
// wolfSSL's error codes in words: OpenSSL's wording where both builds should log the same.
#include "crypto/wolfssl/wolfcrypt.hpp"
// The wolfSSL headers after wolfcrypt.hpp, which includes their options.h first.
#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

#include <cstring>

#include "crypto/tls/wolfssl/wolfssl_tls.hpp"

namespace ringtunnel::crypto::tls {
namespace {

struct Words {
  int code;
  const char* text;
};

// The texts OpenSSL's X509_verify_cert_error_string and reason strings give for the same
// failures: logs, tests and a person's searches then read alike whichever library is linked.
constexpr Words kOpenSslWords[] = {
    {VERSION_ERROR, "unsupported protocol"},
    {ASN_NO_PEM_HEADER, "no start line"},
    {MATCH_SUITE_ERROR, "no shared cipher"},
    {NO_PEER_CERT, "peer did not return a certificate"},
    {DOMAIN_NAME_MISMATCH, "hostname mismatch"},
    {IPADDR_MISMATCH, "IP address mismatch"},
    {ASN_NO_SIGNER_E, "unable to get local issuer certificate"},
    {ASN_SELF_SIGNED_E, "self-signed certificate"},
    {ASN_AFTER_DATE_E, "certificate has expired"},
    {ASN_BEFORE_DATE_E, "certificate is not yet valid"},
    {ASN_SIG_CONFIRM_E, "certificate signature failure"},
    {NOT_CA_ERROR, "invalid CA certificate"},
    {ASN_PATHLEN_INV_E, "path length constraint exceeded"},
    {MAX_CHAIN_ERROR, "certificate chain too long"},
    {EXTKEYUSE_AUTH_E, "unsupported certificate purpose"},
    {KEYUSE_SIGNATURE_E, "unsupported certificate purpose"},
    {OCSP_CERT_REVOKED, "certificate revoked"},
    {CRL_CERT_REVOKED, "certificate revoked"},
};

// wolfSSL's and wolfCrypt's codes run from -1 to -505 (HRR_COOKIE_ERROR); the queue may also
// hold OpenSSL-style packed codes, which are not looked up.
constexpr unsigned long kLastErrorNumber = 1000;

}  // namespace

std::string tls_error_words(int code, const char* fallback) {
  // Some calls return the reason, others only WOLFSSL_FAILURE and leave the reason in the
  // error queue, as a positive number. The queue is emptied either way: nothing else reads it.
  const unsigned long queued = wolfSSL_ERR_get_error();
  wolfSSL_ERR_clear_error();
  if (code >= 0 || code == WOLFSSL_FATAL_ERROR) {
    if (queued == 0 || queued > kLastErrorNumber) return fallback;
    code = -static_cast<int>(queued);
  }
  for (const Words& words : kOpenSslWords) {
    if (words.code == code) return words.text;
  }
  const char* text = wolfSSL_ERR_reason_error_string(static_cast<unsigned long>(code));
  if (text == nullptr || *text == '\0' || std::strcmp(text, "unknown error number") == 0) {
    return fallback;
  }
  return text;
}

bool is_certificate_error(int code) noexcept {
  // wolfCrypt's certificate parsing and checking errors, then wolfSSL's about certificates.
  if (code <= ASN_PARSE_E && code >= ASN_NO_PEM_HEADER) return true;
  switch (code) {
    case ASN_NO_SIGNER_E:
    case ASN_SELF_SIGNED_E:
    case ASN_PATHLEN_SIZE_E:
    case ASN_PATHLEN_INV_E:
    case CRL_CERT_DATE_ERR:
    case DOMAIN_NAME_MISMATCH:
    case IPADDR_MISMATCH:
    case NO_PEER_CERT:
    case NOT_CA_ERROR:
    case MAX_CHAIN_ERROR:
    case EXTKEYUSE_AUTH_E:
    case KEYUSE_SIGNATURE_E:
    case KEYUSE_ENCIPHER_E:
    case OCSP_CERT_REVOKED:
    case CRL_CERT_REVOKED:
      return true;
    default:
      return false;
  }
}

}  // namespace ringtunnel::crypto::tls
