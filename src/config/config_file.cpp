// SPDX-License-Identifier: MIT
// ConfigFile: config.yaml read with yaml-cpp, shaped by the schema table, tunnels and exposes
// checked.
#include "config/config_file.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <span>
#include <sstream>

#include "ringtunnel/tunnel_spec.hpp"

namespace ringtunnel::config {
namespace {

constexpr std::size_t kMaxFileBytes = 1 << 20;
constexpr std::size_t kMaxProfileName = 64;
constexpr std::array<std::string_view, 3> kSections = {"defaults", "profiles", "server"};
constexpr std::array<std::string_view, 5> kTunnelKeys = {"local", "remote", "mode", "host", "bind"};
constexpr std::array<std::string_view, 6> kExposeKeys = {"public", "local", "host",
                                                         "bind",   "mode",  "proxy_protocol"};

// A `tunnels:` item is checked with BIND's default, "localhost"; the --bind in force is checked
// when the flags are applied.
bool check_forward(std::string_view text, std::string* problem) {
  return parse_forward_spec(text, "localhost", problem).has_value();
}

bool check_expose(std::string_view text, std::string* problem) {
  return parse_expose_spec(text, problem).has_value();
}

// What differs between the two lists of tunnels, `tunnels:` (-L) and `expose:` (-R): the
// words of their messages, the keys of their maps and the parser that checks each item.
struct TunnelList {
  std::string_view item;         // "tunnel", for "unknown tunnel key"
  std::string_view a_map;        // "a tunnel map"
  std::string_view list;         // "a list of tunnels"
  std::string_view text_syntax;  // the short string form
  std::string_view map_syntax;
  std::string_view listen_key;  // the port written first in the spec
  std::string_view connect_key;
  bool proxy_protocol;  // takes `proxy_protocol: v2|none`
  std::span<const std::string_view> keys;
  bool (*check)(std::string_view text, std::string* problem);
};

constexpr TunnelList kTunnels = {
    .item = "tunnel",
    .a_map = "a tunnel map",
    .list = "a list of tunnels",
    .text_syntax = "\"LOCAL:REMOTE[:udp]\"",
    .map_syntax = "{local: PORT, remote: PORT, mode: tcp|udp, host: HOST, bind: ADDRESS}",
    .listen_key = "local",
    .connect_key = "remote",
    .proxy_protocol = false,
    .keys = kTunnelKeys,
    .check = check_forward,
};

constexpr TunnelList kExposes = {
    .item = "expose",
    .a_map = "an expose map",
    .list = "a list of services to expose",
    .text_syntax = "\"PUBLIC:LOCAL[:udp]\"",
    .map_syntax =
        "{public: PORT, local: PORT, host: HOST, bind: ADDRESS, mode: tcp|udp, "
        "proxy_protocol: v2|none}",
    .listen_key = "public",
    .connect_key = "local",
    .proxy_protocol = true,
    .keys = kExposeKeys,
    .check = check_expose,
};

int line_of(const YAML::Node& node) {
  return node.Mark().line + 1;
}

// Everything one load needs to say where it is.
class Reader {
 public:
  Reader(ConfigFile& out, std::string* error) : out_(out), error_(error) {}

  bool read_root(const YAML::Node& root);

 private:
  std::string at(int line) const { return out_.path + ":" + std::to_string(line) + ": "; }
  bool fail(int line, const std::string& where, const std::string& what) {
    *error_ = at(line) + where + ": " + what;
    return false;
  }
  void warn(int line, const std::string& what) { out_.warnings.push_back(at(line) + what); }

  bool read_section(const YAML::Node& node, Section section, const std::string& prefix,
                    std::vector<Setting>& into);
  bool read_value(const YAML::Node& value, const KeySpec& spec, Setting& setting);
  bool read_tunnels(const YAML::Node& value, const TunnelList& list, Setting& setting);
  bool read_tunnel_map(const YAML::Node& item, const TunnelList& list, const std::string& where,
                       std::string& text);
  bool read_profiles(const YAML::Node& node);

  ConfigFile& out_;
  std::string* error_;
};

// A map key as text; nullopt for a key that is itself a list or map.
std::optional<std::string> key_text(const YAML::Node& key) {
  if (!key.IsScalar()) return std::nullopt;
  return key.Scalar();
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// YAML 1.1's boolean words, which the Python tool's files use too.
std::optional<bool> boolean_word(const std::string& text) {
  const std::string word = lower(text);
  if (word == "true" || word == "yes" || word == "on") return true;
  if (word == "false" || word == "no" || word == "off") return false;
  return std::nullopt;
}

// What a value that is not a scalar is, for "got a list".
std::string shape_of(const YAML::Node& node) {
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a map";
  return "'" + node.Scalar() + "'";
}

// An IPv6 address in a spec part needs brackets; a map gives it bare or bracketed.
std::string spec_host(const std::string& host) {
  if (host.find(':') != std::string::npos && host.front() != '[') return "[" + host + "]";
  return host;
}

bool Reader::read_value(const YAML::Node& value, const KeySpec& spec, Setting& setting) {
  const int line = line_of(value);
  switch (spec.shape) {
    case Shape::scalar:
      if (!value.IsScalar())
        return fail(line, setting.where, "expected one value, got " + shape_of(value));
      setting.values.push_back({value.Scalar(), line});
      return true;
    case Shape::path: {
      if (!value.IsScalar())
        return fail(line, setting.where, "expected a file name, got " + shape_of(value));
      std::string text = value.Scalar();
      const char* home = std::getenv("HOME");
      if (text.starts_with("~/") && home != nullptr && *home != '\0') text = home + text.substr(1);
      setting.values.push_back({text, line});
      return true;
    }
    case Shape::boolean: {
      auto flag = value.IsScalar() ? boolean_word(value.Scalar()) : std::nullopt;
      if (!flag) return fail(line, setting.where, "expected true or false, got " + shape_of(value));
      setting.values.push_back({*flag ? "true" : "false", line});
      return true;
    }
    case Shape::level: {
      std::optional<int> level;
      if (value.IsScalar()) {
        if (auto flag = boolean_word(value.Scalar())) level = *flag ? 1 : 0;
        const std::string& text = value.Scalar();
        if (text.size() == 1 && text[0] >= '0' && text[0] <= '2') level = text[0] - '0';
      }
      if (!level) {
        return fail(line, setting.where,
                    "expected true, false or a level 0-2 (2 = -vv), got " + shape_of(value));
      }
      setting.values.push_back({std::to_string(*level), line});
      return true;
    }
    case Shape::list: {
      std::string text;
      if (value.IsScalar()) {
        text = value.Scalar();
      } else if (value.IsSequence()) {
        for (const YAML::Node& item : value) {
          if (!item.IsScalar()) {
            return fail(line_of(item), setting.where,
                        "expected a list of single values, got " + shape_of(item) + " in it");
          }
          if (!text.empty()) text += ',';
          text += item.Scalar();
        }
      } else {
        return fail(line, setting.where, "expected a list such as [a, b] or \"a,b\", got a map");
      }
      setting.values.push_back({text, line});
      return true;
    }
    case Shape::named:
      if (value.IsMap()) {
        for (const auto& entry : value) {
          const auto key = key_text(entry.first);
          if (!key) return fail(line_of(entry.first), setting.where, "a name must be a single word");
          if (!entry.second.IsScalar()) {
            return fail(line_of(entry.second), setting.where + "." + *key,
                        "expected one value, got " + shape_of(entry.second));
          }
          setting.values.push_back({*key + "=" + entry.second.Scalar(), line_of(entry.first)});
        }
        return true;
      }
      if (value.IsSequence()) {
        for (const YAML::Node& item : value) {
          if (!item.IsScalar() || item.Scalar().find('=') == std::string::npos) {
            return fail(line_of(item), setting.where,
                        "expected NAME=VALUE texts or a map {NAME: VALUE}, got " + shape_of(item));
          }
          setting.values.push_back({item.Scalar(), line_of(item)});
        }
        return true;
      }
      return fail(line, setting.where,
                  "expected a map {NAME: VALUE} or a list of NAME=VALUE, got " + shape_of(value));
    case Shape::tunnels:
      return read_tunnels(value, spec.key == "expose" ? kExposes : kTunnels, setting);
  }
  return false;
}

// Each item becomes the `-L` (or `-R`) text it stands for and is checked as one.
bool Reader::read_tunnels(const YAML::Node& value, const TunnelList& list, Setting& setting) {
  if (!value.IsSequence()) {
    return fail(line_of(value), setting.where,
                "expected " + std::string(list.list) + ", each " + std::string(list.text_syntax) +
                    " or " + std::string(list.map_syntax));
  }
  std::size_t index = 0;
  for (const YAML::Node& item : value) {
    const std::string where = setting.where + "[" + std::to_string(index++) + "]";
    const int line = line_of(item);
    std::string text;
    if (item.IsScalar()) {
      text = item.Scalar();
    } else if (item.IsMap()) {
      if (!read_tunnel_map(item, list, where, text)) return false;
    } else {
      return fail(line, where,
                  "expected " + std::string(list.text_syntax) + " or a map, got a list");
    }
    std::string problem;
    if (!list.check(text, &problem)) return fail(line, where, problem);
    setting.values.push_back({text, line});
  }
  return true;
}

// A map of a tunnel's parts into the spec text it stands for; the parser checks the rest.
bool Reader::read_tunnel_map(const YAML::Node& item, const TunnelList& list,
                             const std::string& where, std::string& text) {
  std::string listen, connect, mode = "tcp", host, bind, proxy = "none";
  for (const auto& entry : item) {
    const auto key = key_text(entry.first);
    if (!key) return fail(line_of(entry.first), where, "a key must be a single word");
    if (entry.second.IsNull()) continue;
    if (!entry.second.IsScalar()) {
      return fail(line_of(entry.second), where + "." + *key,
                  "expected one value, got " + shape_of(entry.second));
    }
    const std::string& field = entry.second.Scalar();
    if (*key == list.listen_key)
      listen = field;
    else if (*key == list.connect_key)
      connect = field;
    else if (*key == "mode")
      mode = lower(field);
    else if (*key == "host")
      host = field;
    else if (*key == "bind")
      bind = field;
    else if (*key == "proxy_protocol" && list.proxy_protocol)
      proxy = lower(field);
    else
      warn(line_of(entry.first), where + "." + *key + ": unknown " + std::string(list.item) +
                                     " key" + suggest_word(*key, list.keys) + " (ignored)");
  }
  const int line = line_of(item);
  if (listen.empty() || connect.empty()) {
    return fail(line, where,
                "missing '" + std::string(listen.empty() ? list.listen_key : list.connect_key) +
                    "': " + std::string(list.a_map) + " needs " + std::string(list.listen_key) +
                    " and " + std::string(list.connect_key) + " ports");
  }
  if (mode != "tcp" && mode != "udp") {
    return fail(line, where + ".mode", "expected tcp or udp, got '" + mode + "'");
  }
  if (proxy != "none" && proxy != "v2") {
    return fail(line, where + ".proxy_protocol", "expected v2 or none, got '" + proxy + "'");
  }
  text = (bind.empty() ? "" : spec_host(bind) + ":") + listen + ":" +
         (host.empty() ? "" : spec_host(host) + ":") + connect + (mode == "udp" ? ":udp" : "") +
         (proxy == "v2" ? ",proxy_protocol=v2" : "");
  return true;
}

bool Reader::read_section(const YAML::Node& node, Section section, const std::string& prefix,
                          std::vector<Setting>& into) {
  if (node.IsNull()) return true;
  if (!node.IsMap())
    return fail(line_of(node), prefix, "expected a map of keys, got " + shape_of(node));
  for (const auto& entry : node) {
    const auto key = key_text(entry.first);
    if (!key) return fail(line_of(entry.first), prefix, "a key must be a single word");
    const int line = line_of(entry.first);
    const std::string where = prefix + "." + *key;
    const KeySpec* spec = find_key(section, *key);
    if (spec == nullptr) {
      warn(line, where + ": unknown key" + suggest_key(section, *key) + " (ignored)");
      continue;
    }
    if (!spec->not_yet.empty()) {
      warn(line,
           where + ": not used by this version: " + std::string(spec->not_yet) + " (ignored)");
      continue;
    }
    if (entry.second.IsNull()) continue;  // `key: ~` is the same as leaving it out
    if (std::any_of(into.begin(), into.end(), [&](const Setting& s) { return s.spec == spec; })) {
      return fail(line, where, "set twice in the same section");
    }
    Setting setting{spec, where, line, {}};
    if (!read_value(entry.second, *spec, setting)) return false;
    into.push_back(std::move(setting));
  }
  return true;
}

bool valid_profile_name(const std::string& name) {
  return !name.empty() && name.size() <= kMaxProfileName &&
         std::all_of(name.begin(), name.end(), [](unsigned char c) {
           return std::isalnum(c) || c == '-' || c == '_' || c == '.';
         });
}

bool Reader::read_profiles(const YAML::Node& node) {
  if (node.IsNull()) return true;
  if (!node.IsMap()) {
    return fail(line_of(node), "profiles", "expected a map of profile names to their settings");
  }
  for (const auto& entry : node) {
    const auto name = key_text(entry.first);
    const int line = line_of(entry.first);
    if (!name || !valid_profile_name(*name)) {
      return fail(line, "profiles",
                  "a profile name is 1 to 64 letters, digits, '-', '_' or '.', got " +
                      shape_of(entry.first));
    }
    if (out_.find_profile(*name) != nullptr)
      return fail(line, "profiles." + *name, "defined twice");
    Profile profile{*name, line, {}};
    if (!read_section(entry.second, kProfile, "profiles." + *name, profile.settings)) return false;
    out_.profiles.push_back(std::move(profile));
  }
  return true;
}

bool Reader::read_root(const YAML::Node& root) {
  if (root.IsNull()) return true;  // an empty file
  if (!root.IsMap()) {
    return fail(line_of(root), "config",
                "expected a map of sections (defaults:, profiles:, server:)");
  }
  for (const auto& entry : root) {
    const auto key = key_text(entry.first);
    const int line = line_of(entry.first);
    if (!key) return fail(line, "config", "a section name must be a single word");
    if (*key == "defaults") {
      if (!read_section(entry.second, kDefaults, "defaults", out_.defaults)) return false;
    } else if (*key == "profiles") {
      if (!read_profiles(entry.second)) return false;
    } else if (*key == "server") {
      if (!read_section(entry.second, kServer, "server", out_.server)) return false;
    } else {
      warn(line, "unknown section '" + *key + "'" + suggest_word(*key, kSections) + " (ignored)");
    }
  }
  return true;
}

}  // namespace

const Setting* Profile::find(std::string_view key) const {
  return ConfigFile::find(settings, key);
}

const Setting* ConfigFile::find(const std::vector<Setting>& section, std::string_view key) {
  for (const Setting& setting : section) {
    if (setting.spec->key == key) return &setting;
  }
  return nullptr;
}

const Profile* ConfigFile::find_profile(std::string_view name) const {
  for (const Profile& profile : profiles) {
    if (profile.name == name) return &profile;
  }
  return nullptr;
}

std::optional<ConfigFile> parse_config_text(const std::string& text, const std::string& path,
                                            std::string* error) {
  ConfigFile file;
  file.path = path;
  file.exists = true;
  YAML::Node root;
  try {
    root = YAML::Load(text);
    if (!Reader(file, error).read_root(root)) return std::nullopt;
  } catch (const YAML::Exception& e) {
    *error = path + ":" + std::to_string(e.mark.line + 1) + ": not valid YAML: " + e.msg;
    return std::nullopt;
  }
  return file;
}

std::optional<ConfigFile> load_config_file(const std::string& path, std::string* error) {
  std::ifstream stream(path, std::ios::binary);
  if (!stream) {
    if (errno == ENOENT) {
      ConfigFile none;
      none.path = path;
      return none;  // no config file: flags, environment and defaults only
    }
    *error = path + ": cannot read: " + std::strerror(errno);
    return std::nullopt;
  }
  std::string text;
  char chunk[8192];
  while (stream.read(chunk, sizeof chunk) || stream.gcount() > 0) {
    text.append(chunk, static_cast<std::size_t>(stream.gcount()));
    if (text.size() > kMaxFileBytes) {
      *error = path + ": larger than 1 MiB; is this the config file?";
      return std::nullopt;
    }
  }
  if (stream.bad()) {
    *error = path + ": cannot read: " + std::strerror(errno);
    return std::nullopt;
  }
  return parse_config_text(text, path, error);
}

}  // namespace ringtunnel::config
