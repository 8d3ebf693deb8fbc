// `metrics:` and `exports:` sections (docs/configuration.md). Same rules as config.cpp: every
// error names file:line:col, what is wrong and what to do; keys left out keep their default.
#include "config/exports_config.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <span>
#include <string_view>

namespace privwatch::config {
namespace {

constexpr std::string_view kMetricsKeys[] = {"enabled", "listen", "interval_ms",
                                             "file_created_max_series", "max_series"};
constexpr std::string_view kExportsKeys[] = {"otlp", "syslog", "webhooks"};
constexpr std::string_view kSinkKeys[] = {"records",      "min_severity", "queue_size",
                                          "batch_size",   "max_retries",  "retry_initial_ms",
                                          "retry_max_ms", "timeout_ms"};
constexpr std::string_view kOtlpKeys[] = {"enabled",   "endpoint", "headers", "metrics_interval_s",
                                          "linger_ms", "tls"};
constexpr std::string_view kSyslogKeys[] = {"enabled",  "transport", "address",
                                            "facility", "app_name",  "tls"};
constexpr std::string_view kWebhookKeys[] = {"name", "url", "format", "headers", "tls"};
constexpr std::string_view kTlsKeys[] = {"ca_file", "verify", "server_name"};
constexpr std::string_view kSeverities[] = {"info", "low", "medium", "high", "critical"};
constexpr std::string_view kFacilities[] = {
    "kern",   "user",   "mail",     "daemon", "auth",   "syslog", "lpr",    "news",
    "uucp",   "cron",   "authpriv", "ftp",    "ntp",    "audit",  "alert",  "clock",
    "local0", "local1", "local2",   "local3", "local4", "local5", "local6", "local7"};

std::string join(std::span<const std::string_view> items) {
  std::string out;
  for (const auto& i : items) {
    if (!out.empty()) out += ", ";
    out += i;
  }
  return out;
}

std::string describe(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
      return "an empty value";
    case YAML::NodeType::Scalar:
      return fmt::format("'{}'", n.Scalar().substr(0, 60));
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    default:
      return "nothing";
  }
}

class SectionParser {
 public:
  explicit SectionParser(const std::string& origin) : origin_(origin) {}

  Error error(const YAML::Node& at, const std::string& what, std::string hint) const {
    const YAML::Mark m = at.Mark();
    const std::string where =
        m.is_null() ? origin_ : fmt::format("{}:{}:{}", origin_, m.line + 1, m.column + 1);
    return Error{ErrorKind::kInvalidArgument, fmt::format("{}: {}", where, what), std::move(hint)};
  }

  // `extra` keys are also allowed (the sink keys mixed into an output section).
  Status check_keys(const YAML::Node& n, const std::string& name,
                    std::span<const std::string_view> known,
                    std::span<const std::string_view> extra = {}) const {
    if (n.IsNull()) return {};
    std::string all = join(known);
    if (!extra.empty()) all += ", " + join(extra);
    if (!n.IsMap()) {
      return error(n, fmt::format("{}: expected a mapping of keys, got {}", name, describe(n)),
                   fmt::format("write '{}:' followed by indented keys: {}", name, all));
    }
    std::vector<std::string> seen;
    for (const auto& kv : n) {
      const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "";
      if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
        return error(kv.first, fmt::format("duplicate key '{}' in '{}'", key, name),
                     "remove one of the two; YAML does not merge repeated keys");
      }
      seen.push_back(key);
      const auto in = [&](std::span<const std::string_view> ks) {
        return std::find(ks.begin(), ks.end(), key) != ks.end();
      };
      if (!in(known) && !in(extra)) {
        return error(kv.first, fmt::format("unknown key '{}' in '{}' (known: {})", key, name, all),
                     "fix or remove the key; every key is documented in docs/configuration.md");
      }
    }
    return {};
  }

  static std::optional<YAML::Node> find(const YAML::Node& n, std::string_view key) {
    if (!n.IsMap()) return std::nullopt;
    for (const auto& kv : n) {
      if (kv.first.Scalar() == key) return kv.second;
    }
    return std::nullopt;
  }

  Status read_bool(const YAML::Node& n, const std::string& name, bool& out) const {
    bool v = false;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v)) {
      return error(n, fmt::format("{}: expected true or false, got {}", name, describe(n)),
                   fmt::format("set {} to true or false", name));
    }
    out = v;
    return {};
  }

  Status read_uint(const YAML::Node& n, const std::string& name, uint64_t lo, uint64_t hi,
                   uint32_t& out) const {
    uint64_t v = 0;
    const std::string s = n.IsScalar() ? n.Scalar() : "";
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size()) {
      return error(n, fmt::format("{}: expected a number, got {}", name, describe(n)),
                   fmt::format("write a whole number between {} and {}", lo, hi));
    }
    if (v < lo || v > hi) {
      return error(n, fmt::format("{}: {} is out of range ({}..{})", name, s, lo, hi),
                   fmt::format("set {} to a whole number between {} and {}", name, lo, hi));
    }
    out = static_cast<uint32_t>(v);
    return {};
  }

  Status read_string(const YAML::Node& n, const std::string& name, std::string& out,
                     bool allow_empty = true) const {
    if (!n.IsScalar() || (!allow_empty && n.Scalar().empty())) {
      return error(n, fmt::format("{}: expected a text value, got {}", name, describe(n)),
                   fmt::format("set {} to a quoted string", name));
    }
    out = n.Scalar();
    return {};
  }

  // One of `choices`; returns its index.
  Status read_choice(const YAML::Node& n, const std::string& name,
                     std::span<const std::string_view> choices, size_t& index) const {
    const std::string s = n.IsScalar() ? n.Scalar() : "";
    for (size_t i = 0; i < choices.size(); ++i) {
      if (choices[i] == s) {
        index = i;
        return {};
      }
    }
    return error(n, fmt::format("{}: {} is not one of {}", name, describe(n), join(choices)),
                 fmt::format("set {} to one of {}", name, join(choices)));
  }

  Status read_headers(const YAML::Node& n, const std::string& name,
                      std::vector<std::pair<std::string, std::string>>& out) const {
    out.clear();
    if (n.IsNull()) return {};
    const std::string hint =
        fmt::format("write {}: {{Authorization: \"Bearer <token>\"}} (header name: value)", name);
    if (!n.IsMap()) {
      return error(
          n, fmt::format("{}: expected a mapping of header: value, got {}", name, describe(n)),
          hint);
    }
    for (const auto& kv : n) {
      const std::string k = kv.first.IsScalar() ? kv.first.Scalar() : "";
      const bool bad_name = k.empty() || std::any_of(k.begin(), k.end(), [](char c) {
                              return c <= ' ' || c == ':' || c >= 127;
                            });
      if (bad_name) {
        return error(kv.first, fmt::format("{}: '{}' is not a valid header name", name, k), hint);
      }
      if (!kv.second.IsScalar() || kv.second.Scalar().find_first_of("\r\n") != std::string::npos) {
        return error(kv.second, fmt::format("{}.{}: expected a one-line text value", name, k),
                     hint);
      }
      out.emplace_back(k, kv.second.Scalar());
    }
    return {};
  }

  Status apply_tls(const YAML::Node& n, const std::string& name, TlsConfig& t) const {
    if (auto s = check_keys(n, name, kTlsKeys); !s) return s;
    if (auto v = find(n, "ca_file")) {
      if (auto s = read_string(*v, name + ".ca_file", t.ca_file); !s) return s;
    }
    if (auto v = find(n, "verify")) {
      if (auto s = read_bool(*v, name + ".verify", t.verify); !s) return s;
    }
    if (auto v = find(n, "server_name")) {
      if (auto s = read_string(*v, name + ".server_name", t.server_name); !s) return s;
    }
    return {};
  }

  Status apply_sink(const YAML::Node& n, const std::string& name, SinkConfig& c) const {
    if (auto v = find(n, "records")) {
      const std::string hint = fmt::format(
          "set {}.records to a list of what to send: [alerts], [events] or [events, alerts]", name);
      if (!v->IsSequence()) {
        return error(*v, fmt::format("{}.records: expected a list, got {}", name, describe(*v)),
                     hint);
      }
      c.events = c.alerts = false;
      for (size_t i = 0; i < v->size(); ++i) {
        const std::string s = (*v)[i].IsScalar() ? (*v)[i].Scalar() : "";
        if (s == "events") {
          c.events = true;
        } else if (s == "alerts") {
          c.alerts = true;
        } else {
          return error((*v)[i],
                       fmt::format("{}.records[{}]: {} is neither events nor alerts", name, i,
                                   describe((*v)[i])),
                       hint);
        }
      }
    }
    if (auto v = find(n, "min_severity")) {
      size_t i = 0;
      if (auto s = read_choice(*v, name + ".min_severity", kSeverities, i); !s) return s;
      c.min_severity = static_cast<MinSeverity>(i);
    }
    const struct {
      std::string_view key;
      uint32_t* target;
      uint64_t lo, hi;
    } fields[] = {{"queue_size", &c.queue_size, 1, 10'000'000},
                  {"batch_size", &c.batch_size, 1, 100'000},
                  {"max_retries", &c.max_retries, 0, 1000},
                  {"retry_initial_ms", &c.retry_initial_ms, 1, 3'600'000},
                  {"retry_max_ms", &c.retry_max_ms, 1, 3'600'000},
                  {"timeout_ms", &c.timeout_ms, 1, 600'000}};
    for (const auto& f : fields) {
      if (auto v = find(n, f.key)) {
        if (auto s = read_uint(*v, fmt::format("{}.{}", name, f.key), f.lo, f.hi, *f.target); !s) {
          return s;
        }
      }
    }
    return {};
  }

  Status apply_otlp(const YAML::Node& n, OtlpConfig& o) const {
    const std::string name = "exports.otlp";
    if (auto s = check_keys(n, name, kOtlpKeys, kSinkKeys); !s) return s;
    if (auto v = find(n, "enabled")) {
      if (auto s = read_bool(*v, name + ".enabled", o.enabled); !s) return s;
    }
    if (auto v = find(n, "endpoint")) {
      if (auto s = read_url(*v, name + ".endpoint", o.endpoint); !s) return s;
    }
    if (auto v = find(n, "headers")) {
      if (auto s = read_headers(*v, name + ".headers", o.headers); !s) return s;
    }
    if (auto v = find(n, "metrics_interval_s")) {
      if (auto s = read_uint(*v, name + ".metrics_interval_s", 0, 86400, o.metrics_interval_s);
          !s) {
        return s;
      }
    }
    if (auto v = find(n, "linger_ms")) {
      if (auto s = read_uint(*v, name + ".linger_ms", 0, 60000, o.linger_ms); !s) return s;
    }
    if (auto v = find(n, "tls")) {
      if (auto s = apply_tls(*v, name + ".tls", o.tls); !s) return s;
    }
    return apply_sink(n, name, o.sink);
  }

  Status read_url(const YAML::Node& v, const std::string& name, std::string& out) const {
    std::string s;
    if (auto st = read_string(v, name, s, false); !st) return st;
    if (s.rfind("http://", 0) != 0 && s.rfind("https://", 0) != 0) {
      return error(v, fmt::format("{}: '{}' is not an http:// or https:// URL", name, s),
                   fmt::format("set {} to a URL such as https://collector.example.com:4318", name));
    }
    out = s;
    return {};
  }

  Status read_address(const YAML::Node& v, const std::string& name, std::string& out) const {
    std::string s;
    if (auto st = read_string(v, name, s, false); !st) return st;
    const size_t colon = s.rfind(':');
    unsigned port = 0;
    const char* b = colon == std::string::npos ? nullptr : s.data() + colon + 1;
    const bool ok = b != nullptr && [&] {
      const auto [p, ec] = std::from_chars(b, s.data() + s.size(), port);
      return ec == std::errc() && p == s.data() + s.size() && port <= 65535 && b != p;
    }();
    const std::string host = colon == std::string::npos ? "" : s.substr(0, colon);
    if (!ok || (host.find(':') != std::string::npos && host.front() != '[')) {
      return error(
          v, fmt::format("{}: '{}' is not host:port", name, s),
          fmt::format("set {} to host:port, e.g. 127.0.0.1:9469, [::1]:9469 or :9469", name));
    }
    out = s;
    return {};
  }

  Status apply_syslog(const YAML::Node& n, SyslogConfig& c) const {
    const std::string name = "exports.syslog";
    if (auto s = check_keys(n, name, kSyslogKeys, kSinkKeys); !s) return s;
    if (auto v = find(n, "enabled")) {
      if (auto s = read_bool(*v, name + ".enabled", c.enabled); !s) return s;
    }
    if (auto v = find(n, "transport")) {
      static constexpr std::string_view kT[] = {"udp", "tcp", "tls"};
      size_t i = 0;
      if (auto s = read_choice(*v, name + ".transport", kT, i); !s) return s;
      c.transport = static_cast<SyslogTransport>(i);
    }
    if (auto v = find(n, "address")) {
      if (auto s = read_address(*v, name + ".address", c.address); !s) return s;
    }
    if (auto v = find(n, "facility")) {
      size_t i = 0;
      if (auto s = read_choice(*v, name + ".facility", kFacilities, i); !s) return s;
      c.facility = std::string(kFacilities[i]);
      c.facility_code = static_cast<uint32_t>(i);
    }
    if (auto v = find(n, "app_name")) {
      if (auto s = read_string(*v, name + ".app_name", c.app_name, false); !s) return s;
      const bool printable = std::all_of(c.app_name.begin(), c.app_name.end(),
                                         [](char ch) { return ch > 32 && ch < 127; });
      if (!printable || c.app_name.size() > 48) {
        return error(*v,
                     fmt::format("{}.app_name: '{}' is not 1..48 printable ASCII characters "
                                 "without spaces (RFC 5424 APP-NAME)",
                                 name, c.app_name),
                     "use a short name such as privwatch");
      }
    }
    if (auto v = find(n, "tls")) {
      if (auto s = apply_tls(*v, name + ".tls", c.tls); !s) return s;
    }
    return apply_sink(n, name, c.sink);
  }

  Status apply_webhooks(const YAML::Node& n, std::vector<WebhookConfig>& out) const {
    const std::string hint =
        "write exports.webhooks as a list of mappings, e.g.\n  webhooks:\n    - url: "
        "https://hooks.slack.com/services/...\n      format: slack";
    out.clear();
    if (n.IsNull()) return {};
    if (!n.IsSequence()) {
      return error(n, fmt::format("exports.webhooks: expected a list, got {}", describe(n)), hint);
    }
    for (size_t i = 0; i < n.size(); ++i) {
      const YAML::Node& w = n[i];
      const std::string name = fmt::format("exports.webhooks[{}]", i);
      if (!w.IsMap()) {
        return error(w, fmt::format("{}: expected a mapping, got {}", name, describe(w)), hint);
      }
      if (auto s = check_keys(w, name, kWebhookKeys, kSinkKeys); !s) return s;
      WebhookConfig c;
      c.name = fmt::format("webhook{}", i);
      const auto url = find(w, "url");
      if (!url) {
        return error(w, fmt::format("{}: 'url' is missing", name),
                     "add url: https://... (the address the records are POSTed to)");
      }
      if (auto s = read_url(*url, name + ".url", c.url); !s) return s;
      if (auto v = find(w, "name")) {
        if (auto s = read_string(*v, name + ".name", c.name, false); !s) return s;
        for (const auto& other : out) {
          if (other.name == c.name) {
            return error(*v, fmt::format("{}.name: '{}' is used twice", name, c.name),
                         "give every webhook its own name (it labels its metrics)");
          }
        }
      }
      if (auto v = find(w, "format")) {
        static constexpr std::string_view kF[] = {"json", "slack"};
        size_t k = 0;
        if (auto s = read_choice(*v, name + ".format", kF, k); !s) return s;
        c.format = static_cast<WebhookFormat>(k);
      }
      if (auto v = find(w, "headers")) {
        if (auto s = read_headers(*v, name + ".headers", c.headers); !s) return s;
      }
      if (auto v = find(w, "tls")) {
        if (auto s = apply_tls(*v, name + ".tls", c.tls); !s) return s;
      }
      c.sink.batch_size = 1;
      if (auto s = apply_sink(w, name, c.sink); !s) return s;
      out.push_back(std::move(c));
    }
    return {};
  }

 private:
  const std::string& origin_;
};

}  // namespace

Status apply_metrics_section(const YAML::Node& n, const std::string& origin, MetricsConfig& m) {
  SectionParser p(origin);
  if (auto s = p.check_keys(n, "metrics", kMetricsKeys); !s) return s;
  if (auto v = SectionParser::find(n, "enabled")) {
    if (auto s = p.read_bool(*v, "metrics.enabled", m.enabled); !s) return s;
  }
  if (auto v = SectionParser::find(n, "listen")) {
    if (auto s = p.read_address(*v, "metrics.listen", m.listen); !s) return s;
  }
  if (auto v = SectionParser::find(n, "interval_ms")) {
    if (auto s = p.read_uint(*v, "metrics.interval_ms", 100, 60000, m.interval_ms); !s) return s;
  }
  if (auto v = SectionParser::find(n, "file_created_max_series")) {
    if (auto s = p.read_uint(*v, "metrics.file_created_max_series", 0, 1'000'000,
                             m.file_created_max_series);
        !s) {
      return s;
    }
  }
  if (auto v = SectionParser::find(n, "max_series")) {
    if (auto s = p.read_uint(*v, "metrics.max_series", 1, 1'000'000, m.max_series); !s) return s;
  }
  return {};
}

Status apply_exports_section(const YAML::Node& n, const std::string& origin, ExportsConfig& e) {
  SectionParser p(origin);
  if (auto s = p.check_keys(n, "exports", kExportsKeys); !s) return s;
  if (auto v = SectionParser::find(n, "otlp")) {
    if (auto s = p.apply_otlp(*v, e.otlp); !s) return s;
  }
  if (auto v = SectionParser::find(n, "syslog")) {
    if (auto s = p.apply_syslog(*v, e.syslog); !s) return s;
  }
  if (auto v = SectionParser::find(n, "webhooks")) {
    if (auto s = p.apply_webhooks(*v, e.webhooks); !s) return s;
  }
  return {};
}

}  // namespace privwatch::config
