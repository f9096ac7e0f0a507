// SPDX-License-Identifier: MIT
// What the public builders collect (ringtunnel::ClientConfig / ServerConfig): the library's own
// setup structs plus what only an embedder sets (events, stderr, the engine).
#pragma once

#include <optional>
#include <string>

#include "client/client_setup.hpp"
#include "embed/engine_setup.hpp"
#include "ringtunnel/status.hpp"
#include "server/server_setup.hpp"

namespace ringtunnel {

/// What both builders share.
struct EmbedCommon {
  embed::EngineChoice engine{.handle_signals = false};
  std::string transport = "native";
  std::optional<std::string> token_file;
  EventHandler on_event;
  bool log_to_stderr = false;
  Event::Level log_level = Event::Level::info;
};

struct ClientConfig {
  client::ClientSetup setup;
  EmbedCommon common;
};

struct ServerConfig {
  server::ServerSetup setup;
  EmbedCommon common;
};

}  // namespace ringtunnel
