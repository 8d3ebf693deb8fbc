// Agent configuration: parsed once from YAML into typed structs, validated, passed explicitly.
// Every error names the file, line and column, what is wrong and what to do.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "config/exports_config.hpp"
#include "util/result.hpp"

namespace privwatch::config {

struct CaptureConfig {
  uint32_t ring_buffer_mb = 16;        // power of two, 1..1024
  uint32_t wakeup_delay_ms = 2;        // bounded delay before user space drains the ring (1..100)
  uint32_t wakeup_bytes = 256 * 1024;  // kernel forces a wakeup once this much data is pending
  uint32_t max_args = 64;              // argv entries kept (1..1024)
  uint32_t max_arg_bytes = 4096;       // argv bytes read in the kernel (64..8192)
  uint32_t drop_log_interval_s = 5;    // at most one drop log line per interval (1..3600)
};

// Which subjects are fully monitored (all file activity). exec, connect and credential
// changes are captured for everyone regardless.
struct MonitorConfig {
  bool root = true;                  // uid 0 or euid 0
  bool all_logins = false;           // any process with an audit loginuid (a human session)
  std::vector<uint32_t> uids;        // resolved from names or numbers
  std::vector<uint32_t> gids;        // members (primary or supplementary) of these groups
  std::vector<uint32_t> loginuids;   // processes whose loginuid is one of these
  std::vector<uint32_t> sessions;    // audit session ids
  std::vector<std::string> cgroups;  // cgroup v2 directories (absolute paths)
  // Unresolved names kept for error messages / doctor.
  std::vector<std::string> user_names;
  std::vector<std::string> group_names;
};

struct OutputConfig {
  std::string path = "-";      // "-" = stdout; otherwise a file, rotated by size
  uint64_t max_size_mb = 100;  // rotate when the file exceeds this (1..100000)
  uint32_t max_files = 5;      // rotated files kept: path.1 .. path.N (1..1000)
};

struct ProcessTableConfig {
  uint32_t max_entries = 65536;  // bounded memory (1024..4194304)
  uint32_t exited_grace_s = 30;  // keep exited processes this long for late events (0..3600)
};

// Where the inventory and the access grants live (enrich/inventory.hpp, enrich/grants.hpp).
struct InventoryConfig {
  std::string path = "/etc/privwatch/inventory.yaml";  // absent file = empty inventory
  std::string grants = "/etc/privwatch/grants.d";      // directory (or file) of grant files
};

// Retention per record kind, in seconds; 0 keeps records forever.
struct StoreRetention {
  uint64_t event_s = 365ull * 86400;
  uint64_t session_s = 7ull * 365 * 86400;
  uint64_t alert_s = 7ull * 365 * 86400;
  uint64_t escalation_s = 7ull * 365 * 86400;
  uint64_t recording_s = 7ull * 365 * 86400;
  uint64_t response_s = 7ull * 365 * 86400;
};

// The embedded tamper-evident store (docs/store.md).
struct StoreConfig {
  bool enabled = true;
  std::string path = "/var/lib/privwatch/privwatch.db";
  std::string key_path = "/var/lib/privwatch/store.key";  // Ed25519 signing key (0600)
  uint32_t commit_interval_ms = 200;    // longest time a record waits for its commit (1..60000)
  uint32_t queue_size = 262144;         // records buffered before drops (1024..16777216)
  uint32_t queue_max_mb = 4;            // ... and at most this much memory (1..4096)
  uint32_t checkpoint_every = 100000;   // signed checkpoint after this many records
  uint32_t checkpoint_interval_s = 60;  // ... or this many seconds (1..86400)
  std::string checkpoint_file;          // off-host copies: append JSON lines here ("": off)
  bool checkpoint_syslog = false;       // ... and/or send them to syslog (LOG_AUTHPRIV)
  std::string checkpoint_url;           // ... and/or POST them here (http://host:port/path)
  uint32_t prune_interval_s = 3600;     // how often retention runs (60..86400)
  StoreRetention retention;
};

// Detection rules (docs/rules.md).
struct DetectConfig {
  bool enabled = true;
  bool default_rules = true;             // the default ruleset (see docs/rules.md: where)
  std::vector<std::string> rules;        // more rule files / directories (absolute paths)
  uint32_t dedup_window_s = 60;          // 0..86400
  uint32_t rate_limit_per_minute = 60;   // 0 (unlimited)..100000
  uint32_t max_sequence_states = 10000;  // 100..1000000
};

// One in-kernel enforcement entry (respond.kill): a monitored process that makes the matching
// syscall is killed with SIGKILL by the kernel at that syscall (docs/response.md).
struct KillEntry {
  std::string name;  // unique, shown in the action record
  // Exactly one of:
  std::string exec;      // absolute path of an executable: killed at exec (matched by device+inode)
  bool connect = false;  // connect to addr/prefix_bits and port (0 = any port)
  uint16_t family = 0;   // AF_INET or AF_INET6
  std::array<uint8_t, 16> addr{};
  uint8_t prefix_bits = 0;  // 0 = any address of the family
  uint16_t port = 0;
  std::string connect_text;  // as written, for messages
};

struct RespondConfig {
  bool enabled = true;   // act on alerts whose rule carries a response
  bool dry_run = false;  // record what would be done, do nothing
  // Never acted on besides the built-in ones (the agent, PID 1, kernel threads): process
  // names (comm) or absolute executable paths.
  std::vector<std::string> protected_processes;
  // Banner written to the session's terminals; {reason}, {host}, {id} are replaced.
  std::string warn_message;
  std::string actions_log;   // `privwatch respond` appends its action records here
  uint32_t max_rounds = 20;  // freeze/terminate: bounded rescans for escaping processes (1..1000)
  std::vector<KillEntry> kill;
};

// Behavioural baselines per user, role and cluster (src/ueba, docs/baselines.md).
struct BaselinesConfig {
  bool enabled = false;
  std::string state_file;      // snapshot of the learned baselines ("" = memory only)
  std::string feedback_file;   // analyst verdicts appended by `privwatch alert ID --benign`
  std::string geoip_database;  // MaxMind-format country database ("" = no countries)
  std::vector<std::string> internal_networks;  // CIDRs added to RFC 1918/loopback/ULA
  uint32_t half_life_days = 30;                // 1..3650
  uint32_t learning_days = 14;                 // 0..365
  uint32_t min_events = 200;                   // per entity before it is mature, 0..1000000
  uint32_t min_dimensions = 2;                 // deviating dimensions needed, 1..3
  uint32_t min_dimensions_critical = 2;        // the same for critical actions, 1..3
  double rarity = 0.01;                        // share of history at most as rare, (0, 0.5]
  double score_threshold = 7.0;                // sensitivity × Σ maturity × surprise, (0, 100]
  uint32_t max_entities = 100000;              // 100..10000000
  uint32_t max_values_user = 64;               // per user and feature, 8..4096
  uint32_t max_values_group = 1024;            // per role / cluster and feature, 8..65536
  uint32_t dedup_window_s = 3600;              // 0..604800
  uint32_t rollout_users = 3;                  // 0 (off) or 2..1000
  uint32_t recurrence_days = 3;                // 0 (off) or 2..365
  uint32_t snapshot_interval_s = 300;          // 10..86400
};

// Session recording: terminal I/O of monitored subjects (docs/recording.md).
struct RecordingConfig {
  bool enabled = false;  // loads the write/read/ioctl tracepoints (bench/RESULTS.md: cost)
  // Recordings live in the store (kind recording). Files in `dir` as well only when `files`
  // is true, or when the store is disabled (docs/recording.md).
  bool files = false;
  std::string dir = "/var/lib/privwatch/recordings";  // one file per session
  uint32_t max_event_bytes = 4096;                    // bytes captured per write/read (64..16384)
  uint32_t max_session_mb = 64;  // bytes captured per session and terminal (1..65536 MiB)
  uint32_t chunk_bytes = 65536;  // raw bytes per compressed chunk (4096..1048576)
  uint32_t flush_ms = 500;       // a partial chunk is written after this (50..60000)
  uint32_t max_open = 1024;      // recordings open at once (1..65536)
};

struct Config {
  std::string source_file;         // where this came from ("<embedded default>" otherwise)
  std::string log_level = "info";  // trace, debug, info, warn, error
  CaptureConfig capture;
  MonitorConfig monitor;
  std::vector<std::string> sensitive_paths;  // absolute prefixes, each < 128 bytes
  OutputConfig output;
  ProcessTableConfig process_table;
  InventoryConfig inventory;
  StoreConfig store;
  MetricsConfig metrics;  // metrics: (exports_config.hpp)
  ExportsConfig exports;  // exports:
  DetectConfig detect;
  RespondConfig respond;
  BaselinesConfig baselines;
  RecordingConfig recording;
};

// "90s", "15m", "12h", "30d", "2w", "1y" (365 days) → seconds. "0" and "forever" → 0.
[[nodiscard]] Result<uint64_t> parse_duration(const std::string& text);

// The configuration used when no file is given (also config/privwatch.yaml).
[[nodiscard]] const char* embedded_default_yaml();

// Parse YAML text. `origin` names the source in errors ("/etc/privwatch/privwatch.yaml").
// Resolves user and group names through NSS (getpwnam_r / getgrnam_r).
[[nodiscard]] Result<Config> parse(const std::string& yaml_text, const std::string& origin);

// Read and parse a file; a missing or unreadable file is an error naming the path.
[[nodiscard]] Result<Config> load_file(const std::string& path);

// Embedded default.
[[nodiscard]] Result<Config> load_default();

}  // namespace privwatch::config
