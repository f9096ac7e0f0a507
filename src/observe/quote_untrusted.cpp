// SPDX-License-Identifier: MIT
// quote_untrusted: printable ASCII kept, everything else as \xNN, cut with its size named.
#include "observe/quote_untrusted.hpp"

namespace ringtunnel::observe {

std::string quote_untrusted(std::string_view text, std::size_t max_output) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "'";
  std::size_t used = 0;
  for (; used < text.size() && out.size() < max_output; ++used) {
    const auto byte = static_cast<unsigned char>(text[used]);
    if (byte >= 0x20 && byte < 0x7f && byte != '\\') {
      out += static_cast<char>(byte);
    } else {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    }
  }
  if (used < text.size()) out += "...";
  out += '\'';
  if (used < text.size()) out += " (" + std::to_string(text.size()) + " bytes)";
  return out;
}

}  // namespace ringtunnel::observe
