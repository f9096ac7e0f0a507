// SPDX-License-Identifier: MIT
// `config init` writes the commented template; `config show` prints what is in force, key by
// key, with where each value came from (flag layers resolved exactly as the commands do).
#include "cli/config_command.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <set>

#include "cli/client_command.hpp"
#include "cli/config_layer.hpp"
#include "cli/server_command.hpp"
#include "config/config_file.hpp"
#include "config/config_template.hpp"
#include "config/data_dir.hpp"
#include "net/unique_fd.hpp"

namespace ringtunnel::cli {
namespace {

struct InitFlags {
  std::optional<std::string> data_dir;
  bool force = false;
};

struct ShowFlags {
  std::optional<std::string> data_dir;
  std::string profile;
};

// Writes `text` to `path` through a temporary file and a rename: a crash leaves the old file or
// the new one, never half of either. Mode 0600: a config may hold a token.
bool write_whole_file(const std::string& path, std::string_view text, std::string* error) {
  const std::string temporary = path + ".tmp";
  net::UniqueFd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (fd.get() < 0) {
    *error = temporary + ": cannot create: " + std::strerror(errno);
    return false;
  }
  while (!text.empty()) {
    const ssize_t written = ::write(fd.get(), text.data(), text.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) {
      *error = temporary + ": cannot write: " + std::strerror(errno);
      ::unlink(temporary.c_str());
      return false;
    }
    text.remove_prefix(static_cast<std::size_t>(written));
  }
  if (::fsync(fd.get()) != 0 || ::rename(temporary.c_str(), path.c_str()) != 0) {
    *error = path + ": cannot replace: " + std::strerror(errno);
    ::unlink(temporary.c_str());
    return false;
  }
  return true;
}

int run_init(const InitFlags& flags) {
  std::string error;
  auto dir = config::DataDir::open(flags.data_dir, &error);
  if (!dir) {
    std::fprintf(stderr, "ringtunnel config init: %s\n", error.c_str());
    return kExitUsage;
  }
  const std::string path = dir->file("config.yaml");
  if (!flags.force && ::access(path.c_str(), F_OK) == 0) {
    std::fprintf(stderr,
                 "ringtunnel config init: %s exists; `ringtunnel config init --force` replaces "
                 "it\n",
                 path.c_str());
    return kExitUsage;
  }
  if (!write_whole_file(path, config::config_template(), &error)) {
    std::fprintf(stderr, "ringtunnel config init: %s\n", error.c_str());
    return kExitFailure;
  }
  std::printf("wrote %s: edit the dev profile, then `ringtunnel connect dev`\n", path.c_str());
  return 0;
}

// A value as YAML: plain when that cannot be misread, else double-quoted.
std::string yaml_scalar(const std::string& text) {
  const bool plain =
      !text.empty() &&
      text.find_first_not_of(
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./@%+-,") ==
          std::string::npos;
  if (plain) return text;
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
      out += escaped;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

void print_line(const std::string& indent, const std::string& key, const std::string& value,
                const std::string& source) {
  std::string line = indent + key + ":" + (value.empty() ? "" : " " + value);
  if (line.size() < 40) line.resize(40, ' ');
  std::printf("%s  # %s\n", line.c_str(), source.c_str());
}

// Where a value came from: "config.yaml:7" (the file's own name keeps lines short).
std::string file_source(const config::ConfigFile& file, int line) {
  const auto slash = file.path.rfind('/');
  return file.path.substr(slash == std::string::npos ? 0 : slash + 1) + ":" + std::to_string(line);
}

const config::Setting* find_in(const std::vector<const std::vector<config::Setting>*>& layers,
                               std::string_view key) {
  for (const auto* layer : layers) {
    if (const config::Setting* setting = config::ConfigFile::find(*layer, key)) return setting;
  }
  return nullptr;
}

// Built-in values of the server policy, which the server settles itself (not through options).
std::string policy_default(std::string_view key) {
  if (key == "max_clients") return "10";
  if (key == "allowed_ports") return "every port";
  return "localhost only";
}

// Prints every key of `section` as `command` (with only the environment parsed) resolves it
// after `layers` are applied, first layer winning.
bool print_effective(CLI::App& command, config::Section section, const config::ConfigFile& file,
                     const std::vector<const std::vector<config::Setting>*>& layers,
                     const std::string& indent, std::string* error) {
  std::set<const CLI::Option*> from_environment;
  for (const CLI::Option* option : command.get_options()) {
    if (option->count() > 0) from_environment.insert(option);
  }
  for (const auto* layer : layers) {
    if (!apply_settings(command, *layer, file.path, error)) return false;
  }
  for (const config::KeySpec& spec : config::schema()) {
    if ((spec.sections & section) == 0 || !spec.not_yet.empty()) continue;
    std::string flag(spec.flag);
    if (spec.key == "server" && option_set(command, "--server")) flag = "--server";
    const CLI::Option* option = command.get_option_no_throw(flag);
    if (option == nullptr) continue;
    const config::Setting* setting = find_in(layers, spec.key);
    std::string source = "default";
    std::vector<std::string> values = option->results();
    if (from_environment.count(option) != 0) {
      source = "environment " + option->get_envname();
    } else if (setting != nullptr) {
      source = file_source(file, setting->line);
      if (spec.reloadable) {
        values.clear();
        for (const config::LineValue& value : setting->values) values.push_back(value.text);
      }
    }
    if (values.empty()) {
      const std::string fallback = spec.reloadable                        ? policy_default(spec.key)
                                   : spec.shape == config::Shape::boolean ? "false"
                                   : spec.shape == config::Shape::level   ? "0"
                                                                        : option->get_default_str();
      if (!fallback.empty()) values.push_back(fallback);
    }
    if (spec.key == "token" && !values.empty()) values = {"<redacted>"};
    if (spec.shape == config::Shape::tunnels || spec.shape == config::Shape::named) {
      print_line(indent, std::string(spec.key), values.empty() ? "[]" : "", source);
      for (const std::string& value : values)
        std::printf("%s  - %s\n", indent.c_str(), yaml_scalar(value).c_str());
      continue;
    }
    std::string joined;
    for (const std::string& value : values) joined += (joined.empty() ? "" : ",") + value;
    print_line(indent, std::string(spec.key), joined.empty() ? "~" : yaml_scalar(joined), source);
  }
  return true;
}

// A scratch command with the environment parsed, as the real one would see it.
template <typename Flags, typename Add>
std::unique_ptr<CLI::App> scratch_command(Flags& flags, Add add, std::string* error) {
  auto command = std::make_unique<CLI::App>();
  add(*command, flags);
  try {
    std::vector<std::string> no_arguments;
    command->parse(no_arguments);
  } catch (const CLI::Error& e) {
    *error = std::string("in the environment: ") + e.what();
    return nullptr;
  }
  return command;
}

int run_show(const ShowFlags& flags) {
  const std::string path = config_path(flags.data_dir);
  std::string error;
  auto file = config::load_config_file(path, &error);
  if (!file) {
    std::fprintf(stderr, "ringtunnel config show: %s\n", error.c_str());
    return kExitUsage;
  }
  for (const std::string& warning : file->warnings)
    std::fprintf(stderr, "warning: %s\n", warning.c_str());
  std::printf("# in force: flag > environment > %s > default\n", path.c_str());
  if (!file->exists) std::printf("# (no config file: `ringtunnel config init` writes one)\n");
  ClientFlags client_flags;
  const auto add_client = [](CLI::App& app, ClientFlags& f) {
    add_client_flags(app, f);
  };
  if (!flags.profile.empty()) {
    const config::Profile* profile = file->find_profile(flags.profile);
    if (profile == nullptr) {
      std::fprintf(stderr, "ringtunnel config show: %s: no profile '%s'\n", path.c_str(),
                   flags.profile.c_str());
      return kExitUsage;
    }
    auto client = scratch_command(client_flags, add_client, &error);
    std::printf("# `ringtunnel connect %s` runs with:\nprofiles:\n  %s:\n", profile->name.c_str(),
                profile->name.c_str());
    if (!client || !print_effective(*client, config::kProfile, *file,
                                    {&profile->settings, &file->defaults}, "    ", &error)) {
      std::fprintf(stderr, "ringtunnel config show: %s\n", error.c_str());
      return kExitUsage;
    }
    return 0;
  }
  // Every profile's values through their flags' checks first: show is also the way to check a
  // file before `connect` meets its errors.
  for (const config::Profile& profile : file->profiles) {
    ClientFlags scratch_flags;
    auto scratch = scratch_command(scratch_flags, add_client, &error);
    if (!scratch || !apply_settings(*scratch, profile.settings, path, &error) ||
        !apply_settings(*scratch, file->defaults, path, &error)) {
      std::fprintf(stderr, "ringtunnel config show: %s\n", error.c_str());
      return kExitUsage;
    }
  }
  auto client = scratch_command(client_flags, add_client, &error);
  std::printf(
      "defaults:                                 # `ringtunnel client` and every profile\n");
  if (!client ||
      !print_effective(*client, config::kDefaults, *file, {&file->defaults}, "  ", &error)) {
    std::fprintf(stderr, "ringtunnel config show: %s\n", error.c_str());
    return kExitUsage;
  }
  std::printf("profiles:%s\n", file->profiles.empty() ? " {}" : "");
  for (const config::Profile& profile : file->profiles) {
    print_line("  ", profile.name, "",
               file_source(*file, profile.line) + "; config show --profile " + profile.name +
                   " for all of it");
    for (const config::Setting& setting : profile.settings) {
      std::string value;
      if (setting.spec->shape != config::Shape::tunnels &&
          setting.spec->shape != config::Shape::named) {
        value =
            setting.spec->key == "token" ? "<redacted>" : yaml_scalar(setting.values.front().text);
      }
      print_line("    ", std::string(setting.spec->key), value, file_source(*file, setting.line));
      if (setting.spec->shape == config::Shape::tunnels ||
          setting.spec->shape == config::Shape::named) {
        for (const config::LineValue& tunnel : setting.values)
          std::printf("      - %s\n", yaml_scalar(tunnel.text).c_str());
      }
    }
  }
  ServerFlags server_flags;
  auto server = scratch_command(
      server_flags, [](CLI::App& app, ServerFlags& f) { add_server_flags(app, f); }, &error);
  std::printf("server:                                   # `ringtunnel server`\n");
  if (!server || !print_effective(*server, config::kServer, *file, {&file->server}, "  ", &error)) {
    std::fprintf(stderr, "ringtunnel config show: %s\n", error.c_str());
    return kExitUsage;
  }
  return 0;
}

}  // namespace

void add_config_command(CLI::App& app, int& exit_code) {
  CLI::App* config = app.add_subcommand("config", "Write or print config.yaml");
  config->require_subcommand(1);
  auto init = std::make_shared<InitFlags>();
  CLI::App* init_cmd = config->add_subcommand(
      "init", "Write <data dir>/config.yaml with every setting explained and an example profile");
  init_cmd->add_flag("--force", init->force, "Replace an existing config.yaml");
  init_cmd->add_option("--data-dir", init->data_dir,
                       "The data dir; default $RINGTUNNEL_DATA_DIR, else ~/.ringtunnel");
  init_cmd->callback([init, &exit_code] { exit_code = run_init(*init); });
  auto show = std::make_shared<ShowFlags>();
  CLI::App* show_cmd = config->add_subcommand(
      "show", "Print the settings in force (tokens redacted) and where each one comes from");
  show_cmd->add_option("--profile", show->profile,
                       "Show everything `connect PROFILE` would use instead");
  show_cmd->add_option("--data-dir", show->data_dir,
                       "The data dir; default $RINGTUNNEL_DATA_DIR, else ~/.ringtunnel");
  show_cmd->callback([show, &exit_code] { exit_code = run_show(*show); });
}

}  // namespace ringtunnel::cli
