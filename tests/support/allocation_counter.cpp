// SPDX-License-Identifier: MIT
// Counting replacements of the global allocation functions, and the crypto library's allocator
// hooks (OpenSSL's CRYPTO_set_mem_functions or wolfSSL's wolfSSL_SetAllocators).
#include "allocation_counter.hpp"

#if defined(RT_CRYPTO_WOLFSSL)
#include <wolfssl/options.h>
// After options.h, which every other wolfSSL header needs first.
#include <wolfssl/wolfcrypt/memory.h>
#if defined(WOLFSSL_STATIC_MEMORY) || defined(WOLFSSL_DEBUG_MEMORY)
#error "this wolfSSL build's allocator callbacks take extra arguments; adapt the hooks below"
#endif
#else
#include <openssl/crypto.h>
#endif

#include <cstdlib>
#include <new>

namespace {

// Plain counters: the tests that read them run on one thread.
std::size_t g_new_calls = 0;
std::size_t g_library_allocations = 0;

#if defined(RT_CRYPTO_WOLFSSL)

void* counting_malloc(std::size_t size) {
  ++g_library_allocations;
  return std::malloc(size);
}
void* counting_realloc(void* pointer, std::size_t size) {
  ++g_library_allocations;
  return std::realloc(pointer, size);
}
void plain_free(void* pointer) { std::free(pointer); }

// wolfSSL takes new allocators at any time (what it allocated before goes to std::free, which
// is where it came from). Its contexts live inside our own objects, so no test step is sure
// to allocate through it: one probe allocation through wolfSSL_Malloc, the function every
// XMALLOC in the library calls, shows that the hooks are live.
bool install_hooks() {
  if (wolfSSL_SetAllocators(counting_malloc, plain_free, counting_realloc) != 0) return false;
  const std::size_t before = g_library_allocations;
  wolfSSL_Free(wolfSSL_Malloc(1));
  return g_library_allocations == before + 1;
}
const char* const kLibraryName = "wolfSSL";

#else

void* counting_malloc(std::size_t size, const char*, int) {
  ++g_library_allocations;
  return std::malloc(size);
}
void* counting_realloc(void* pointer, std::size_t size, const char*, int) {
  ++g_library_allocations;
  return std::realloc(pointer, size);
}
void plain_free(void* pointer, const char*, int) { std::free(pointer); }

// OpenSSL accepts the hooks only before its first allocation; the tests' first use of it then
// shows them live (AeadKey::create allocates its contexts through them).
bool install_hooks() {
  return CRYPTO_set_mem_functions(counting_malloc, counting_realloc, plain_free) == 1;
}
const char* const kLibraryName = "OpenSSL";

#endif

// Installed during static initialisation, before the tests touch the library.
const bool g_hooks_installed = install_hooks();

}  // namespace

namespace ringtunnel::testing {
std::size_t operator_new_calls() noexcept { return g_new_calls; }
std::size_t library_allocations() noexcept { return g_library_allocations; }
bool library_hooks_installed() noexcept { return g_hooks_installed; }
const char* crypto_library_name() noexcept { return kLibraryName; }
}  // namespace ringtunnel::testing

// Every unaligned form is replaced, so memory from any of them is released by the matching
// free() (ASan checks the pairing); the aligned forms are left alone and stay paired with their
// own operator delete. g++ with -fsanitize sees free() on memory from operator new and warns;
// in a replacement operator delete over malloc that pairing is exactly right.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(std::size_t size) {
  ++g_new_calls;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return ::operator new(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  ++g_new_calls;
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept {
  return ::operator new(size, tag);
}
void operator delete(void* pointer) noexcept { std::free(pointer); }
void operator delete[](void* pointer) noexcept { std::free(pointer); }
void operator delete(void* pointer, std::size_t) noexcept { std::free(pointer); }
void operator delete[](void* pointer, std::size_t) noexcept { std::free(pointer); }
void operator delete(void* pointer, const std::nothrow_t&) noexcept { std::free(pointer); }
void operator delete[](void* pointer, const std::nothrow_t&) noexcept { std::free(pointer); }
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
