// SPDX-License-Identifier: MIT
// `ringtunnel connect PROFILE`: a profile of config.yaml under the flags, then the client.
#include <memory>

#include "cli/client_command.hpp"
#include "cli/config_layer.hpp"
#include "client/client_setup.hpp"
#include "config/config_file.hpp"
#include "observe/log.hpp"

namespace ringtunnel::cli {
namespace {

std::string profile_names(const config::ConfigFile& file) {
  std::string names;
  for (const config::Profile& profile : file.profiles) {
    names += (names.empty() ? "" : ", ") + profile.name;
  }
  return names.empty() ? "none" : names;
}

// The profile's settings, then defaults:, under what the command line set; false (logged) when
// the profile is missing or a value is refused.
bool apply_profile(CLI::App& cmd, const std::string& name, const config::ConfigFile& file,
                   std::string* error) {
  if (!file.exists) {
    *error = "no profile '" + name + "': " + file.path +
             " does not exist (`ringtunnel config init` writes one with examples)";
    return false;
  }
  const config::Profile* profile = file.find_profile(name);
  if (profile == nullptr) {
    std::vector<std::string_view> names;
    for (const config::Profile& each : file.profiles) names.push_back(each.name);
    *error = file.path + ": no profile '" + name + "'" + config::suggest_word(name, names) +
             " (profiles: " + profile_names(file) + ")";
    return false;
  }
  if (!apply_settings(cmd, profile->settings, file.path, error)) return false;
  return apply_settings(cmd, file.defaults, file.path, error);
}

// What SIGHUP re-reads: the profile's tunnels, with the BIND precedence the start had (a
// --bind flag or RINGTUNNEL_BIND still wins over the file).
client::ForwardReader tunnel_reader(const std::string& path, const std::string& name,
                                    std::optional<std::string> bind_flag) {
  return [path, name, bind_flag](std::string* error) -> std::optional<std::vector<ForwardSpec>> {
    auto file = config::load_config_file(path, error);
    if (!file) return std::nullopt;
    const config::Profile* profile = file->find_profile(name);
    if (profile == nullptr) {
      *error = path + ": no profile '" + name + "' any more";
      return std::nullopt;
    }
    std::string bind = "localhost";
    if (bind_flag) {
      bind = *bind_flag;
    } else if (const config::Setting* own = profile->find("bind")) {
      bind = own->values.front().text;
    } else if (const config::Setting* shared = config::ConfigFile::find(file->defaults, "bind")) {
      bind = shared->values.front().text;
    }
    const config::Setting* tunnels = profile->find("tunnels");
    if (tunnels == nullptr || tunnels->values.empty()) {
      *error =
          path + ":" + std::to_string(profile->line) + ": profiles." + name + " has no tunnels";
      return std::nullopt;
    }
    std::vector<std::string> texts;
    for (const config::LineValue& value : tunnels->values) texts.push_back(value.text);
    std::vector<ForwardSpec> specs;
    std::string failure;
    if (!client::parse_forwards(texts, bind, specs, &failure)) {
      *error = path + ":" + std::to_string(tunnels->line) + ": profiles." + name +
               ".tunnels: " + failure;
      return std::nullopt;
    }
    return specs;
  };
}

}  // namespace

void add_connect_command(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<ClientFlags>();
  auto name = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "connect",
      "Run the client for a profile of config.yaml (its server, port and tunnels). Flags given "
      "here override the profile, which overrides defaults:, e.g. connect dev --bind 0.0.0.0 -v");
  cmd->add_option("profile", *name, "The profile's name under profiles: in config.yaml")
      ->required();
  add_client_flags(*cmd, *flags);
  cmd->callback([cmd, flags, name, &exit_code] {
    const std::string path = config_path(flags->common.data_dir);
    // Before the profile fills them in: whether the command line named the tunnels and BIND.
    const bool tunnels_from_flags = option_set(*cmd, "--local");
    const std::optional<std::string> bind_flag =
        option_set(*cmd, "--bind") ? std::optional<std::string>(flags->bind) : std::nullopt;
    std::string error;
    auto file = config::load_config_file(path, &error);
    if (!file || !apply_profile(*cmd, *name, *file, &error)) {
      observe::log_error("{}", error);
      exit_code = kExitUsage;
      return;
    }
    if (!flags->has_tunnels()) {
      const config::Profile* profile = file->find_profile(*name);
      observe::log_error(
          "{}:{}: profiles.{} has no tunnels: add tunnels: [\"15432:5432\"] (or expose: "
          "[\"8080:3000\"]) or give -L or -R",
          path, profile->line, *name);
      exit_code = kExitUsage;
      return;
    }
    exit_code = run_client(
        *flags, file->warnings, "profile '" + *name + "' of " + path,
        tunnels_from_flags ? client::ForwardReader() : tunnel_reader(path, *name, bind_flag));
  });
}

}  // namespace ringtunnel::cli
