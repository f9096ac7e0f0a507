// SPDX-License-Identifier: MIT
// The config.yaml that `ringtunnel config init` writes: every key of the schema, commented.
#pragma once

#include <string_view>

namespace ringtunnel::config {

/// YAML text that loads without a warning; every schema key appears in it (most commented out).
std::string_view config_template();

}  // namespace ringtunnel::config
