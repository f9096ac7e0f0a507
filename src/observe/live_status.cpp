// SPDX-License-Identifier: MIT
// LiveStatus to and from JSON (nlohmann_json).
#include "observe/live_status.hpp"

#include <nlohmann/json.hpp>
#include <type_traits>

namespace ringtunnel::observe {

using nlohmann::json;

std::string to_json(const LiveStatus& status) {
  json sessions = json::array();
  for (const LiveSession& s : status.sessions) {
    json entry = {{"name", s.name},
                  {"core", s.core},
                  {"uptime_seconds", s.uptime_seconds},
                  {"streams_open", s.streams_open},
                  {"bytes_in", s.bytes_in},
                  {"bytes_out", s.bytes_out}};
    entry["rtt_ms"] = s.rtt_ms ? json(*s.rtt_ms) : json(nullptr);
    sessions.push_back(std::move(entry));
  }
  const json out = {{"role", status.role},
                    {"pid", status.pid},
                    {"version", status.version},
                    {"uptime_seconds", status.uptime_seconds},
                    {"address", status.address},
                    {"state", status.state},
                    {"tunnels", status.tunnels},
                    {"sessions", std::move(sessions)},
                    {"sessions_total", status.sessions_total},
                    {"streams_total", status.streams_total},
                    {"bytes_in", status.bytes_in},
                    {"bytes_out", status.bytes_out},
                    {"complete", status.complete}};
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<LiveStatus> live_status_from_json(const std::string& text, std::string* error) {
  const json in = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!in.is_object()) {
    *error = "not a JSON object";
    return std::nullopt;
  }
  LiveStatus status;
  // Each field: the right type or the whole answer is refused.
  const auto get = [&](const json& from, const char* key, auto& into) {
    using T = std::decay_t<decltype(into)>;
    const auto found = from.find(key);
    if (found == from.end()) return true;  // optional everywhere: an older peer may omit it
    // nlohmann converts -1 to a huge unsigned and 2.5 to 2: numbers are checked first.
    const bool fits = !std::is_arithmetic_v<T> || std::is_same_v<T, bool> ? true
                      : std::is_floating_point_v<T>                       ? found->is_number()
                      : std::is_unsigned_v<T> ? found->is_number_unsigned()
                                              : found->is_number_integer();
    if (!fits) {
      *error = std::string("field '") + key + "' has the wrong type";
      return false;
    }
    try {
      into = found->template get<T>();
      return true;
    } catch (const json::exception&) {
      *error = std::string("field '") + key + "' has the wrong type";
      return false;
    }
  };
  bool ok =
      get(in, "role", status.role) && get(in, "pid", status.pid) &&
      get(in, "version", status.version) && get(in, "uptime_seconds", status.uptime_seconds) &&
      get(in, "address", status.address) && get(in, "state", status.state) &&
      get(in, "tunnels", status.tunnels) && get(in, "sessions_total", status.sessions_total) &&
      get(in, "streams_total", status.streams_total) && get(in, "bytes_in", status.bytes_in) &&
      get(in, "bytes_out", status.bytes_out) && get(in, "complete", status.complete);
  if (!ok) return std::nullopt;
  const auto sessions = in.find("sessions");
  if (sessions != in.end()) {
    if (!sessions->is_array()) {
      *error = "field 'sessions' is not a list";
      return std::nullopt;
    }
    for (const json& entry : *sessions) {
      if (!entry.is_object()) {
        *error = "a session is not an object";
        return std::nullopt;
      }
      LiveSession s;
      double rtt = 0;
      const bool has_rtt = entry.contains("rtt_ms") && !entry["rtt_ms"].is_null();
      if (!get(entry, "name", s.name) || !get(entry, "core", s.core) ||
          !get(entry, "uptime_seconds", s.uptime_seconds) ||
          !get(entry, "streams_open", s.streams_open) || !get(entry, "bytes_in", s.bytes_in) ||
          !get(entry, "bytes_out", s.bytes_out) || (has_rtt && !get(entry, "rtt_ms", rtt))) {
        return std::nullopt;
      }
      if (has_rtt) s.rtt_ms = rtt;
      status.sessions.push_back(std::move(s));
    }
  }
  return status;
}

}  // namespace ringtunnel::observe
