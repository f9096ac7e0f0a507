// SPDX-License-Identifier: MIT
// quote_untrusted: text someone else wrote, made safe to repeat in a message or a log line.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ringtunnel::observe {

/// `text` in single quotes, cut to about `max_output` bytes of output ("..." and the full size
/// follow a cut), every byte that is not printable ASCII (and the backslash) written as \xNN:
/// a message never carries a NUL, a terminal escape or invalid UTF-8, whatever was typed or
/// sent. E.g. "'ab\x00c'" or "'aaaa...' (300 bytes)". Pure; any thread.
std::string quote_untrusted(std::string_view text, std::size_t max_output);

}  // namespace ringtunnel::observe
