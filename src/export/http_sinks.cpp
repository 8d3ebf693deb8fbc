#include "export/http_sinks.hpp"

#include <httplib.h>

#include <cmath>

#include "export/ecs_json.hpp"
#include "export/record_json.hpp"
#include "util/log.hpp"

namespace privwatch::exporter {

namespace {

constexpr std::string_view kScopeName = "privwatch";
constexpr std::string_view kVersion = "0.1.0";

std::unique_ptr<httplib::Client> make_client(const Url& url, const config::SinkConfig& sink,
                                             const config::TlsConfig& tls) {
  auto c = std::make_unique<httplib::Client>(url.scheme_host_port);
  const time_t secs = static_cast<time_t>(sink.timeout_ms / 1000);
  const time_t usecs = static_cast<time_t>((sink.timeout_ms % 1000) * 1000);
  c->set_connection_timeout(secs, usecs);
  c->set_read_timeout(secs, usecs);
  c->set_write_timeout(secs, usecs);
  c->set_keep_alive(true);
  c->set_tcp_nodelay(true);  // headers and body are separate writes: no Nagle/delayed-ACK stall
  if (url.scheme_host_port.rfind("https://", 0) == 0) {
    if (!tls.ca_file.empty()) c->set_ca_cert_path(tls.ca_file.c_str());
    c->enable_server_certificate_verification(tls.verify);
  }
  return c;
}

httplib::Headers make_headers(const std::vector<std::pair<std::string, std::string>>& hs) {
  httplib::Headers out;
  for (const auto& [k, v] : hs) out.emplace(k, v);
  return out;
}

// 2xx ok; 408, 429 and 5xx transient; other statuses permanent (the request is wrong).
Delivery classify(const httplib::Result& res, std::string* why) {
  if (!res) {
    *why = httplib::to_string(res.error());
    return Delivery::kRetry;
  }
  if (res->status >= 200 && res->status < 300) return Delivery::kOk;
  *why = fmt::format("HTTP {}", res->status);
  if (res->status == 408 || res->status == 429 || res->status >= 500) return Delivery::kRetry;
  return Delivery::kRejected;
}

void append_kv(std::string& out, std::string_view key, std::string_view value, bool& first) {
  if (!first) out += ',';
  first = false;
  out += "{\"key\":";
  append_json_string(out, key);
  out += ",\"value\":{\"stringValue\":";
  append_json_string(out, value);
  out += "}}";
}

std::string slack_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '&') {
      out += "&amp;";
    } else if (c == '<') {
      out += "&lt;";
    } else if (c == '>') {
      out += "&gt;";
    } else {
      out += c;
    }
  }
  return out;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// OTLP SeverityNumber: INFO 9, INFO2 10, WARN 13, ERROR 17, FATAL 21.
int otlp_severity(model::Severity s) {
  switch (s) {
    case model::Severity::kLow:
      return 10;
    case model::Severity::kMedium:
      return 13;
    case model::Severity::kHigh:
      return 17;
    case model::Severity::kCritical:
      return 21;
    case model::Severity::kInfo:
      break;
  }
  return 9;
}

void append_double(std::string& out, double v) {
  if (!std::isfinite(v)) v = 0;
  fmt::format_to(std::back_inserter(out), "{}", v);
}

}  // namespace

Result<Url> parse_url(const std::string& url) {
  const auto bad = [&](std::string_view why) {
    return Error{ErrorKind::kInvalidArgument, fmt::format("'{}': {}", url, why),
                 "write an http:// or https:// URL, e.g. https://hooks.example.com/privwatch"};
  };
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return bad("not a URL (no scheme://)");
  const std::string scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") return bad("the scheme must be http or https");
  const size_t host_start = scheme_end + 3;
  const size_t slash = url.find('/', host_start);
  Url u;
  u.scheme_host_port = url.substr(0, slash);
  u.path = slash == std::string::npos ? "/" : url.substr(slash);
  if (u.scheme_host_port.size() <= host_start) return bad("no host");
  return u;
}

// ---------------------------------------------------------------------------------------
// Webhooks

std::string slack_text(const model::Alert& a) {
  std::string t = fmt::format("[{}] {}", upper(model::to_string(a.severity)),
                              a.title.empty() ? a.rule : a.title);
  if (!a.user.empty()) t += fmt::format(" — user {}", a.user);
  if (!a.human.empty() && a.human != a.user) t += fmt::format(" (human {})", a.human);
  if (!a.host.empty()) t += fmt::format(" on {}", a.host);
  t += fmt::format(" — rule {}", a.rule);
  if (!a.mitre.empty()) t += fmt::format(" ({})", a.mitre);
  if (!a.explanation.empty()) t += "\n" + a.explanation;
  return slack_escape(t);
}

std::string slack_text(const model::Event& ev, std::string_view hostname) {
  std::string what;
  if (const auto* x = std::get_if<model::ExecData>(&ev.data)) {
    what = x->exe_path.empty() ? x->filename : x->exe_path;
    for (size_t i = 1; i < x->args.size() && i < 8; ++i) what += " " + x->args[i];
  } else if (const auto* f = std::get_if<model::FileData>(&ev.data)) {
    what = fmt::format("{} {}", model::to_string(f->op), f->path);
  } else if (const auto* n = std::get_if<model::NetData>(&ev.data)) {
    what = fmt::format("{} {}:{}", model::to_string(n->op), n->remote_ip(), n->remote_port);
  }
  const std::string& user = ev.user_name.empty() ? std::to_string(ev.proc.uid) : ev.user_name;
  std::string t = fmt::format("{} by {} ({}, pid {}) on {}", model::to_string(ev.kind), user,
                              ev.proc.comm, ev.proc.pid, hostname);
  if (!ev.login_user_name.empty() && ev.login_user_name != user) {
    t += fmt::format(" (login {})", ev.login_user_name);
  }
  if (!what.empty()) t += ": " + what;
  return slack_escape(t);
}

Result<std::unique_ptr<WebhookSink>> WebhookSink::create(const config::WebhookConfig& cfg,
                                                         std::string hostname) {
  auto url = parse_url(cfg.url);
  if (!url) {
    return Error{ErrorKind::kInvalidArgument,
                 fmt::format("exports.webhooks[{}].url: {}", cfg.name, url.error().message),
                 url.error().hint};
  }
  std::unique_ptr<WebhookSink> s(new WebhookSink(cfg, std::move(hostname), std::move(*url)));
  s->start();
  return s;
}

WebhookSink::WebhookSink(const config::WebhookConfig& cfg, std::string hostname, Url url)
    : QueuedSink(cfg.name, cfg.sink, std::move(hostname)), cfg_(cfg), url_(std::move(url)) {
  client_ = make_client(url_, cfg_.sink, cfg_.tls);
}

WebhookSink::~WebhookSink() { close(); }

bool WebhookSink::format_event(const model::Event& ev, Record& rec) {
  std::string& b = rec.body;
  if (cfg_.format == config::WebhookFormat::kSlack) {
    b = "{\"text\":";
    append_json_string(b, slack_text(ev, hostname()));
    b += '}';
    return true;
  }
  b = "{\"type\":\"event\",\"host\":";
  append_json_string(b, hostname());
  b += ",\"event\":";
  append_ecs_json(ev, b, hostname());
  b += '}';
  return true;
}

bool WebhookSink::format_alert(const model::Alert& a, Record& rec) {
  std::string& b = rec.body;
  if (cfg_.format == config::WebhookFormat::kSlack) {
    b = "{\"text\":";
    append_json_string(b, slack_text(a));
    b += '}';
    return true;
  }
  b = "{\"type\":\"alert\",\"host\":";
  append_json_string(b, hostname());
  b += ",\"alert\":";
  b += alert_json(a);
  b += '}';
  return true;
}

Delivery WebhookSink::deliver(const std::vector<Record>& batch, size_t& done) {
  const httplib::Headers headers = make_headers(cfg_.headers);
  for (; done < batch.size(); ++done) {
    std::string why;
    const Delivery d = classify(
        client_->Post(url_.path.c_str(), headers, batch[done].body, "application/json"), &why);
    if (d == Delivery::kOk) {
      if (failing_) log::info("webhook {}: delivering again", name());
      failing_ = false;
      continue;
    }
    if (!failing_ || d == Delivery::kRejected) {
      log::warn("webhook {}: POST {} failed: {}{}", name(), cfg_.url, why,
                d == Delivery::kRetry ? " — retrying with backoff" : " — record dropped");
    }
    failing_ = d == Delivery::kRetry;
    return d;
  }
  return Delivery::kOk;
}

// ---------------------------------------------------------------------------------------
// OTLP

std::string otlp_resource_json(std::string_view hostname) {
  std::string r = "{\"attributes\":[";
  bool first = true;
  append_kv(r, "service.name", "privwatch", first);
  append_kv(r, "service.version", kVersion, first);
  append_kv(r, "host.name", hostname, first);
  r += "]}";
  return r;
}

std::string otlp_logs_json(const std::vector<Record>& batch, size_t from,
                           const std::string& resource_json) {
  std::string j;
  j.reserve(1024 * (batch.size() - from) + 256);
  j += "{\"resourceLogs\":[{\"resource\":";
  j += resource_json;
  j += fmt::format(",\"scopeLogs\":[{{\"scope\":{{\"name\":\"{}\",\"version\":\"{}\"}},",
                   kScopeName, kVersion);
  j += "\"logRecords\":[";
  for (size_t i = from; i < batch.size(); ++i) {
    const Record& r = batch[i];
    if (i > from) j += ',';
    const bool alert = r.type == Record::Type::kAlert;
    const int sev = alert ? otlp_severity(r.severity) : 9;
    fmt::format_to(std::back_inserter(j),
                   "{{\"timeUnixNano\":\"{}\",\"observedTimeUnixNano\":\"{}\",\"severityNumber\":"
                   "{},\"severityText\":",
                   r.time_ns, r.time_ns, sev);
    append_json_string(j, alert ? upper(model::to_string(r.severity)) : "INFO");
    j += ",\"body\":{\"stringValue\":";
    append_json_string(j, r.body);
    j += "},\"attributes\":[";
    bool first = true;
    append_kv(j, "privwatch.record", alert ? "alert" : "event", first);
    append_kv(j, alert ? "rule.name" : "privwatch.kind", r.label, first);
    if (alert) append_kv(j, "event.severity", model::to_string(r.severity), first);
    j += "]}";
  }
  j += "]}]}]}";
  return j;
}

std::string otlp_metrics_json(const MetricsSnapshot& s, const std::string& resource_json) {
  std::string j;
  j.reserve(32 * 1024);
  j += "{\"resourceMetrics\":[{\"resource\":";
  j += resource_json;
  j += fmt::format(",\"scopeMetrics\":[{{\"scope\":{{\"name\":\"{}\",\"version\":\"{}\"}},",
                   kScopeName, kVersion);
  j += "\"metrics\":[";
  bool first_metric = true;
  for (const auto& f : s.families) {
    if (f.samples.empty()) continue;
    if (!first_metric) j += ',';
    first_metric = false;
    j += "{\"name\":";
    append_json_string(j, f.name);
    j += ",\"description\":";
    append_json_string(j, f.help);
    const bool seconds = f.name.size() > 8 && f.name.ends_with("_seconds");
    const bool bytes = f.name.ends_with("_bytes");
    if (seconds) j += ",\"unit\":\"s\"";
    if (bytes) j += ",\"unit\":\"By\"";
    switch (f.type) {
      case MetricType::kCounter:
        j += ",\"sum\":{\"aggregationTemporality\":2,\"isMonotonic\":true,\"dataPoints\":[";
        break;
      case MetricType::kGauge:
        j += ",\"gauge\":{\"dataPoints\":[";
        break;
      case MetricType::kHistogram:
        j += ",\"histogram\":{\"aggregationTemporality\":2,\"dataPoints\":[";
        break;
    }
    for (size_t i = 0; i < f.samples.size(); ++i) {
      const Sample& smp = f.samples[i];
      if (i > 0) j += ',';
      j += "{\"attributes\":[";
      bool first = true;
      for (size_t k = 0; k < f.label_names.size() && k < smp.labels.size(); ++k) {
        append_kv(j, f.label_names[k], smp.labels[k], first);
      }
      fmt::format_to(std::back_inserter(j),
                     "],\"startTimeUnixNano\":\"{}\",\"timeUnixNano\":\"{}\"", s.start_time_unix_ns,
                     s.time_unix_ns);
      if (f.type != MetricType::kHistogram) {
        j += ",\"asDouble\":";
        append_double(j, smp.value);
        j += '}';
        continue;
      }
      const HistogramValue& h = smp.histogram;
      fmt::format_to(std::back_inserter(j), ",\"count\":\"{}\",\"sum\":", h.count);
      append_double(j, h.sum);
      j += ",\"bucketCounts\":[";
      for (size_t b = 0; b < h.counts.size(); ++b) {
        fmt::format_to(std::back_inserter(j), "{}\"{}\"", b > 0 ? "," : "", h.counts[b]);
      }
      j += "],\"explicitBounds\":[";
      for (size_t b = 0; b < h.bounds.size(); ++b) {
        if (b > 0) j += ',';
        append_double(j, h.bounds[b]);
      }
      j += "]}";
    }
    j += "]}}";
  }
  j += "]}]}]}";
  return j;
}

Result<std::unique_ptr<OtlpSink>> OtlpSink::create(const config::OtlpConfig& cfg,
                                                   std::string hostname,
                                                   const MetricsRegistry* registry) {
  auto url = parse_url(cfg.endpoint);
  if (!url) {
    return Error{ErrorKind::kInvalidArgument,
                 fmt::format("exports.otlp.endpoint: {}", url.error().message), url.error().hint};
  }
  if (url->path == "/") url->path.clear();  // paths are appended: /v1/logs
  while (!url->path.empty() && url->path.back() == '/') url->path.pop_back();
  std::unique_ptr<OtlpSink> s(new OtlpSink(cfg, std::move(hostname), std::move(*url), registry));
  s->start();
  return s;
}

OtlpSink::OtlpSink(const config::OtlpConfig& cfg, std::string hostname, Url url,
                   const MetricsRegistry* registry)
    : QueuedSink("otlp", cfg.sink, hostname, std::chrono::milliseconds(cfg.linger_ms)),
      cfg_(cfg),
      url_(std::move(url)),
      registry_(registry) {
  client_ = make_client(url_, cfg_.sink, cfg_.tls);
  resource_json_ = otlp_resource_json(hostname);
  next_metrics_ = std::chrono::steady_clock::now() + std::chrono::seconds(cfg_.metrics_interval_s);
}

OtlpSink::~OtlpSink() { close(); }

bool OtlpSink::format_event(const model::Event& ev, Record& rec) {
  append_ecs_json(ev, rec.body, hostname());
  return true;
}

Delivery OtlpSink::post(const std::string& path, const std::string& body, std::string* why) {
  return classify(client_->Post((url_.path + path).c_str(), make_headers(cfg_.headers), body,
                                "application/json"),
                  why);
}

Delivery OtlpSink::deliver(const std::vector<Record>& batch, size_t& done) {
  std::string why;
  const Delivery d = post("/v1/logs", otlp_logs_json(batch, done, resource_json_), &why);
  if (d == Delivery::kOk) {
    if (failing_) log::info("otlp: delivering logs to {} again", cfg_.endpoint);
    failing_ = false;
    done = batch.size();
    return d;
  }
  if (!failing_ || d == Delivery::kRejected) {
    log::warn("otlp: POST {}/v1/logs failed: {}{}", cfg_.endpoint, why,
              d == Delivery::kRetry ? " — retrying with backoff" : " — batch dropped");
  }
  failing_ = d == Delivery::kRetry;
  return d == Delivery::kRejected ? Delivery::kRejectedAll : d;
}

void OtlpSink::tick() {
  if (cfg_.metrics_interval_s == 0 || registry_ == nullptr) return;
  const auto now = std::chrono::steady_clock::now();
  if (now < next_metrics_ && !stopping()) return;
  next_metrics_ = now + std::chrono::seconds(cfg_.metrics_interval_s);
  const auto snap = registry_->current();
  if (!snap) return;
  std::string why;
  if (post("/v1/metrics", otlp_metrics_json(*snap, resource_json_), &why) == Delivery::kOk) {
    metric_exports_.fetch_add(1);
  } else {
    if (metric_export_failures_.fetch_add(1) == 0 || !failing_) {
      log::warn("otlp: POST {}/v1/metrics failed: {} (the next push carries the totals)",
                cfg_.endpoint, why);
    }
  }
}

}  // namespace privwatch::exporter
