// SPDX-License-Identifier: MIT
// Where a token comes from: --token TEXT, --token - (a prompt that does not echo), or
// --token-file F. Kept off the command line when it can be: other users see argv.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace ringtunnel::config {

inline constexpr std::size_t kMaxTokenBytes = 4096;

/// The token to use: `token` when given ("-" prompts on the terminal without echo), else the
/// first line of `token_file`, else nullopt in `*out`. --token wins over --token-file (a flag
/// over a file named in config.yaml). False, with one sentence in `*error`, when the prompt has
/// no terminal, the file cannot be read, is not a regular file, is larger than 4 KiB, or the
/// token is empty. `*warnings` gets a line when the file is readable by other users.
bool resolve_token(const std::optional<std::string>& token,
                   const std::optional<std::string>& token_file, std::optional<std::string>* out,
                   std::vector<std::string>* warnings, std::string* error);

}  // namespace ringtunnel::config
