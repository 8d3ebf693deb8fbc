// Agent configuration: parsed once from YAML into typed structs, validated, passed explicitly.
// Every error names the file, line and column, what is wrong and what to do.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

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

// Session recording: terminal I/O of monitored subjects (docs/recording.md).
struct RecordingConfig {
  bool enabled = false;  // loads the write/read/ioctl tracepoints (bench/RESULTS.md: cost)
  std::string dir = "/var/lib/privwatch/recordings";  // one file per session
  uint32_t max_event_bytes = 4096;                    // bytes captured per write/read (64..16384)
  uint32_t max_session_mb = 64;  // bytes captured per session and terminal (1..65536 MiB)
  uint32_t chunk_bytes = 65536;  // raw bytes per compressed chunk (4096..1048576)
  uint32_t flush_ms = 1000;      // a partial chunk is written after this (50..60000)
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
  RecordingConfig recording;
};

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
