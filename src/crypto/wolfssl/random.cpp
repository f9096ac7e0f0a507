// SPDX-License-Identifier: MIT
// random_bytes over wolfCrypt's Hash DRBG: one generator per thread, reseeded after fork.
#include "crypto/random.hpp"
#include "crypto/wolfssl/wolfcrypt.hpp"
// The wolfSSL headers after wolfcrypt.hpp, which includes their options.h first.
#include <wolfssl/wolfcrypt/random.h>

#include <unistd.h>

#include <algorithm>

#include "crypto/library_error.hpp"

namespace ringtunnel::crypto {
namespace {

// A WC_RNG is not thread-safe, so each thread seeds its own on first use. A forked child
// would repeat its parent's stream from the copied state: a changed pid means a new seed
// (OpenSSL's RAND_bytes does the same internally).
class ThreadRng {
 public:
  ThreadRng() noexcept = default;
  ThreadRng(const ThreadRng&) = delete;
  ThreadRng& operator=(const ThreadRng&) = delete;
  ~ThreadRng() { release(); }

  WC_RNG& get() noexcept {
    const pid_t pid = ::getpid();
    if (seeded_ && pid != pid_) release();
    if (!seeded_) {
      if (detail::note_library_error(wc_InitRng(&rng_)) != 0) {
        detail::library_failure("wc_InitRng failed: no secure randomness, refusing to continue");
      }
      seeded_ = true;
      pid_ = pid;
    }
    return rng_;
  }

 private:
  void release() noexcept {
    if (seeded_) wc_FreeRng(&rng_);  // zeroes the DRBG state
    seeded_ = false;
  }

  WC_RNG rng_{};
  bool seeded_ = false;
  pid_t pid_ = 0;
};

thread_local ThreadRng t_rng;

}  // namespace

void random_bytes(std::span<std::byte> out) noexcept {
  WC_RNG& rng = t_rng.get();
  // One request may ask the DRBG for at most RNG_MAX_BLOCK_LEN bytes.
  while (!out.empty()) {
    const std::span<std::byte> chunk = out.first(std::min<std::size_t>(out.size(), RNG_MAX_BLOCK_LEN));
    if (detail::note_library_error(wc_RNG_GenerateBlock(&rng, detail::wolf_out(chunk),
                                                        detail::wolf_size(chunk))) != 0) {
      detail::library_failure(
          "wc_RNG_GenerateBlock failed: no secure randomness, refusing to continue");
    }
    out = out.subspan(chunk.size());
  }
}

}  // namespace ringtunnel::crypto
