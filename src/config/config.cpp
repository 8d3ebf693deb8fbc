// Agent configuration: YAML → typed Config, validated. See docs/configuration.md.
//
// Parsing overlays the user's document on the embedded default: a key the user leaves out keeps
// the default value, a list the user sets replaces the default list. So an empty document is the
// embedded default by construction, and the two cannot disagree.
#include "config/config.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <pwd.h>
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

# Session recording: what monitored subjects write to and read from their terminals, replayable
# with `privwatch replay` (docs/recording.md). Off by default: it adds a tracepoint to every
# write() and read() on the host (bench/RESULTS.md has the measured cost).
recording:
  # Load the terminal capture programs. true or false.
  enabled: false
  # One file per session is written here (created if missing, mode 0700).
  dir: /var/lib/privwatch/recordings
  # Bytes captured per write()/read() on a terminal; the rest is counted as truncated. 64..16384.
  max_event_bytes: 4096
  # MiB captured per session and terminal; later output is counted, not recorded. 1..65536.
  max_session_mb: 64
  # Raw bytes gathered before a chunk is compressed (zstd) and written. 4096..1048576.
  chunk_bytes: 65536
  # A partial chunk is written after this many milliseconds (what `privwatch watch` sees). 50..60000.
  flush_ms: 1000
  # Recordings open at once; the least recently written is closed beyond this. 1..65536.
  max_open: 1024
)yaml";

constexpr std::string_view kTopKeys[] = {
    "log_level", "capture", "monitor", "sensitive_paths", "output", "process_table", "recording"};
constexpr std::string_view kRecordingKeys[] = {
    "enabled", "dir", "max_event_bytes", "max_session_mb", "chunk_bytes", "flush_ms", "max_open"};
constexpr std::string_view kCaptureKeys[] = {"ring_buffer_mb", "wakeup_delay_ms",
                                             "wakeup_bytes",   "max_args",
                                             "max_arg_bytes",  "drop_log_interval_s"};
constexpr std::string_view kMonitorKeys[] = {"root",      "all_logins", "users",  "groups",
                                             "loginuids", "sessions",   "cgroups"};
constexpr std::string_view kOutputKeys[] = {"path", "max_size_mb", "max_files"};
constexpr std::string_view kProcessTableKeys[] = {"max_entries", "exited_grace_s"};
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

  Status apply_recording(const YAML::Node& section) {
    if (auto s = check_keys(section, "recording", kRecordingKeys); !s) return s;
    RecordingConfig& r = cfg_.recording;
    if (const auto v = find(section, "enabled")) {
      auto value = read_bool(*v, "recording.enabled");
      if (!value) return value.error();
      r.enabled = *value;
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
    std::vector<YAML::Node> docs = YAML::LoadAll(text);
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
