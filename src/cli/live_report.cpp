// SPDX-License-Identifier: MIT
// LiveReport: the merged live status, answered on the control socket.
#include "cli/live_report.hpp"

#include <unistd.h>

#include "embed/live_collect.hpp"
#include "observe/log.hpp"

namespace ringtunnel::cli {

std::string control_directory(const std::string& data_dir) {
  return data_dir + "/run";
}

LiveReport::LiveReport(std::string role, std::string address, runtime::Engine& engine,
                       Snapshot snapshot)
    : role_(std::move(role)),
      address_(std::move(address)),
      engine_(engine),
      snapshot_(std::move(snapshot)) {}

observe::LiveStatus LiveReport::collect() {
  return embed::collect_live_status(engine_, role_, address_, started_, snapshot_);
}

void LiveReport::start(const std::string& data_dir) {
  const std::string path =
      control_directory(data_dir) + "/" + role_ + "-" + std::to_string(::getpid()) + ".sock";
  std::string error;
  if (!socket_.start(
          path, [this] { return observe::to_json(collect()); }, &error)) {
    observe::log_warn("`ringtunnel status` will not see this {}: {}", role_, error);
  }
}

}  // namespace ringtunnel::cli
