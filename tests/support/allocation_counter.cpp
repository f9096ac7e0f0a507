// SPDX-License-Identifier: MIT
// Counting replacements of the global allocation functions, and OpenSSL's allocator hooks.
#include "allocation_counter.hpp"

#include <openssl/crypto.h>

#include <cstdlib>
#include <new>

namespace {

// Plain counters: the tests that read them run on one thread.
std::size_t g_new_calls = 0;
std::size_t g_openssl_allocations = 0;

void* counting_malloc(std::size_t size, const char*, int) {
  ++g_openssl_allocations;
  return std::malloc(size);
}
void* counting_realloc(void* pointer, std::size_t size, const char*, int) {
  ++g_openssl_allocations;
  return std::realloc(pointer, size);
}
void plain_free(void* pointer, const char*, int) { std::free(pointer); }

// Installed during static initialisation, before the tests touch OpenSSL.
const bool g_hooks_installed =
    CRYPTO_set_mem_functions(counting_malloc, counting_realloc, plain_free) == 1;

}  // namespace

namespace ringtunnel::testing {
std::size_t operator_new_calls() noexcept { return g_new_calls; }
std::size_t openssl_allocations() noexcept { return g_openssl_allocations; }
bool openssl_hooks_installed() noexcept { return g_hooks_installed; }
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
