// Agent configuration: YAML → typed Config, validated. See docs/configuration.md.
//
// Parsing overlays the user's document on the embedded default: a key the user leaves out keeps
// the default value, a list the user sets replaces the default list. So an empty document is the
// embedded default by construction, and the two cannot disagree.
#include "config/config.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstddef>
#include <exception>
#include <optional>
#include <span>
#include <string_view>
#include <system_error>
#include <utility>

#include "util/fd.hpp"
#include "util/yaml_documents.hpp"

namespace privwatch::config {
namespace {

// Keep byte-for-byte identical to config/privwatch.yaml (a unit test compares them).
constexpr char kEmbeddedDefaultYaml[] = R"yaml(# privwatch agent configuration: the default.
#
# The agent uses exactly this configuration when it is started without --config (it is compiled
# into the binary). Every key is optional: a key you leave out keeps the value shown here, and an
# empty file means this configuration. Lists you set replace the default list; they are not merged.
# Unknown keys, wrong types and out-of-range values are errors that name the file, line and column.
# Reference: docs/configuration.md

# Agent log verbosity (logs go to stderr): trace, debug, info, warn or error.
log_level: info

# Kernel-side capture.
capture:
  # Ring buffer shared with the kernel, in MiB. A power of two, 1..1024.
  ring_buffer_mb: 16
  # Longest time an event waits in the ring buffer before the agent is woken, in ms. 1..100.
  wakeup_delay_ms: 2
  # Wake the agent early once this many bytes are pending. 4096 .. half the ring buffer.
  wakeup_bytes: 262144
  # argv entries kept per exec. 1..1024.
  max_args: 64
  # argv bytes read in the kernel per exec. 64..8192.
  max_arg_bytes: 4096
  # At most one "events dropped" log line per this many seconds. 1..3600.
  drop_log_interval_s: 5

# Whose file activity is monitored in full. exec, connect and credential changes are captured
# for every process regardless. A process that matches any entry below is monitored.
monitor:
  # Processes whose uid or euid is 0.
  root: true
  # Every process of a login session (any process with an audit loginuid).
  all_logins: false
  # Processes running as these users: names or numeric uids.
  users: []
  # Members (primary or supplementary) of these groups: names or numeric gids. A group name
  # this host does not know is skipped, not an error (Debian has sudo, RHEL has wheel).
  groups: [sudo, wheel]
  # Processes whose audit loginuid (the human who logged in) is one of these users: names or
  # numeric uids. A user name this host does not know is skipped, as in users.
  loginuids: []
  # Audit session ids (numbers).
  sessions: []
  # cgroup v2 directories (absolute paths), e.g. /sys/fs/cgroup/system.slice/nginx.service
  cgroups: []

# Path prefixes whose file activity is sensitive. Absolute, shorter than 128 bytes, compared
# byte for byte with the path the kernel resolves: keep the trailing "/" of a directory.
sensitive_paths:
  - /etc/
  - /root/.ssh/
  - /boot/
  - /bin/
  - /sbin/
  - /lib/
  - /lib64/
  - /usr/bin/
  - /usr/sbin/
  - /usr/lib/
  - /usr/lib64/
  - /usr/libexec/
  - /usr/local/bin/
  - /usr/local/sbin/
  - /var/spool/cron/

# Where events go, one JSON object per line.
output:
  # "-" for stdout, or a file (its directory must exist) that is rotated by size.
  path: "-"
  # Rotate the file once it exceeds this many MiB. 1..100000.
  max_size_mb: 100
  # Rotated files kept: path.1 .. path.N. 1..1000.
  max_files: 5

# The agent's table of live processes.
process_table:
  # Processes tracked at most; bounds memory. 1024..4194304.
  max_entries: 65536
  # Seconds an exited process is kept for events that arrive late. 0..3600.
  exited_grace_s: 30

# Roles, clusters, service accounts and access grants (docs/inventory.md).
inventory:
  # The inventory file (its own YAML). A missing file is an empty inventory. Reloaded on SIGHUP.
  path: /etc/privwatch/inventory.yaml
  # Grant files written by `privwatch grant add` (a directory, or one file). Owned by root, not
  # writable by group or others. A missing directory means no grants. Reloaded on SIGHUP.
  grants: /etc/privwatch/grants.d

# The embedded tamper-evident store: events, sessions, alerts... in one SQLite database, hash
# chained, with signed checkpoints. Read by privwatch search / alerts / report / verify.
# Reference: docs/store.md
store:
  # Keep records in the store. When false the agent only writes the output above.
  enabled: true
  # The database file. Its directory is created (mode 0700) when missing.
  path: /var/lib/privwatch/privwatch.db
  # Ed25519 signing key for checkpoints and tombstones, created (mode 0600) on first start.
  # Export the public key with: privwatch store pubkey
  key_path: /var/lib/privwatch/store.key
  # Longest time a record waits before it is committed, in ms. 1..60000.
  commit_interval_ms: 200
  # Records buffered between the pipeline and the database writer; beyond this they are
  # dropped and counted. 1024..16777216.
  queue_size: 262144
  # ... and the memory they may take, in MiB (whichever limit comes first): under a flood
  # this is most of the agent's memory (budget: 30 MB). 4 MiB hold ~4,500 events: ~90 ms of
  # store stall at 50,000 events/s, ~20 ms at 200,000. 1..4096.
  queue_max_mb: 4
  # A signed checkpoint after this many records ... 1..1000000000
  checkpoint_every: 100000
  # ... or after this many seconds, whichever comes first. 1..86400.
  checkpoint_interval_s: 60
  # Copies of every checkpoint sent off the host so that truncation is detectable:
  # a file (one JSON object per line; "" for none) ...
  checkpoint_file: ""
  # ... syslog (facility authpriv) ...
  checkpoint_syslog: false
  # ... and an HTTP POST of the JSON object ("" for none), e.g. http://10.0.0.5:8080/checkpoints
  checkpoint_url: ""
  # Seconds between retention runs. 60..86400.
  prune_interval_s: 3600
  # How long records of each kind are kept: 90s, 15m, 12h, 30d, 2w or 1y (365 days), or
  # forever. Pruned records leave a signed tombstone so that verify still passes.
  retention:
    event: 365d
    session: 7y
    alert: 7y
    escalation: 7y
    recording: 7y
    response: 7y

# Prometheus metrics: GET /metrics on `listen` (docs/exports.md lists every series).
metrics:
  # Serve the endpoint. Off by default: opening a port is your decision.
  enabled: false
  # host:port to listen on ([::1]:9469 for IPv6, :9469 for every address).
  listen: "127.0.0.1:9469"
  # How often the pipeline publishes fresh values, in ms. 100..60000.
  interval_ms: 1000
  # Distinct {path,name} series of privwatch_file_created_total; further files are counted in
  # one path="_overflow_" series. 0..1000000.
  file_created_max_series: 1000
  # Series of other labelled families (alerts by rule, baseline maturity). 1..1000000.
  max_series: 1000

# Outputs besides output.path, each with its own thread and bounded queue: a slow or dead
# receiver drops records (counted in privwatch_sink_dropped_total), never stalls capture.
# Common keys of every output: records ([alerts], [events] or [events, alerts]),
# min_severity (alerts below it are not sent: info, low, medium, high, critical), queue_size,
# batch_size, max_retries, retry_initial_ms, retry_max_ms (exponential backoff), timeout_ms.
exports:
  # OpenTelemetry over OTLP/HTTP with JSON encoding: events and alerts as logs, metrics as
  # OTLP metrics. /v1/logs and /v1/metrics are appended to the endpoint.
  otlp:
    enabled: false
    endpoint: "http://127.0.0.1:4318"
    # Extra request headers, e.g. {Authorization: "Bearer <token>"}.
    headers: {}
    records: [alerts]
    min_severity: low
    # Push metrics every this many seconds; 0 = no metrics. 0..86400.
    metrics_interval_s: 30
    # Wait at most this long to fill a batch of events, in ms. 0..60000.
    linger_ms: 200
    queue_size: 10000
    batch_size: 100
    max_retries: 5
    retry_initial_ms: 200
    retry_max_ms: 10000
    timeout_ms: 5000
  # syslog, RFC 5424: transport udp, tcp (octet-counting framing, RFC 6587) or tls (RFC 5425).
  syslog:
    enabled: false
    transport: udp
    address: "127.0.0.1:514"
    facility: authpriv
    app_name: privwatch
    records: [alerts]
    min_severity: low
    queue_size: 10000
    batch_size: 100
    max_retries: 5
    retry_initial_ms: 200
    retry_max_ms: 10000
    timeout_ms: 5000
    # transport tls: ca_file "" = the system trust store; verify checks the certificate and
    # the name (server_name, or the host of address).
    tls:
      ca_file: ""
      verify: true
      server_name: ""
  # Webhooks: one POST per record; format json (generic) or slack ({"text": ...}). Each entry:
  # url (required), name, format, headers, tls, and the common keys. Example:
  #   - url: https://hooks.slack.com/services/T000/B000/XXXX
  #     format: slack
  #     min_severity: high
  webhooks: []

# Detection rules and alerts (docs/rules.md).
detect:
  # Evaluate rules on every event; alerts go to the output next to the events.
  enabled: true
  # Load the default ruleset: config/rules of the source tree when privwatch runs from its build
  # tree, <prefix>/share/privwatch/rules when installed, else the copy built into the binary.
  default_rules: true
  # More rule files or directories (absolute paths; *.yaml in our format or Sigma), loaded after
  # the default ruleset. The agent reloads every rule on SIGHUP.
  rules: []
  # Identical alerts (same rule, message and session) within this many seconds are folded into
  # one; the next one after the window carries the count. 0 (off)..86400.
  dedup_window_s: 60
  # At most this many alerts per rule and minute; the rest are dropped and counted. 0 = no limit.
  rate_limit_per_minute: 60
  # Partial sequence matches kept at most, all rules together; beyond it the oldest is evicted
  # and counted. 100..1000000.
  max_sequence_states: 10000

# Response to alerts and on demand (docs/response.md). Every action is itself recorded.
respond:
  # Act on alerts whose rule lists a response (response: [warn, freeze, ...], mode: enforce).
  enabled: true
  # Record what would be done without doing it.
  dry_run: false
  # Never acted on: process names or absolute executable paths. The agent itself, PID 1 and
  # kernel threads are always protected.
  protected: [systemd, systemd-logind, dbus-daemon, auditd]
  # Banner written to the session's terminals by warn; {reason}, {host} and {id} (the action
  # id) are replaced.
  warn_message: "privwatch on {host}: {reason}. This session is monitored; the security team has been notified (action {id})."
  # `privwatch respond` appends one JSON line per action here (its directory must exist).
  actions_log: /var/log/privwatch/actions.json
  # freeze and terminate rescan the session until no process is left running, at most this
  # many times (a process may fork while it is being stopped). 1..1000.
  max_rounds: 20
  # In-kernel enforcement: a monitored process that makes a matching syscall is killed with
  # SIGKILL by the kernel at that syscall. Entries: {name: ..., exec: /abs/path} or
  # {name: ..., connect: "203.0.113.0/24:4444"} (address, CIDR, [IPv6]:port or *:port).
  kill: []

# Behavioural baselines (docs/baselines.md): learn what is normal for each user, role and
# cluster and alert when deviations coincide in several of them.
baselines:
  # Learn and alert. Alerts go to the event output as JSON lines ("privwatch.record": "alert").
  enabled: false
  # Snapshot of what was learned, written atomically every snapshot_interval_s and at exit;
  # read at start. "" keeps the baselines in memory only (they are lost at restart).
  state_file: ""
  # Analyst verdicts, appended by `privwatch alert ID --benign`, folded into the baselines.
  feedback_file: ""
  # MaxMind-format country database (GeoLite2-Country.mmdb); "" for no destination countries.
  geoip_database: ""
  # Networks counted as internal besides RFC 1918, loopback, link-local, CGNAT and ULA (CIDRs).
  internal_networks: []
  # Old behaviour counts half after this many days. 1..3650.
  half_life_days: 30
  # An entity (user, role, cluster) is mature after this many days of history... 0..365
  learning_days: 14
  # ...and this many events; until then its deviations count for less. 0..1000000.
  min_events: 200
  # Dimensions (user, role, cluster) that must deviate together. 1..3.
  min_dimensions: 2
  # The same for critical actions (network tools, package managers, secrets, modules). 1..3.
  min_dimensions_critical: 2
  # A dimension deviates when at most this share of its history was as rare. 0.0001..0.5.
  rarity: 0.01
  # Alert when sensitivity x sum(maturity x surprise) reaches this. 0.1..100.
  score_threshold: 7.0
  # Entities (users, roles, clusters) kept at most; the least recently seen leave. 100..10000000.
  max_entities: 100000
  # Values kept per user and feature (the rarest leave first). 8..4096.
  max_values_user: 64
  # Values kept per role or cluster and feature. 8..65536.
  max_values_group: 1024
  # Repeats of an alerted action by the same user are folded for this long (seconds). 0..604800.
  dedup_window_s: 3600
  # A new value seen for this many different users of a cluster is a rollout: learned, not
  # alerted again. 0 (off) or 2..1000.
  rollout_users: 3
  # An alerted action that recurs for the same user on this many different days is learned as
  # that user's new normal (it alerted on the first days). 0 (off) or 2..365.
  recurrence_days: 3
  # Seconds between snapshots. 10..86400.
  snapshot_interval_s: 300

# Session recording: what monitored subjects write to and read from their terminals, replayable
# with `privwatch replay` (docs/recording.md). Off by default: it adds a tracepoint to every
# write() and read() on the host (bench/RESULTS.md has the measured cost).
recording:
  # Load the terminal capture programs. true or false.
  enabled: false
  # Recordings are kept in the store (store.enabled). Also write one file per session to `dir`:
  # true or false. Files are always written when the store is disabled.
  files: false
  # Where the files go (created if missing, mode 0700).
  dir: /var/lib/privwatch/recordings
  # Bytes captured per write()/read() on a terminal; the rest is counted as truncated. 64..16384.
  max_event_bytes: 4096
  # MiB captured per session and terminal; later output is counted, not recorded. 1..65536.
  max_session_mb: 64
  # Raw bytes gathered before a chunk is compressed (zstd) and written. 4096..1048576.
  chunk_bytes: 65536
  # A partial chunk is written after this many milliseconds (what `privwatch watch` sees). 50..60000.
  flush_ms: 500
  # Recordings open at once; the least recently written is closed beyond this. 1..65536.
  max_open: 1024
)yaml";

constexpr std::string_view kTopKeys[] = {
    "log_level",
    "capture",
    "monitor",
    "sensitive_paths",
    "output",
    "process_table",
    "inventory",
    "store",
    "metrics",
    "exports",
    "detect",
    "respond",
    "baselines",
    "recording"};
constexpr std::string_view kDetectKeys[] = {
    "enabled",        "default_rules",         "rules",
    "dedup_window_s", "rate_limit_per_minute", "max_sequence_states"};
constexpr std::string_view kRecordingKeys[] = {"enabled",         "files",          "dir",
                                               "max_event_bytes", "max_session_mb", "chunk_bytes",
                                               "flush_ms",        "max_open"};
constexpr std::string_view kCaptureKeys[] = {"ring_buffer_mb", "wakeup_delay_ms",
                                             "wakeup_bytes",   "max_args",
                                             "max_arg_bytes",  "drop_log_interval_s"};
constexpr std::string_view kMonitorKeys[] = {"root",      "all_logins", "users",  "groups",
                                             "loginuids", "sessions",   "cgroups"};
constexpr std::string_view kOutputKeys[] = {"path", "max_size_mb", "max_files"};
constexpr std::string_view kProcessTableKeys[] = {"max_entries", "exited_grace_s"};
constexpr std::string_view kStoreKeys[] = {"enabled",
                                           "path",
                                           "key_path",
                                           "commit_interval_ms",
                                           "queue_size",
                                           "queue_max_mb",
                                           "checkpoint_every",
                                           "checkpoint_interval_s",
                                           "checkpoint_file",
                                           "checkpoint_syslog",
                                           "checkpoint_url",
                                           "prune_interval_s",
                                           "retention"};
constexpr std::string_view kRetentionKeys[] = {"event",      "session",   "alert",
                                               "escalation", "recording", "response"};
constexpr std::string_view kInventoryKeys[] = {"path", "grants"};
constexpr std::string_view kRespondKeys[] = {
    "enabled", "dry_run", "protected", "warn_message", "actions_log", "max_rounds", "kill"};
constexpr std::string_view kKillKeys[] = {"name", "exec", "connect"};
constexpr std::string_view kBaselinesKeys[] = {"enabled",
                                               "state_file",
                                               "feedback_file",
                                               "geoip_database",
                                               "internal_networks",
                                               "half_life_days",
                                               "learning_days",
                                               "min_events",
                                               "min_dimensions",
                                               "min_dimensions_critical",
                                               "rarity",
                                               "score_threshold",
                                               "max_entities",
                                               "max_values_user",
                                               "max_values_group",
                                               "dedup_window_s",
                                               "rollout_users",
                                               "recurrence_days",
                                               "snapshot_interval_s"};
constexpr std::string_view kLogLevels[] = {"trace", "debug", "info", "warn", "error"};

constexpr uint64_t kMaxId = 4294967294;         // (uint32_t)-1 means "unset" for uid/loginuid
constexpr size_t kMaxSensitivePathBytes = 127;  // the kernel compares < 128 bytes
constexpr uint64_t kMiB = uint64_t{1024} * 1024;

std::string join(std::span<const std::string_view> items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

std::string shorten(const std::string& s) {
  constexpr size_t kMax = 60;
  std::string out;
  for (char c : s.size() > kMax ? s.substr(0, kMax) : s) {
    out += (static_cast<unsigned char>(c) < 0x20) ? '?' : c;
  }
  if (s.size() > kMax) out += "...";
  return out;
}

// How a node looks to the user, for "expected X, got Y".
std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "an empty value";
    case YAML::NodeType::Scalar:
      return fmt::format("'{}'", shorten(node.Scalar()));
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// The section ("capture", ...) that knows `key`, or "" (top level), or nullopt.
std::optional<std::string_view> section_knowing(std::string_view key) {
  const std::pair<std::string_view, std::span<const std::string_view>> sections[] = {
      {"", kTopKeys},
      {"capture", kCaptureKeys},
      {"monitor", kMonitorKeys},
      {"output", kOutputKeys},
      {"process_table", kProcessTableKeys},
      {"inventory", kInventoryKeys},
      {"store", kStoreKeys},
      {"store.retention", kRetentionKeys},
      {"detect", kDetectKeys},
      {"respond", kRespondKeys},
      {"baselines", kBaselinesKeys},
      {"recording", kRecordingKeys}};
  for (const auto& [section, keys] : sections) {
    if (std::find(keys.begin(), keys.end(), key) != keys.end()) return section;
  }
  return std::nullopt;
}

// Digits only; nullopt if `s` is not a plain decimal number, UINT64_MAX on overflow.
std::optional<uint64_t> parse_decimal(std::string_view s) {
  if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  uint64_t value = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec == std::errc::result_out_of_range) return UINT64_MAX;
  return value;
}

bool is_negative_number(std::string_view s) {
  return s.size() > 1 && s[0] == '-' && parse_decimal(s.substr(1)).has_value();
}

bool is_power_of_two(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

template <typename T>
void push_unique(std::vector<T>& v, T item) {
  if (std::find(v.begin(), v.end(), item) == v.end()) v.push_back(std::move(item));
}

// NSS lookups. nullopt when the name is unknown (or NSS cannot answer: a fleet host whose
// directory is down should still start monitoring; the name is remembered for `doctor`).
std::optional<uint32_t> lookup_uid(const std::string& name) {
  const auto hint = sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buf(hint > 0 ? static_cast<size_t>(hint) : 16384);
  while (true) {
    passwd pw{};
    passwd* found = nullptr;
    const int rc = getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found);
    if (rc == ERANGE && buf.size() < (64u << 20)) {
      buf.resize(buf.size() * 2);
      continue;
    }
    if (rc != 0 || found == nullptr) return std::nullopt;
    return static_cast<uint32_t>(pw.pw_uid);
  }
}

std::optional<uint32_t> lookup_gid(const std::string& name) {
  const auto hint = sysconf(_SC_GETGR_R_SIZE_MAX);
  std::vector<char> buf(hint > 0 ? static_cast<size_t>(hint) : 16384);
  while (true) {
    group gr{};
    group* found = nullptr;
    const int rc = getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &found);
    if (rc == ERANGE && buf.size() < (64u << 20)) {  // large groups need large buffers
      buf.resize(buf.size() * 2);
      continue;
    }
    if (rc != 0 || found == nullptr) return std::nullopt;
    return static_cast<uint32_t>(gr.gr_gid);
  }
}

// A path made of clean components: absolute, no "", "." or ".." component (the kernel reports
// resolved paths, so such a prefix could never match). Returns what is wrong, or "".
std::string path_problem(const std::string& path) {
  if (path.empty() || path[0] != '/') return "is not an absolute path";
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    const std::string_view part(path.data() + start, end - start);
    if (part == "..") return "contains a '..' component";
    if (part == ".") return "contains a '.' component";
    if (part.empty() && end != path.size()) return "contains an empty component ('//')";
    start = end + 1;
  }
  return "";
}

std::string errno_text(int err) { return std::system_category().message(err); }

// Applies YAML documents, one after the other, onto one Config.
class Parser {
 public:
  explicit Parser(Config& cfg) : cfg_(cfg) {}

  // Overlay `root` (a whole document) read from `origin` onto the config.
  Status apply(const YAML::Node& root, const std::string& origin) {
    origin_ = &origin;
    if (!root || root.IsNull()) return {};  // empty document: nothing to change
    if (!root.IsMap()) {
      return error(
          root, fmt::format("the configuration must be a mapping of keys, got {}", describe(root)),
          fmt::format("start the file with top-level keys such as 'log_level: info'; "
                      "known keys: {}",
                      join(kTopKeys)));
    }
    if (auto s = check_keys(root, "", kTopKeys); !s) return s;
    for (const auto& kv : root) {
      const std::string key = kv.first.Scalar();
      const YAML::Node& value = kv.second;
      at_key(kv.first, value);
      Status s;
      if (key == "log_level") {
        s = apply_log_level(value);
      } else if (key == "capture") {
        s = apply_capture(value);
      } else if (key == "monitor") {
        s = apply_monitor(value);
      } else if (key == "sensitive_paths") {
        s = apply_sensitive_paths(value);
      } else if (key == "output") {
        s = apply_output(value);
      } else if (key == "process_table") {
        s = apply_process_table(value);
      } else if (key == "inventory") {
        s = apply_inventory(value);
      } else if (key == "store") {
        s = apply_store(value);
      } else if (key == "metrics") {
        s = apply_metrics_section(value, origin, cfg_.metrics);  // exports_config.cpp
      } else if (key == "exports") {
        s = apply_exports_section(value, origin, cfg_.exports);
      } else if (key == "detect") {
        s = apply_detect(value);
      } else if (key == "respond") {
        s = apply_respond(value);
      } else if (key == "baselines") {
        s = apply_baselines(value);
      } else if (key == "recording") {
        s = apply_recording(value);
      }
      if (!s) return s;
    }
    return {};
  }

  // Resolve the user and group lists that are in effect once every document is applied (each
  // name once: a name the host does not know can cost an NSS round trip). Cannot fail: unknown
  // names are kept in user_names / group_names.
  void finish() {
    MonitorConfig& m = cfg_.monitor;
    m.user_names.clear();
    m.group_names.clear();
    resolve(users_, lookup_uid, m.uids, m.user_names);
    resolve(loginuids_, lookup_uid, m.loginuids, m.user_names);
    resolve(groups_, lookup_gid, m.gids, m.group_names);
  }

 private:
  std::string where(const YAML::Mark& mark) const {
    if (mark.is_null()) return *origin_;
    return fmt::format("{}:{}:{}", *origin_, mark.line + 1, mark.column + 1);
  }

  Error error(const YAML::Node& at, std::string what, std::string hint) const {
    // An empty value ("key:" and nothing) has no position of its own: point at its key.
    const bool empty_value = at.IsNull() && at.is(value_);
    return error(empty_value ? key_mark_ : at.Mark(), std::move(what), std::move(hint));
  }

  Error error(const YAML::Mark& at, std::string what, std::string hint) const {
    return Error{ErrorKind::kInvalidArgument, fmt::format("{}: {}", where(at), what),
                 std::move(hint)};
  }

  // Remember which key is being read, for errors about its value.
  void at_key(const YAML::Node& key, const YAML::Node& value) {
    key_mark_ = key.Mark();
    value_.reset(value);  // not operator=, which would write through into the document
  }

  // `section` must be a mapping (or empty) whose keys are unique members of `known`.
  Status check_keys(const YAML::Node& section, std::string_view name,
                    std::span<const std::string_view> known) const {
    if (section.IsNull()) return {};
    if (!section.IsMap()) {
      return error(section,
                   fmt::format("{}: expected a mapping of keys, got {}", name, describe(section)),
                   fmt::format("write '{}:' on its own line followed by indented keys: {}", name,
                               join(known)));
    }
    std::vector<std::pair<std::string, YAML::Mark>> seen;
    const std::string in = name.empty() ? "at the top level" : fmt::format("in '{}'", name);
    for (const auto& kv : section) {
      const YAML::Node& key_node = kv.first;
      if (!key_node.IsScalar()) {
        return error(key_node,
                     fmt::format("keys must be plain names, got {} {}", describe(key_node), in),
                     fmt::format("known keys {}: {}", in, join(known)));
      }
      const std::string& key = key_node.Scalar();
      for (const auto& [other, mark] : seen) {
        if (other == key) {
          return error(
              key_node,
              fmt::format("duplicate key '{}' {} (first set at line {})", key, in, mark.line + 1),
              "remove one of the two; YAML does not merge repeated keys");
        }
      }
      seen.emplace_back(key, key_node.Mark());
      if (std::find(known.begin(), known.end(), key) != known.end()) continue;
      std::string hint;
      std::optional<std::string_view> owner = section_knowing(key);
      if (owner && owner->empty()) {
        hint = fmt::format("'{}' is a top-level key: move it out of '{}' to column 1", key, name);
      } else if (owner) {
        hint = fmt::format("'{}' belongs under '{}:'; move it there", key, *owner);
      } else {
        std::string_view best;
        size_t best_distance = SIZE_MAX;
        for (const auto& candidate : known) {
          const size_t d = edit_distance(key, candidate);
          if (d < best_distance) {
            best = candidate;
            best_distance = d;
          }
        }
        hint = best_distance <= std::max<size_t>(2, key.size() / 3)
                   ? fmt::format("did you mean '{}'? Fix or remove the key", best)
                   : "fix or remove the key; every key is documented in docs/configuration.md";
      }
      return error(key_node,
                   fmt::format("unknown key '{}' {} (known: {})", shorten(key), in, join(known)),
                   std::move(hint));
    }
    return {};
  }

  std::optional<YAML::Node> find(const YAML::Node& section, std::string_view key) {
    if (!section.IsMap()) return std::nullopt;
    for (const auto& kv : section) {
      if (kv.first.Scalar() == key) {
        at_key(kv.first, kv.second);
        return kv.second;
      }
    }
    return std::nullopt;
  }

  // `why` explains a bound that depends on another key.
  Result<uint64_t> read_uint(const YAML::Node& v, const std::string& name, uint64_t lo, uint64_t hi,
                             uint64_t example, std::string_view why = {}) const {
    const std::string range =
        why.empty() ? fmt::format("{}..{}", lo, hi) : fmt::format("{}..{}: {}", lo, hi, why);
    std::optional<uint64_t> value;
    if (v.IsScalar()) {
      value = is_negative_number(v.Scalar()) ? std::optional<uint64_t>(UINT64_MAX)
                                             : parse_decimal(v.Scalar());
    }
    if (!value) {
      return error(v, fmt::format("{}: expected a number, got {}", name, describe(v)),
                   fmt::format("write a whole number without units or quotes, e.g. '{}: {}' ({})",
                               name.substr(name.rfind('.') + 1), example, range));
    }
    if (*value < lo || *value > hi) {
      return error(v, fmt::format("{}: {} is out of range ({})", name, v.Scalar(), range),
                   fmt::format("set {} to a whole number between {} and {}", name, lo, hi));
    }
    return *value;
  }

  Result<bool> read_bool(const YAML::Node& v, const std::string& name) const {
    bool value = false;
    if (!v.IsScalar() || !YAML::convert<bool>::decode(v, value)) {
      return error(v, fmt::format("{}: expected true or false, got {}", name, describe(v)),
                   fmt::format("set {} to true or false", name));
    }
    return value;
  }

  // A list (or an empty value, meaning none) of scalars. `items` is plural ("user names or
  // uids"), `item` singular with its article ("a user name or uid").
  Status check_list(const YAML::Node& v, const std::string& name, std::string_view items,
                    std::string_view item, std::string_view example) const {
    if (v.IsNull()) return {};
    if (!v.IsSequence()) {
      return error(v, fmt::format("{}: expected a list of {}, got {}", name, items, describe(v)),
                   fmt::format("write a YAML list, e.g. '{}: [{}]', or [] for none",
                               name.substr(name.rfind('.') + 1), example));
    }
    for (size_t i = 0; i < v.size(); ++i) {
      if (!v[i].IsScalar()) {
        return error(v[i],
                     fmt::format("{}[{}]: expected {}, got {}", name, i, item, describe(v[i])),
                     fmt::format("write one plain value per entry, e.g. '{}: [{}]'",
                                 name.substr(name.rfind('.') + 1), example));
      }
    }
    return {};
  }

  Status apply_log_level(const YAML::Node& v) {
    const std::string hint = fmt::format("set log_level to one of {}", join(kLogLevels));
    if (!v.IsScalar()) {
      return error(v, fmt::format("log_level: expected a level name, got {}", describe(v)), hint);
    }
    if (std::find(std::begin(kLogLevels), std::end(kLogLevels), v.Scalar()) ==
        std::end(kLogLevels)) {
      return error(v,
                   fmt::format("log_level: '{}' is not a log level ({})", shorten(v.Scalar()),
                               join(kLogLevels)),
                   hint);
    }
    cfg_.log_level = v.Scalar();
    return {};
  }

  Status apply_capture(const YAML::Node& section) {
    if (auto s = check_keys(section, "capture", kCaptureKeys); !s) return s;
    CaptureConfig& c = cfg_.capture;
    struct Field {
      std::string_view key;
      uint32_t* target;
      uint64_t lo;
      uint64_t hi;
    };
    // In this order: wakeup_bytes is bounded by the ring_buffer_mb read before it.
    const Field fields[] = {
        {"ring_buffer_mb", &c.ring_buffer_mb, 1, 1024},
        {"wakeup_delay_ms", &c.wakeup_delay_ms, 1, 100},
        {"wakeup_bytes", &c.wakeup_bytes, 4096, 0},
        {"max_args", &c.max_args, 1, 1024},
        {"max_arg_bytes", &c.max_arg_bytes, 64, 8192},
        {"drop_log_interval_s", &c.drop_log_interval_s, 1, 3600},
    };
    const auto max_wakeup = [&c] { return uint64_t{c.ring_buffer_mb} * kMiB / 2; };
    const auto wakeup_why = [&c] {
      return fmt::format("at most half of capture.ring_buffer_mb = {} MiB", c.ring_buffer_mb);
    };
    for (const Field& f : fields) {
      const std::optional<YAML::Node> v = find(section, f.key);
      if (!v) continue;
      const std::string name = fmt::format("capture.{}", f.key);
      const bool wakeup = f.key == "wakeup_bytes";
      auto value = read_uint(*v, name, f.lo, wakeup ? max_wakeup() : f.hi, *f.target,
                             wakeup ? wakeup_why() : std::string());
      if (!value) return value.error();
      if (f.key == "ring_buffer_mb" && !is_power_of_two(*value)) {
        const uint64_t lower = uint64_t{1} << (63 - __builtin_clzll(*value));
        return error(*v,
                     fmt::format("{}: {} is not a power of two (1, 2, 4, ... 1024)", name, *value),
                     fmt::format("use {} or {}", lower, lower * 2));
      }
      *f.target = static_cast<uint32_t>(*value);
    }
    // A smaller ring_buffer_mb can push an inherited wakeup_bytes out of range.
    if (c.wakeup_bytes > max_wakeup()) {
      const std::optional<YAML::Node> ring = find(section, "ring_buffer_mb");
      return error(ring ? ring->Mark() : section.Mark(),
                   fmt::format("capture.ring_buffer_mb: {} MiB is too small for "
                               "capture.wakeup_bytes = {} (at most half the ring buffer)",
                               c.ring_buffer_mb, c.wakeup_bytes),
                   "raise capture.ring_buffer_mb or lower capture.wakeup_bytes");
    }
    return {};
  }

  // One user or group entry: a number 0..kMaxId, or something that can be a name.
  Status check_id(const YAML::Node& v, const std::string& name, bool group) const {
    const std::string& text = v.Scalar();
    const std::string_view id_word = group ? "gid" : "uid";
    const std::string hint = fmt::format("use a {} name (e.g. root) or a numeric {} 0..{}",
                                         group ? "group" : "user", id_word, kMaxId);
    if (auto number = parse_decimal(text)) {
      if (*number > kMaxId) {
        return error(v,
                     fmt::format("{}: {} {} is out of range (0..{}; 4294967295 means unset)", name,
                                 id_word, text, kMaxId),
                     hint);
      }
      return {};
    }
    const bool bad =
        text.empty() || text[0] == '-' || std::any_of(text.begin(), text.end(), [](char c) {
          return c == ':' || c == '/' || static_cast<unsigned char>(c) <= ' ';
        });
    if (bad) {
      return error(v,
                   fmt::format("{}: '{}' is not a valid {} name or {}", name, shorten(text),
                               group ? "group" : "user", id_word),
                   hint);
    }
    return {};
  }

  // Checks the list now; names are resolved in finish().
  Status apply_id_list(const YAML::Node& v, const std::string& name, bool group,
                       std::vector<std::string>& entries) {
    Status listed =
        group ? check_list(v, name, "group names or gids", "a group name or gid", "sudo, 0")
              : check_list(v, name, "user names or uids", "a user name or uid", "root, 1000");
    if (!listed) return listed;
    entries.clear();
    if (v.IsNull()) return {};
    for (size_t i = 0; i < v.size(); ++i) {
      if (auto s = check_id(v[i], fmt::format("{}[{}]", name, i), group); !s) return s;
      entries.push_back(v[i].Scalar());
    }
    return {};
  }

  // Checked entries → ids (duplicates removed) and the names this host does not know.
  static void resolve(const std::vector<std::string>& entries,
                      std::optional<uint32_t> (*lookup)(const std::string&),
                      std::vector<uint32_t>& ids, std::vector<std::string>& unresolved) {
    ids.clear();
    for (const auto& entry : entries) {
      const std::optional<uint64_t> number = parse_decimal(entry);
      const std::optional<uint32_t> id =
          number ? std::optional<uint32_t>(static_cast<uint32_t>(*number)) : lookup(entry);
      if (id) {
        push_unique(ids, *id);
      } else {
        push_unique(unresolved, entry);
      }
    }
  }

  // Absolute, clean paths, duplicates removed (first occurrence kept).
  Status apply_path_list(const YAML::Node& v, const std::string& name, size_t max_bytes,
                         std::string_view example, std::vector<std::string>& out) {
    if (auto s = check_list(v, name, "absolute paths", "an absolute path", example); !s) return s;
    out.clear();
    if (v.IsNull()) return {};
    for (size_t i = 0; i < v.size(); ++i) {
      const std::string& path = v[i].Scalar();
      const std::string problem = path_problem(path);
      if (!problem.empty()) {
        return error(v[i], fmt::format("{}[{}]: '{}' {}", name, i, shorten(path), problem),
                     fmt::format("write the full resolved path starting with '/', e.g. {}; the "
                                 "kernel reports paths without '.', '..' or '//'",
                                 example));
      }
      if (path.size() > max_bytes) {
        return error(v[i],
                     fmt::format("{}[{}]: '{}' is {} bytes long; the limit is {}", name, i,
                                 shorten(path), path.size(), max_bytes),
                     "shorten the path (the kernel compares at most 127 bytes of a prefix)");
      }
      push_unique(out, path);
    }
    return {};
  }

  Status apply_monitor(const YAML::Node& section) {
    if (auto s = check_keys(section, "monitor", kMonitorKeys); !s) return s;
    MonitorConfig& m = cfg_.monitor;
    if (section.IsNull()) return {};
    for (const auto& kv : section) {
      const std::string key = kv.first.Scalar();
      const YAML::Node& v = kv.second;
      at_key(kv.first, v);
      const std::string name = "monitor." + key;
      Status s;
      if (key == "root" || key == "all_logins") {
        auto value = read_bool(v, name);
        if (!value) return value.error();
        (key == "root" ? m.root : m.all_logins) = *value;
      } else if (key == "users") {
        s = apply_id_list(v, name, false, users_);
      } else if (key == "loginuids") {
        s = apply_id_list(v, name, false, loginuids_);
      } else if (key == "groups") {
        s = apply_id_list(v, name, true, groups_);
      } else if (key == "sessions") {
        s = apply_sessions(v, name);
      } else if (key == "cgroups") {
        s = apply_path_list(v, name, SIZE_MAX, "/sys/fs/cgroup/system.slice/sshd.service",
                            m.cgroups);
      }
      if (!s) return s;
    }
    return {};
  }

  Status apply_sessions(const YAML::Node& v, const std::string& name) {
    if (auto s = check_list(v, name, "audit session ids", "an audit session id", "3, 17"); !s) {
      return s;
    }
    cfg_.monitor.sessions.clear();
    if (v.IsNull()) return {};
    for (size_t i = 0; i < v.size(); ++i) {
      const std::string item = fmt::format("{}[{}]", name, i);
      const std::optional<uint64_t> id = parse_decimal(v[i].Scalar());
      if (!id) {
        return error(v[i],
                     fmt::format("{}: expected an audit session id (a number), got {}", item,
                                 describe(v[i])),
                     "use the number from /proc/<pid>/sessionid, e.g. 'sessions: [3]'");
      }
      if (*id > kMaxId) {
        return error(v[i],
                     fmt::format("{}: {} is out of range (0..{}; 4294967295 means unset)", item,
                                 v[i].Scalar(), kMaxId),
                     "use the number from /proc/<pid>/sessionid");
      }
      push_unique(cfg_.monitor.sessions, static_cast<uint32_t>(*id));
    }
    return {};
  }

  Status apply_sensitive_paths(const YAML::Node& v) {
    return apply_path_list(v, "sensitive_paths", kMaxSensitivePathBytes, "/etc/",
                           cfg_.sensitive_paths);
  }

  Status apply_output_path(const YAML::Node& v) {
    const std::string hint_base =
        "set output.path to \"-\" (stdout) or a file in an existing directory";
    if (!v.IsScalar() || v.Scalar().empty()) {
      return error(v,
                   fmt::format("output.path: expected \"-\" or a file path, got {}", describe(v)),
                   hint_base);
    }
    const std::string& path = v.Scalar();
    if (path != "-") {
      struct stat st {};
      if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
        return error(v, fmt::format("output.path: '{}' is a directory", shorten(path)),
                     fmt::format("name a file inside it, e.g. {}/events.json",
                                 path.back() == '/' ? path.substr(0, path.size() - 1) : path));
      }
      const size_t slash = path.rfind('/');
      const std::string parent =
          slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
      if (::stat(parent.c_str(), &st) != 0) {
        const int err = errno;
        if (err == ENOENT) {
          return error(
              v, fmt::format("output.path: the directory '{}' does not exist", shorten(parent)),
              fmt::format("create it (mkdir -p {}) or {}", parent, hint_base));
        }
        return error(v,
                     fmt::format("output.path: cannot access the directory '{}': {}",
                                 shorten(parent), errno_text(err)),
                     hint_base);
      }
      if (!S_ISDIR(st.st_mode)) {
        return error(v, fmt::format("output.path: '{}' is not a directory", shorten(parent)),
                     hint_base);
      }
    }
    cfg_.output.path = path;
    return {};
  }

  Status apply_output(const YAML::Node& section) {
    if (auto s = check_keys(section, "output", kOutputKeys); !s) return s;
    if (const auto v = find(section, "path")) {
      if (auto s = apply_output_path(*v); !s) return s;
    }
    if (const auto v = find(section, "max_size_mb")) {
      auto value = read_uint(*v, "output.max_size_mb", 1, 100000, cfg_.output.max_size_mb);
      if (!value) return value.error();
      cfg_.output.max_size_mb = *value;
    }
    if (const auto v = find(section, "max_files")) {
      auto value = read_uint(*v, "output.max_files", 1, 1000, cfg_.output.max_files);
      if (!value) return value.error();
      cfg_.output.max_files = static_cast<uint32_t>(*value);
    }
    return {};
  }

  Result<std::string> read_string(const YAML::Node& v, const std::string& name,
                                  std::string_view example) const {
    if (!v.IsScalar() || v.Scalar().empty()) {
      return error(v, fmt::format("{}: expected a text, got {}", name, describe(v)),
                   fmt::format("write e.g. '{}: {}'", name.substr(name.rfind('.') + 1), example));
    }
    return v.Scalar();
  }

  // "203.0.113.9", "10.0.0.0/8:4444", "[2001:db8::/32]:22", "*:4444", "4444".
  Status parse_connect(const YAML::Node& v, const std::string& name, KillEntry& k) const {
    const std::string hint =
        "write an address, a CIDR, and an optional port: \"203.0.113.9:4444\", "
        "\"10.0.0.0/8\", \"[2001:db8::/32]:22\", or \"*:4444\" for a port on any address";
    if (!v.IsScalar() || v.Scalar().empty()) {
      return error(v, fmt::format("{}: expected a destination, got {}", name, describe(v)), hint);
    }
    const std::string text = v.Scalar();
    std::string host = text, port_text;
    if (!text.empty() && text[0] == '[') {
      const size_t close = text.find(']');
      if (close == std::string::npos) {
        return error(v, fmt::format("{}: '{}' has no closing ']'", name, shorten(text)), hint);
      }
      host = text.substr(1, close - 1);
      if (close + 1 < text.size()) {
        if (text[close + 1] != ':') {
          return error(v, fmt::format("{}: expected ':' after ']' in '{}'", name, shorten(text)),
                       hint);
        }
        port_text = text.substr(close + 2);
      }
    } else if (parse_decimal(text)) {
      host = "*";
      port_text = text;
    } else if (std::count(text.begin(), text.end(), ':') == 1) {
      const size_t colon = text.find(':');
      host = text.substr(0, colon);
      port_text = text.substr(colon + 1);
    }
    k.connect = true;
    k.connect_text = text;
    if (!port_text.empty() || text.back() == ':') {
      const auto port = parse_decimal(port_text);
      if (!port || *port == 0 || *port > 65535) {
        return error(v, fmt::format("{}: '{}' is not a port (1..65535)", name, shorten(port_text)),
                     hint);
      }
      k.port = static_cast<uint16_t>(*port);
    }
    if (host == "*") {
      k.family = 0;  // both families
      if (k.port == 0) {
        return error(v, fmt::format("{}: '{}' matches every connection", name, shorten(text)),
                     "name an address, a network or a port");
      }
      return {};
    }
    std::string addr = host;
    int bits = -1;
    if (const size_t slash = host.find('/'); slash != std::string::npos) {
      addr = host.substr(0, slash);
      const auto b = parse_decimal(host.substr(slash + 1));
      if (!b) {
        return error(v, fmt::format("{}: bad prefix length in '{}'", name, shorten(text)), hint);
      }
      bits = static_cast<int>(std::min<uint64_t>(*b, 999));
    }
    if (inet_pton(AF_INET, addr.c_str(), k.addr.data()) == 1) {
      k.family = AF_INET;
      if (bits > 32) {
        return error(v, fmt::format("{}: prefix /{} is longer than 32 bits", name, bits), hint);
      }
      k.prefix_bits = static_cast<uint8_t>(bits < 0 ? 32 : bits);
    } else if (inet_pton(AF_INET6, addr.c_str(), k.addr.data()) == 1) {
      k.family = AF_INET6;
      if (bits > 128) {
        return error(v, fmt::format("{}: prefix /{} is longer than 128 bits", name, bits), hint);
      }
      k.prefix_bits = static_cast<uint8_t>(bits < 0 ? 128 : bits);
    } else {
      return error(v, fmt::format("{}: '{}' is not an IPv4 or IPv6 address", name, shorten(addr)),
                   hint);
    }
    return {};
  }

  Status apply_kill(const YAML::Node& v) {
    if (!v.IsNull() && !v.IsSequence()) {
      return error(v, fmt::format("respond.kill: expected a list of entries, got {}", describe(v)),
                   "write 'kill:' followed by entries such as "
                   "'- {name: c2, connect: \"203.0.113.0/24:4444\"}', or [] for none");
    }
    cfg_.respond.kill.clear();
    if (v.IsNull()) return {};
    for (size_t i = 0; i < v.size(); ++i) {
      const YAML::Node& item = v[i];
      const std::string name = fmt::format("respond.kill[{}]", i);
      if (!item.IsMap()) {
        return error(item, fmt::format("{}: expected a mapping, got {}", name, describe(item)),
                     "write '- {name: no-netcat, exec: /usr/bin/nc.openbsd}' or "
                     "'- {name: c2, connect: \"203.0.113.0/24:4444\"}'");
      }
      if (auto s = check_keys(item, name, kKillKeys); !s) return s;
      KillEntry k;
      const auto n = find(item, "name");
      if (!n) {
        return error(item, fmt::format("{}: 'name' is missing", name),
                     "give every entry a unique name; it appears in the action records");
      }
      auto nm = read_string(*n, name + ".name", "no-netcat");
      if (!nm) return nm.error();
      for (const auto& other : cfg_.respond.kill) {
        if (other.name == *nm) {
          return error(*n, fmt::format("{}.name: '{}' is used twice", name, shorten(*nm)),
                       "give every entry a unique name");
        }
      }
      k.name = *nm;
      const auto exec = find(item, "exec");
      const auto connect = find(item, "connect");
      if ((exec.has_value()) == (connect.has_value())) {
        return error(item, fmt::format("{}: set exactly one of 'exec' or 'connect'", name),
                     "split an entry that needs both into two entries");
      }
      if (exec) {
        auto path = read_string(*exec, name + ".exec", "/usr/bin/nc.openbsd");
        if (!path) return path.error();
        const std::string problem = path_problem(*path);
        struct stat st {};
        if (!problem.empty()) {
          return error(*exec, fmt::format("{}.exec: '{}' {}", name, shorten(*path), problem),
                       "write the absolute path of the executable file");
        }
        if (::stat(path->c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
          return error(
              *exec,
              fmt::format("{}.exec: '{}' is not an existing regular file", name, shorten(*path)),
              "name the executable file itself (resolve symlinks: readlink -f)");
        }
        k.exec = *path;
      } else {
        if (auto s = parse_connect(*connect, name + ".connect", k); !s) return s;
      }
      cfg_.respond.kill.push_back(std::move(k));
    }
    return {};
  }

  Status apply_respond(const YAML::Node& section) {
    if (auto s = check_keys(section, "respond", kRespondKeys); !s) return s;
    RespondConfig& r = cfg_.respond;
    if (section.IsNull()) return {};
    for (const auto& kv : section) {
      const std::string key = kv.first.Scalar();
      const YAML::Node& v = kv.second;
      at_key(kv.first, v);
      const std::string name = "respond." + key;
      if (key == "enabled" || key == "dry_run") {
        auto value = read_bool(v, name);
        if (!value) return value.error();
        (key == "enabled" ? r.enabled : r.dry_run) = *value;
      } else if (key == "protected") {
        if (auto s = check_list(v, name, "process names or executable paths",
                                "a process name or an executable path", "sshd, /usr/sbin/cron");
            !s) {
          return s;
        }
        r.protected_processes.clear();
        for (size_t i = 0; v.IsSequence() && i < v.size(); ++i) {
          const std::string& p = v[i].Scalar();
          if (p.empty() || (p[0] != '/' && p.size() > 15)) {
            return error(v[i],
                         fmt::format("{}[{}]: '{}' is neither a process name (at most 15 "
                                     "characters, as in /proc/<pid>/comm) nor an absolute path",
                                     name, i, shorten(p)),
                         "use the name ps shows (comm) or the absolute executable path");
          }
          push_unique(r.protected_processes, p);
        }
      } else if (key == "warn_message") {
        auto text = read_string(v, name, "\"{reason}\"");
        if (!text) return text.error();
        r.warn_message = *text;
      } else if (key == "actions_log") {
        auto path = read_string(v, name, "/var/log/privwatch/actions.json");
        if (!path) return path.error();
        if ((*path)[0] != '/') {
          return error(v, fmt::format("{}: '{}' is not an absolute path", name, shorten(*path)),
                       "write an absolute file path, e.g. /var/log/privwatch/actions.json");
        }
        r.actions_log = *path;
      } else if (key == "max_rounds") {
        auto value = read_uint(v, name, 1, 1000, r.max_rounds);
        if (!value) return value.error();
        r.max_rounds = static_cast<uint32_t>(*value);
      } else if (key == "kill") {
        if (auto s = apply_kill(v); !s) return s;
      }
    }
    return {};
  }

  Status apply_process_table(const YAML::Node& section) {
    if (auto s = check_keys(section, "process_table", kProcessTableKeys); !s) return s;
    ProcessTableConfig& p = cfg_.process_table;
    if (const auto v = find(section, "max_entries")) {
      auto value = read_uint(*v, "process_table.max_entries", 1024, 4194304, p.max_entries);
      if (!value) return value.error();
      p.max_entries = static_cast<uint32_t>(*value);
    }
    if (const auto v = find(section, "exited_grace_s")) {
      auto value = read_uint(*v, "process_table.exited_grace_s", 0, 3600, p.exited_grace_s);
      if (!value) return value.error();
      p.exited_grace_s = static_cast<uint32_t>(*value);
    }
    return {};
  }

  // An absolute file path whose parent is not an existing non-directory (it is created).
  Status read_file_path(const YAML::Node& v, const std::string& name, bool allow_empty,
                        std::string_view example, std::string& out) const {
    const std::string hint = fmt::format("set {} to an absolute file path, e.g. {}{}", name,
                                         example, allow_empty ? ", or \"\" for none" : "");
    if (!v.IsScalar() && !(allow_empty && v.IsNull())) {
      return error(v, fmt::format("{}: expected a file path, got {}", name, describe(v)), hint);
    }
    const std::string path = v.IsNull() ? std::string() : v.Scalar();
    if (path.empty()) {
      if (allow_empty) {
        out.clear();
        return {};
      }
      return error(v, fmt::format("{}: must not be empty", name), hint);
    }
    const std::string problem = path_problem(path);
    if (!problem.empty()) {
      return error(v, fmt::format("{}: '{}' {}", name, shorten(path), problem), hint);
    }
    if (path.back() == '/') {
      return error(v, fmt::format("{}: '{}' names a directory", name, shorten(path)),
                   fmt::format("name a file inside it, e.g. {}file", path));
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      return error(v, fmt::format("{}: '{}' is a directory", name, shorten(path)),
                   fmt::format("name a file inside it, e.g. {}/privwatch.db", path));
    }
    out = path;
    return {};
  }

  Result<uint64_t> read_duration(const YAML::Node& v, const std::string& name) const {
    const std::string hint =
        fmt::format("write a number with a unit, e.g. '{}: 30d' (s, m, h, d, w, y), or forever",
                    name.substr(name.rfind('.') + 1));
    if (!v.IsScalar()) {
      return error(v, fmt::format("{}: expected a duration, got {}", name, describe(v)), hint);
    }
    auto d = parse_duration(v.Scalar());
    if (!d) {
      return error(v, fmt::format("{}: {}", name, d.error().message), hint);
    }
    return *d;
  }

  Status apply_inventory(const YAML::Node& section) {
    if (auto s = check_keys(section, "inventory", kInventoryKeys); !s) return s;
    if (section.IsNull()) return {};
    for (const auto& kv : section) {
      const std::string key = kv.first.Scalar();
      const YAML::Node& v = kv.second;
      at_key(kv.first, v);
      const std::string name = "inventory." + key;
      const std::string example =
          key == "path" ? "/etc/privwatch/inventory.yaml" : "/etc/privwatch/grants.d";
      if (!v.IsScalar() || v.Scalar().empty()) {
        return error(v, fmt::format("{}: expected a path, got {}", name, describe(v)),
                     fmt::format("write e.g. '{}: {}'", key, example));
      }
      if (v.Scalar()[0] != '/') {
        return error(v, fmt::format("{}: '{}' is not an absolute path", name, shorten(v.Scalar())),
                     fmt::format("write the full path, e.g. {}", example));
      }
      (key == "path" ? cfg_.inventory.path : cfg_.inventory.grants) = v.Scalar();
    }
    return {};
  }

  Status apply_store(const YAML::Node& section) {
    if (auto s = check_keys(section, "store", kStoreKeys); !s) return s;
    StoreConfig& c = cfg_.store;
    if (section.IsNull()) return {};
    for (const auto& kv : section) {
      const std::string key = kv.first.Scalar();
      const YAML::Node& v = kv.second;
      at_key(kv.first, v);
      const std::string name = "store." + key;
      Status s;
      if (key == "enabled" || key == "checkpoint_syslog") {
        auto value = read_bool(v, name);
        if (!value) return value.error();
        (key == "enabled" ? c.enabled : c.checkpoint_syslog) = *value;
      } else if (key == "path") {
        s = read_file_path(v, name, false, "/var/lib/privwatch/privwatch.db", c.path);
      } else if (key == "key_path") {
        s = read_file_path(v, name, false, "/var/lib/privwatch/store.key", c.key_path);
      } else if (key == "checkpoint_file") {
        s = read_file_path(v, name, true, "/mnt/audit/privwatch-checkpoints.jsonl",
                           c.checkpoint_file);
      } else if (key == "checkpoint_url") {
        const std::string url = v.IsScalar() ? v.Scalar() : std::string();
        if (!(v.IsNull() || v.IsScalar()) ||
            (!url.empty() && url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)) {
          return error(
              v, fmt::format("{}: expected an http:// or https:// URL, got {}", name, describe(v)),
              "e.g. 'checkpoint_url: http://10.0.0.5:8080/checkpoints', or \"\" for none");
        }
        c.checkpoint_url = url;
      } else if (key == "retention") {
        s = apply_retention(v);
      } else {
        struct Bound {
          std::string_view key;
          uint32_t* target;
          uint64_t lo, hi;
        };
        const Bound bounds[] = {{"commit_interval_ms", &c.commit_interval_ms, 1, 60000},
                                {"queue_size", &c.queue_size, 1024, 16777216},
                                {"queue_max_mb", &c.queue_max_mb, 1, 4096},
                                {"checkpoint_every", &c.checkpoint_every, 1, 1000000000},
                                {"checkpoint_interval_s", &c.checkpoint_interval_s, 1, 86400},
                                {"prune_interval_s", &c.prune_interval_s, 60, 86400}};
        for (const Bound& b : bounds) {
          if (b.key != key) continue;
          auto value = read_uint(v, name, b.lo, b.hi, *b.target);
          if (!value) return value.error();
          *b.target = static_cast<uint32_t>(*value);
        }
      }
      if (!s) return s;
    }
    return {};
  }

  Status apply_retention(const YAML::Node& section) {
    if (auto s = check_keys(section, "store.retention", kRetentionKeys); !s) return s;
    if (section.IsNull()) return {};
    StoreRetention& r = cfg_.store.retention;
    for (const auto& kv : section) {
      const std::string key = kv.first.Scalar();
      at_key(kv.first, kv.second);
      auto d = read_duration(kv.second, "store.retention." + key);
      if (!d) return d.error();
      uint64_t* target = key == "event"        ? &r.event_s
                         : key == "session"    ? &r.session_s
                         : key == "alert"      ? &r.alert_s
                         : key == "escalation" ? &r.escalation_s
                         : key == "recording"  ? &r.recording_s
                                               : &r.response_s;
      *target = *d;
    }
    return {};
  }

  Status apply_detect(const YAML::Node& section) {
    if (auto s = check_keys(section, "detect", kDetectKeys); !s) return s;
    DetectConfig& d = cfg_.detect;
    for (const char* key : {"enabled", "default_rules"}) {
      if (const auto v = find(section, key)) {
        auto value = read_bool(*v, fmt::format("detect.{}", key));
        if (!value) return value.error();
        (std::string_view(key) == "enabled" ? d.enabled : d.default_rules) = *value;
      }
    }
    if (const auto v = find(section, "rules")) {
      if (auto s = apply_path_list(*v, "detect.rules", SIZE_MAX, "/etc/privwatch/rules.d", d.rules);
          !s) {
        return s;
      }
    }
    if (const auto v = find(section, "dedup_window_s")) {
      auto value = read_uint(*v, "detect.dedup_window_s", 0, 86400, d.dedup_window_s);
      if (!value) return value.error();
      d.dedup_window_s = static_cast<uint32_t>(*value);
    }
    if (const auto v = find(section, "rate_limit_per_minute")) {
      auto value =
          read_uint(*v, "detect.rate_limit_per_minute", 0, 100000, d.rate_limit_per_minute);
      if (!value) return value.error();
      d.rate_limit_per_minute = static_cast<uint32_t>(*value);
    }
    if (const auto v = find(section, "max_sequence_states")) {
      auto value = read_uint(*v, "detect.max_sequence_states", 100, 1000000, d.max_sequence_states);
      if (!value) return value.error();
      d.max_sequence_states = static_cast<uint32_t>(*value);
    }
    return {};
  }

  Result<double> read_double(const YAML::Node& v, const std::string& name, double lo, double hi,
                             std::string_view example) const {
    double value = 0;
    const std::string hint =
        fmt::format("set {} to a number between {} and {}, e.g. {}", name, lo, hi, example);
    if (!v.IsScalar() || !YAML::convert<double>::decode(v, value) || value != value) {
      return error(v, fmt::format("{}: expected a number, got {}", name, describe(v)), hint);
    }
    if (value < lo || value > hi) {
      return error(v, fmt::format("{}: {} is out of range ({}..{})", name, v.Scalar(), lo, hi),
                   hint);
    }
    return value;
  }

  Result<std::string> read_file_path(const YAML::Node& v, const std::string& name) const {
    if (v.IsNull()) return std::string();
    if (!v.IsScalar()) {
      return error(v, fmt::format("{}: expected a file path, got {}", name, describe(v)),
                   fmt::format("set {} to an absolute file path, or \"\" for none", name));
    }
    const std::string& path = v.Scalar();
    if (!path.empty() && path[0] != '/') {
      return error(v, fmt::format("{}: '{}' is not an absolute path", name, shorten(path)),
                   "write the full path starting with '/' (the agent's working directory is /)");
    }
    return path;
  }

  Status apply_baselines(const YAML::Node& section) {
    if (auto s = check_keys(section, "baselines", kBaselinesKeys); !s) return s;
    BaselinesConfig& b = cfg_.baselines;
    if (section.IsNull()) return {};
    if (const auto v = find(section, "enabled")) {
      auto value = read_bool(*v, "baselines.enabled");
      if (!value) return value.error();
      b.enabled = *value;
    }
    const std::pair<std::string_view, std::string*> paths[] = {
        {"state_file", &b.state_file},
        {"feedback_file", &b.feedback_file},
        {"geoip_database", &b.geoip_database}};
    for (const auto& [key, target] : paths) {
      if (const auto v = find(section, key)) {
        auto value = read_file_path(*v, fmt::format("baselines.{}", key));
        if (!value) return value.error();
        *target = *value;
      }
    }
    if (const auto v = find(section, "internal_networks")) {
      const std::string name = "baselines.internal_networks";
      if (auto s = check_list(*v, name, "CIDRs", "a CIDR", "10.20.0.0/16"); !s) return s;
      b.internal_networks.clear();
      for (size_t i = 0; v->IsSequence() && i < v->size(); ++i) {
        const std::string& cidr = (*v)[i].Scalar();
        if (!valid_cidr(cidr)) {
          return error(
              (*v)[i],
              fmt::format("{}[{}]: '{}' is not a network in CIDR notation", name, i, shorten(cidr)),
              "write an address and a prefix length, e.g. 10.20.0.0/16 or fd12::/16");
        }
        push_unique(b.internal_networks, cidr);
      }
    }
    struct Field {
      std::string_view key;
      uint32_t* target;
      uint64_t lo, hi;
    };
    const Field fields[] = {
        {"half_life_days", &b.half_life_days, 1, 3650},
        {"learning_days", &b.learning_days, 0, 365},
        {"min_events", &b.min_events, 0, 1000000},
        {"min_dimensions", &b.min_dimensions, 1, 3},
        {"min_dimensions_critical", &b.min_dimensions_critical, 1, 3},
        {"max_entities", &b.max_entities, 100, 10000000},
        {"max_values_user", &b.max_values_user, 8, 4096},
        {"max_values_group", &b.max_values_group, 8, 65536},
        {"dedup_window_s", &b.dedup_window_s, 0, 604800},
        {"rollout_users", &b.rollout_users, 0, 1000},
        {"recurrence_days", &b.recurrence_days, 0, 365},
        {"snapshot_interval_s", &b.snapshot_interval_s, 10, 86400},
    };
    for (const Field& f : fields) {
      if (const auto v = find(section, f.key)) {
        const std::string name = fmt::format("baselines.{}", f.key);
        auto value = read_uint(*v, name, f.lo, f.hi, *f.target);
        if (!value) return value.error();
        if ((f.key == "rollout_users" || f.key == "recurrence_days") && *value == 1) {
          return error(
              *v, fmt::format("baselines.{}: 1 would learn every alerted action at once", f.key),
              "use 0 to turn this off, or 2 or more");
        }
        *f.target = static_cast<uint32_t>(*value);
      }
    }
    if (const auto v = find(section, "rarity")) {
      auto value = read_double(*v, "baselines.rarity", 0.0001, 0.5, "0.01");
      if (!value) return value.error();
      b.rarity = *value;
    }
    if (const auto v = find(section, "score_threshold")) {
      auto value = read_double(*v, "baselines.score_threshold", 0.1, 100, "7.0");
      if (!value) return value.error();
      b.score_threshold = *value;
    }
    return {};
  }

  static bool valid_cidr(const std::string& cidr) {
    const size_t slash = cidr.find('/');
    if (slash == std::string::npos) return false;
    const std::string ip = cidr.substr(0, slash);
    const std::optional<uint64_t> bits = parse_decimal(std::string_view(cidr).substr(slash + 1));
    unsigned char buf[16];
    if (inet_pton(AF_INET, ip.c_str(), buf) == 1) return bits && *bits <= 32;
    if (inet_pton(AF_INET6, ip.c_str(), buf) == 1) return bits && *bits <= 128;
    return false;
  }

  Status apply_recording(const YAML::Node& section) {
    if (auto s = check_keys(section, "recording", kRecordingKeys); !s) return s;
    RecordingConfig& r = cfg_.recording;
    if (const auto v = find(section, "enabled")) {
      auto value = read_bool(*v, "recording.enabled");
      if (!value) return value.error();
      r.enabled = *value;
    }
    if (const auto v = find(section, "files")) {
      auto value = read_bool(*v, "recording.files");
      if (!value) return value.error();
      r.files = *value;
    }
    if (const auto v = find(section, "dir")) {
      if (!v->IsScalar() || v->Scalar().empty() || v->Scalar().front() != '/') {
        return error(
            *v,
            fmt::format("recording.dir: expected an absolute directory path, got {}", describe(*v)),
            "set recording.dir to an absolute path, e.g. /var/lib/privwatch/recordings");
      }
      r.dir = v->Scalar();
    }
    struct Field {
      const char* key;
      uint64_t lo, hi;
      uint32_t* dst;
    };
    const Field fields[] = {{"max_event_bytes", 64, 16384, &r.max_event_bytes},
                            {"max_session_mb", 1, 65536, &r.max_session_mb},
                            {"chunk_bytes", 4096, 1048576, &r.chunk_bytes},
                            {"flush_ms", 50, 60000, &r.flush_ms},
                            {"max_open", 1, 65536, &r.max_open}};
    for (const auto& f : fields) {
      if (const auto v = find(section, f.key)) {
        auto value = read_uint(*v, fmt::format("recording.{}", f.key), f.lo, f.hi, *f.dst);
        if (!value) return value.error();
        *f.dst = static_cast<uint32_t>(*value);
      }
    }
    return {};
  }

  Config& cfg_;
  const std::string* origin_ = nullptr;
  YAML::Mark key_mark_ = YAML::Mark::null_mark();
  YAML::Node value_;
  // users, loginuids and groups as written (checked, not yet resolved).
  std::vector<std::string> users_;
  std::vector<std::string> loginuids_;
  std::vector<std::string> groups_;
};

// Parse YAML text holding at most one document; an empty text is a null document.
Result<YAML::Node> load_document(const std::string& text, const std::string& origin) {
  const std::string syntax_hint =
      "fix the YAML at that position: indent with spaces (not tabs), put a space after ':' and "
      "'-', and quote values that contain ':' or '#'";
  try {
    std::vector<YAML::Node> docs = load_yaml_documents(text);
    // A trailing '---' yields an empty extra document; content in a second one is an error.
    const auto extra = std::find_if(docs.empty() ? docs.end() : std::next(docs.begin()), docs.end(),
                                    [](const YAML::Node& d) { return !d.IsNull(); });
    if (extra != docs.end()) {
      const YAML::Mark mark = extra->Mark();
      return Error{ErrorKind::kInvalidArgument,
                   mark.is_null() ? fmt::format("{}: more than one YAML document", origin)
                                  : fmt::format("{}:{}:{}: more than one YAML document", origin,
                                                mark.line + 1, mark.column + 1),
                   "keep one document: remove the second '---' separator and what follows, or "
                   "merge it into the first"};
    }
    return docs.empty() ? YAML::Node(YAML::NodeType::Null) : docs[0];
  } catch (const YAML::Exception& e) {
    const std::string where =
        e.mark.is_null() ? origin
                         : fmt::format("{}:{}:{}", origin, e.mark.line + 1, e.mark.column + 1);
    // "path: -" is the likeliest way to get here: a lone '-' starts a list entry.
    const bool dash = e.msg == YAML::ErrorMsg::BLOCK_ENTRY;
    return Error{
        ErrorKind::kInvalidArgument, fmt::format("{}: YAML syntax error: {}", where, e.msg),
        dash ? "a '-' here starts a list entry, which does not fit here: quote a lone dash "
               "(path: \"-\" for stdout) or fix the indentation of the list"
             : syntax_hint};
  }
}

Result<Config> parse_layers(const std::string& yaml_text, const std::string& origin) {
  Config cfg;
  Parser parser(cfg);
  const std::string embedded_origin = "<embedded default>";
  auto base = load_document(kEmbeddedDefaultYaml, embedded_origin);
  if (!base) return Error{ErrorKind::kInternal, base.error().message, "this is a bug"};
  if (auto s = parser.apply(*base, embedded_origin); !s) {
    return Error{ErrorKind::kInternal, s.error().message, "this is a bug"};
  }
  auto doc = load_document(yaml_text, origin);
  if (!doc) return doc.error();
  if (auto s = parser.apply(*doc, origin); !s) return s.error();
  parser.finish();
  cfg.source_file = origin;
  return cfg;
}

Error file_error(const std::string& path, int err) {
  const ErrorKind kind = err == ENOENT                     ? ErrorKind::kNotFound
                         : (err == EACCES || err == EPERM) ? ErrorKind::kPermission
                                                           : ErrorKind::kIo;
  return Error{kind, fmt::format("cannot read configuration file '{}': {}", path, errno_text(err)),
               "pass --config with a readable YAML file or omit it to use the embedded default"};
}

}  // namespace

const char* embedded_default_yaml() { return kEmbeddedDefaultYaml; }

Result<uint64_t> parse_duration(const std::string& text) {
  if (text == "forever" || text == "0") return uint64_t{0};
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  const std::optional<uint64_t> n = parse_decimal(text.substr(0, digits));
  const std::string unit = text.substr(digits);
  uint64_t mult = 0;
  if (unit == "s") mult = 1;
  if (unit == "m") mult = 60;
  if (unit == "h") mult = 3600;
  if (unit == "d") mult = 86400;
  if (unit == "w") mult = 7 * 86400;
  if (unit == "y") mult = 365 * 86400;
  if (!n || mult == 0 || *n == 0) {
    return Error{ErrorKind::kInvalidArgument,
                 fmt::format("'{}' is not a duration (a positive number followed by s, m, h, d, "
                             "w or y, e.g. 30d)",
                             shorten(text)),
                 "write e.g. 90s, 15m, 12h, 30d, 2w or 1y"};
  }
  if (*n > UINT64_MAX / mult / 1'000'000'000ull) {
    return Error{ErrorKind::kInvalidArgument, fmt::format("'{}' is too long", shorten(text)),
                 "use at most a few hundred years, or forever"};
  }
  return *n * mult;
}

Result<Config> parse(const std::string& yaml_text, const std::string& origin) {
  // yaml-cpp reports through exceptions; none may leave this module.
  try {
    return parse_layers(yaml_text, origin);
  } catch (const std::exception& e) {
    return Error{ErrorKind::kInternal, fmt::format("{}: cannot parse: {}", origin, e.what()),
                 "report this as a bug, with the configuration file"};
  }
}

Result<Config> load_file(const std::string& path) {
  constexpr size_t kMaxBytes = 1 << 20;
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return file_error(path, errno);
  std::string text;
  char buf[16384];
  while (true) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return file_error(path, errno);
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kMaxBytes) {
      return Error{ErrorKind::kInvalidArgument,
                   fmt::format("configuration file '{}' is larger than 1 MiB", path),
                   "pass --config with the agent's YAML configuration file, not another file"};
    }
  }
  return parse(text, path);
}

Result<Config> load_default() { return parse(kEmbeddedDefaultYaml, "<embedded default>"); }

}  // namespace privwatch::config
