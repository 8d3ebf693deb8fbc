// Agent configuration: defaults, the shipped file, validation messages, name resolution.
#include "config/config.hpp"

#include <grp.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace privwatch::config {
namespace {

namespace fs = std::filesystem;

constexpr char kMissingUser[] = "privwatch-no-such-user-3f9c";
constexpr char kMissingGroup[] = "privwatch-no-such-group-3f9c";

// gmock is not linked; these print both strings on failure.
::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << part << "'";
}

::testing::AssertionResult BeginsWith(const std::string& text, const std::string& prefix) {
  if (text.rfind(prefix, 0) == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not start with '" << prefix << "'";
}

bool group_exists(const char* name) { return getgrnam(name) != nullptr; }

gid_t group_id(const char* name) { return getgrnam(name)->gr_gid; }

Config parse_ok(const std::string& yaml) {
  auto result = parse(yaml, "privwatch.yaml");
  EXPECT_TRUE(result) << "unexpected error: " << result.error().to_string() << "\nfor:\n" << yaml;
  return result ? *result : Config{};
}

// Every field but source_file.
void expect_same_settings(const Config& a, const Config& b) {
  EXPECT_EQ(a.log_level, b.log_level);
  EXPECT_EQ(a.capture.ring_buffer_mb, b.capture.ring_buffer_mb);
  EXPECT_EQ(a.capture.wakeup_delay_ms, b.capture.wakeup_delay_ms);
  EXPECT_EQ(a.capture.wakeup_bytes, b.capture.wakeup_bytes);
  EXPECT_EQ(a.capture.max_args, b.capture.max_args);
  EXPECT_EQ(a.capture.max_arg_bytes, b.capture.max_arg_bytes);
  EXPECT_EQ(a.capture.drop_log_interval_s, b.capture.drop_log_interval_s);
  EXPECT_EQ(a.monitor.root, b.monitor.root);
  EXPECT_EQ(a.monitor.all_logins, b.monitor.all_logins);
  EXPECT_EQ(a.monitor.uids, b.monitor.uids);
  EXPECT_EQ(a.monitor.gids, b.monitor.gids);
  EXPECT_EQ(a.monitor.loginuids, b.monitor.loginuids);
  EXPECT_EQ(a.monitor.sessions, b.monitor.sessions);
  EXPECT_EQ(a.monitor.cgroups, b.monitor.cgroups);
  EXPECT_EQ(a.monitor.user_names, b.monitor.user_names);
  EXPECT_EQ(a.monitor.group_names, b.monitor.group_names);
  EXPECT_EQ(a.sensitive_paths, b.sensitive_paths);
  EXPECT_EQ(a.output.path, b.output.path);
  EXPECT_EQ(a.output.max_size_mb, b.output.max_size_mb);
  EXPECT_EQ(a.output.max_files, b.output.max_files);
  EXPECT_EQ(a.process_table.max_entries, b.process_table.max_entries);
  EXPECT_EQ(a.process_table.exited_grace_s, b.process_table.exited_grace_s);
  EXPECT_EQ(a.inventory.path, b.inventory.path);
  EXPECT_EQ(a.inventory.grants, b.inventory.grants);
}

// ---------------------------------------------------------------------------------------------
// The default

TEST(ConfigDefault, EmbeddedDefaultLoadsWithDocumentedValues) {
  auto cfg = load_default();
  ASSERT_TRUE(cfg) << cfg.error().to_string();
  EXPECT_EQ(cfg->source_file, "<embedded default>");
  EXPECT_EQ(cfg->log_level, "info");
  EXPECT_EQ(cfg->capture.ring_buffer_mb, 16u);
  EXPECT_EQ(cfg->capture.wakeup_bytes, 262144u);
  EXPECT_TRUE(cfg->monitor.root);
  EXPECT_FALSE(cfg->monitor.all_logins);
  EXPECT_EQ(cfg->output.path, "-");
  // Writes to /etc and root's SSH keys are the first things an auditor asks about.
  const auto& paths = cfg->sensitive_paths;
  EXPECT_NE(std::find(paths.begin(), paths.end(), "/etc/"), paths.end());
  EXPECT_NE(std::find(paths.begin(), paths.end(), "/root/.ssh/"), paths.end());
  for (const auto& p : paths) {
    EXPECT_EQ(p.front(), '/') << p;
    EXPECT_LT(p.size(), 128u) << p;
  }
}

TEST(ConfigDefault, SudoAndWheelAreResolvedOrRememberedNeverAnError) {
  auto cfg = load_default();
  ASSERT_TRUE(cfg) << cfg.error().to_string();
  const auto& m = cfg->monitor;
  for (const char* name : {"sudo", "wheel"}) {
    const bool remembered =
        std::find(m.group_names.begin(), m.group_names.end(), name) != m.group_names.end();
    if (group_exists(name)) {
      EXPECT_NE(std::find(m.gids.begin(), m.gids.end(), group_id(name)), m.gids.end()) << name;
      EXPECT_FALSE(remembered) << name << " exists here, so it is not unresolved";
    } else {
      EXPECT_TRUE(remembered) << name << " does not exist here and must be kept for doctor";
    }
  }
}

TEST(ConfigDefault, ShippedFileIsByteForByteTheEmbeddedDefault) {
  const std::string path = std::string(PRIVWATCH_SOURCE_DIR) + "/config/privwatch.yaml";
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << "cannot open " << path;
  const std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string embedded = embedded_default_yaml();
  if (file == embedded) return;
  // Point at the first line that differs, so the fix is obvious.
  std::istringstream a(file), b(embedded);
  std::string line_a, line_b;
  int line = 1;
  while (true) {
    const bool more_a = static_cast<bool>(std::getline(a, line_a));
    const bool more_b = static_cast<bool>(std::getline(b, line_b));
    if (!more_a && !more_b) break;
    if (more_a != more_b || line_a != line_b) break;
    ++line;
  }
  ADD_FAILURE() << "config/privwatch.yaml and kEmbeddedDefaultYaml in src/config/config.cpp "
                   "differ (sizes "
                << file.size() << " and " << embedded.size() << "), first at line " << line
                << ":\n  file:     " << line_a << "\n  embedded: " << line_b
                << "\nCopy the file's content into the raw string (or the reverse).";
}

TEST(ConfigDefault, StructDefaultsAgreeWithTheEmbeddedDefault) {
  auto cfg = load_default();
  ASSERT_TRUE(cfg) << cfg.error().to_string();
  const Config plain;
  EXPECT_EQ(cfg->log_level, plain.log_level);
  EXPECT_EQ(cfg->capture.ring_buffer_mb, plain.capture.ring_buffer_mb);
  EXPECT_EQ(cfg->capture.wakeup_delay_ms, plain.capture.wakeup_delay_ms);
  EXPECT_EQ(cfg->capture.wakeup_bytes, plain.capture.wakeup_bytes);
  EXPECT_EQ(cfg->capture.max_args, plain.capture.max_args);
  EXPECT_EQ(cfg->capture.max_arg_bytes, plain.capture.max_arg_bytes);
  EXPECT_EQ(cfg->capture.drop_log_interval_s, plain.capture.drop_log_interval_s);
  EXPECT_EQ(cfg->monitor.root, plain.monitor.root);
  EXPECT_EQ(cfg->monitor.all_logins, plain.monitor.all_logins);
  EXPECT_EQ(cfg->output.path, plain.output.path);
  EXPECT_EQ(cfg->output.max_size_mb, plain.output.max_size_mb);
  EXPECT_EQ(cfg->output.max_files, plain.output.max_files);
  EXPECT_EQ(cfg->process_table.max_entries, plain.process_table.max_entries);
  EXPECT_EQ(cfg->process_table.exited_grace_s, plain.process_table.exited_grace_s);
  EXPECT_EQ(cfg->inventory.path, plain.inventory.path);
  EXPECT_EQ(cfg->inventory.grants, plain.inventory.grants);
}

TEST(ConfigParse, InventoryPathsAreApplied) {
  auto cfg =
      parse("inventory:\n  path: /srv/inv.yaml\n  grants: /srv/grants.d\n", "privwatch.yaml");
  ASSERT_TRUE(cfg) << cfg.error().to_string();
  EXPECT_EQ(cfg->inventory.path, "/srv/inv.yaml");
  EXPECT_EQ(cfg->inventory.grants, "/srv/grants.d");
}

TEST(ConfigDefault, EmptyDocumentsAreTheDefault) {
  auto def = load_default();
  ASSERT_TRUE(def) << def.error().to_string();
  for (const char* doc : {"", "\n", "# nothing configured\n", "---\n", "~\n"}) {
    SCOPED_TRACE(::testing::Message() << "document: '" << doc << "'");
    const Config cfg = parse_ok(doc);
    expect_same_settings(cfg, *def);
    EXPECT_EQ(cfg.source_file, "privwatch.yaml");
  }
}

// ---------------------------------------------------------------------------------------------
// Parsing valid documents

TEST(ConfigParse, EveryKeyIsApplied) {
  const Config cfg = parse_ok(R"(
log_level: debug
capture:
  ring_buffer_mb: 64
  wakeup_delay_ms: 10
  wakeup_bytes: 1048576
  max_args: 128
  max_arg_bytes: 8192
  drop_log_interval_s: 60
monitor:
  root: false
  all_logins: true
  users: [0]
  groups: [0]
  loginuids: [1000]
  sessions: [7]
  cgroups: [/sys/fs/cgroup/system.slice/sshd.service]
sensitive_paths: [/opt/app/secrets/]
output:
  path: "-"
  max_size_mb: 5
  max_files: 9
process_table:
  max_entries: 2048
  exited_grace_s: 0
)");
  EXPECT_EQ(cfg.log_level, "debug");
  EXPECT_EQ(cfg.capture.ring_buffer_mb, 64u);
  EXPECT_EQ(cfg.capture.wakeup_delay_ms, 10u);
  EXPECT_EQ(cfg.capture.wakeup_bytes, 1048576u);
  EXPECT_EQ(cfg.capture.max_args, 128u);
  EXPECT_EQ(cfg.capture.max_arg_bytes, 8192u);
  EXPECT_EQ(cfg.capture.drop_log_interval_s, 60u);
  EXPECT_FALSE(cfg.monitor.root);
  EXPECT_TRUE(cfg.monitor.all_logins);
  EXPECT_EQ(cfg.monitor.uids, std::vector<uint32_t>{0});
  EXPECT_EQ(cfg.monitor.gids, std::vector<uint32_t>{0});
  EXPECT_TRUE(cfg.monitor.group_names.empty());
  EXPECT_EQ(cfg.monitor.loginuids, std::vector<uint32_t>{1000});
  EXPECT_EQ(cfg.monitor.sessions, std::vector<uint32_t>{7});
  EXPECT_EQ(cfg.monitor.cgroups,
            std::vector<std::string>{"/sys/fs/cgroup/system.slice/sshd.service"});
  EXPECT_EQ(cfg.sensitive_paths, std::vector<std::string>{"/opt/app/secrets/"});
  EXPECT_EQ(cfg.output.path, "-");
  EXPECT_EQ(cfg.output.max_size_mb, 5u);
  EXPECT_EQ(cfg.output.max_files, 9u);
  EXPECT_EQ(cfg.process_table.max_entries, 2048u);
  EXPECT_EQ(cfg.process_table.exited_grace_s, 0u);
}

TEST(ConfigParse, OmittedKeysKeepTheirDefaults) {
  auto def = load_default();
  ASSERT_TRUE(def) << def.error().to_string();
  const Config cfg = parse_ok("capture:\n  max_args: 200\n");
  EXPECT_EQ(cfg.capture.max_args, 200u);
  Config expected = *def;
  expected.capture.max_args = 200;
  expect_same_settings(cfg, expected);  // in particular sensitive_paths and groups are kept
}

TEST(ConfigParse, EmptySectionsAndEmptyListsAreAccepted) {
  const Config cfg = parse_ok("capture:\nmonitor:\n  users:\n  groups: []\nsensitive_paths: []\n");
  EXPECT_EQ(cfg.capture.ring_buffer_mb, 16u);
  EXPECT_TRUE(cfg.monitor.uids.empty());
  EXPECT_TRUE(cfg.monitor.gids.empty());
  EXPECT_TRUE(cfg.monitor.group_names.empty()) << "the default's unresolved group is replaced too";
  EXPECT_TRUE(cfg.sensitive_paths.empty());
}

TEST(ConfigParse, SensitivePathsAreDeduplicatedInOrder) {
  const Config cfg = parse_ok("sensitive_paths: [/etc/, /opt/x/, /etc/, /opt/x/, /srv/]\n");
  EXPECT_EQ(cfg.sensitive_paths, (std::vector<std::string>{"/etc/", "/opt/x/", "/srv/"}));
}

TEST(ConfigParse, SensitivePathOf127BytesIsTheLongestAccepted) {
  const std::string longest = "/" + std::string(125, 'a') + "/";
  ASSERT_EQ(longest.size(), 127u);
  const Config cfg = parse_ok("sensitive_paths: [" + longest + "]\n");
  EXPECT_EQ(cfg.sensitive_paths, std::vector<std::string>{longest});
}

TEST(ConfigParse, WakeupBytesMayBeHalfTheRingBuffer) {
  const Config cfg = parse_ok("capture:\n  ring_buffer_mb: 1\n  wakeup_bytes: 524288\n");
  EXPECT_EQ(cfg.capture.wakeup_bytes, 524288u);
}

// ---------------------------------------------------------------------------------------------
// Users, groups, login uids, sessions

TEST(ConfigMonitor, UsersResolveByNameAndNumberAndUnknownNamesAreRemembered) {
  const Config cfg =
      parse_ok(std::string("monitor:\n  users: [root, 0, 4242, ") + kMissingUser + "]\n");
  EXPECT_EQ(cfg.monitor.uids, (std::vector<uint32_t>{0, 4242})) << "root and 0 are one user";
  EXPECT_EQ(cfg.monitor.user_names, std::vector<std::string>{kMissingUser});
}

TEST(ConfigMonitor, LoginuidsResolveLikeUsers) {
  const Config cfg =
      parse_ok(std::string("monitor:\n  loginuids: [root, 1000, ") + kMissingUser + "]\n");
  EXPECT_EQ(cfg.monitor.loginuids, (std::vector<uint32_t>{0, 1000}));
  EXPECT_TRUE(cfg.monitor.uids.empty());
  EXPECT_EQ(cfg.monitor.user_names, std::vector<std::string>{kMissingUser});
}

TEST(ConfigMonitor, GroupsResolveByNameAndNumberAndUnknownNamesAreRemembered) {
  ASSERT_TRUE(group_exists("root"));
  const Config cfg =
      parse_ok(std::string("monitor:\n  groups: [root, 0, 4243, ") + kMissingGroup + "]\n");
  EXPECT_EQ(cfg.monitor.gids, (std::vector<uint32_t>{0, 4243}));
  EXPECT_EQ(cfg.monitor.group_names, std::vector<std::string>{kMissingGroup});
}

TEST(ConfigMonitor, SessionsAreNumbersDeduplicated) {
  const Config cfg = parse_ok("monitor:\n  sessions: [3, 17, 3]\n");
  EXPECT_EQ(cfg.monitor.sessions, (std::vector<uint32_t>{3, 17}));
}

// ---------------------------------------------------------------------------------------------
// Validation: every error names file:line:column and the key, says what is wrong and what to do.

struct BadCase {
  const char* name;
  std::string yaml;
  std::string location;  // "privwatch.yaml:L:C" (1-based)
  std::string key;       // the key (or construct) the message must name
  std::string what;      // a fragment of the message
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

class ConfigValidation : public ::testing::TestWithParam<BadCase> {};

TEST_P(ConfigValidation, ErrorNamesWhereWhatAndHowToFix) {
  const BadCase& c = GetParam();
  auto result = parse(c.yaml, "privwatch.yaml");
  ASSERT_FALSE(result) << "accepted:\n" << c.yaml;
  const Error& e = result.error();
  EXPECT_EQ(e.kind, ErrorKind::kInvalidArgument);
  EXPECT_TRUE(BeginsWith(e.message, c.location + ": ")) << e.to_string();
  EXPECT_TRUE(Contains(e.message, c.key)) << e.to_string();
  EXPECT_TRUE(Contains(e.message, c.what)) << e.to_string();
  EXPECT_FALSE(e.hint.empty()) << e.to_string();
}

const std::string kLong128 = "/" + std::string(126, 'a') + "/";

INSTANTIATE_TEST_SUITE_P(
    Config, ConfigValidation,
    ::testing::Values(
        // Unknown keys list the known ones.
        BadCase{"UnknownKeyInSection", "capture:\n  ring_buffer_mb: 16\n\n  ringbuffer_mb: 3\n",
                "privwatch.yaml:4:3", "'ringbuffer_mb' in 'capture'",
                "(known: ring_buffer_mb, wakeup_delay_ms, wakeup_bytes, max_args, max_arg_bytes, "
                "drop_log_interval_s)"},
        BadCase{"InventoryPathNotAbsolute", "inventory:\n  path: inv.yaml\n", "privwatch.yaml:2:9",
                "inventory.path", "not an absolute path"},
        BadCase{"InventoryUnknownKey", "inventory:\n  file: /x.yaml\n", "privwatch.yaml:2:3",
                "'file' in 'inventory'", "unknown key"},
        BadCase{"UnknownTopLevelKey", "log_level: info\nlogging: debug\n", "privwatch.yaml:2:1",
                "'logging'", "unknown key"},
        BadCase{"KeyInWrongSection", "ring_buffer_mb: 16\n", "privwatch.yaml:1:1",
                "'ring_buffer_mb'", "unknown key"},
        BadCase{"DuplicateKey", "log_level: info\nlog_level: debug\n", "privwatch.yaml:2:1",
                "'log_level'", "duplicate key"},
        BadCase{"SectionNotAMapping", "capture: 16\n", "privwatch.yaml:1:10", "capture",
                "expected a mapping"},
        BadCase{"TopLevelNotAMapping", "- a\n- b\n", "privwatch.yaml:1:1", "configuration",
                "must be a mapping"},
        // Types.
        BadCase{"NumberIsText", "capture:\n  ring_buffer_mb: abc\n", "privwatch.yaml:2:19",
                "capture.ring_buffer_mb", "expected a number, got 'abc'"},
        BadCase{"NumberWithUnit", "output:\n  max_size_mb: 100MB\n", "privwatch.yaml:2:16",
                "output.max_size_mb", "expected a number, got '100MB'"},
        BadCase{"NumberIsList", "process_table:\n  max_entries: [1]\n", "privwatch.yaml:2:16",
                "process_table.max_entries", "expected a number, got a list"},
        BadCase{"NumberIsEmpty", "capture:\n  max_args:\nlog_level: info\n", "privwatch.yaml:2:3",
                "capture.max_args", "got an empty value"},
        BadCase{"BoolIsText", "monitor:\n  root: maybe\n", "privwatch.yaml:2:9", "monitor.root",
                "expected true or false, got 'maybe'"},
        BadCase{"LogLevelUnknown", "log_level: verbose\n", "privwatch.yaml:1:12", "log_level",
                "'verbose' is not a log level (trace, debug, info, warn, error)"},
        BadCase{"LogLevelEmpty", "log_level:\n", "privwatch.yaml:1:1", "log_level",
                "got an empty value"},
        BadCase{"ListIsScalar", "monitor:\n  users: root\n", "privwatch.yaml:2:10", "monitor.users",
                "expected a list of user names or uids, got 'root'"},
        BadCase{"ListEntryIsList", "monitor:\n  groups: [sudo, [0]]\n", "privwatch.yaml:2:18",
                "monitor.groups[1]", "expected a group name or gid, got a list"},
        // Recording.
        BadCase{"RecordingEnabledNotBool", "recording:\n  enabled: maybe\n",
                "privwatch.yaml:2:12", "recording.enabled", "expected true or false"},
        BadCase{"RecordingDirRelative", "recording:\n  dir: recs\n", "privwatch.yaml:2:8",
                "recording.dir", "expected an absolute directory path"},
        BadCase{"RecordingEventBytesTooLarge", "recording:\n  max_event_bytes: 16385\n",
                "privwatch.yaml:2:20", "recording.max_event_bytes", "out of range (64..16384)"},
        BadCase{"RecordingUnknownKey", "recording:\n  enable: true\n", "privwatch.yaml:2:3",
                "recording", "enable"},
        // Ranges.
        BadCase{"RingBufferTooLarge", "capture:\n  ring_buffer_mb: 2048\n", "privwatch.yaml:2:19",
                "capture.ring_buffer_mb", "out of range (1..1024)"},
        BadCase{"RingBufferZero", "capture:\n  ring_buffer_mb: 0\n", "privwatch.yaml:2:19",
                "capture.ring_buffer_mb", "out of range (1..1024)"},
        BadCase{"RingBufferNotPowerOfTwo", "capture:\n  ring_buffer_mb: 24\n",
                "privwatch.yaml:2:19", "capture.ring_buffer_mb", "24 is not a power of two"},
        BadCase{"RingBufferHuge", "capture:\n  ring_buffer_mb: 99999999999999999999999\n",
                "privwatch.yaml:2:19", "capture.ring_buffer_mb", "out of range (1..1024)"},
        BadCase{"WakeupDelayZero", "capture:\n  wakeup_delay_ms: 0\n", "privwatch.yaml:2:20",
                "capture.wakeup_delay_ms", "out of range (1..100)"},
        BadCase{"WakeupDelayTooLong", "capture:\n  wakeup_delay_ms: 101\n", "privwatch.yaml:2:20",
                "capture.wakeup_delay_ms", "out of range (1..100)"},
        BadCase{"WakeupBytesTooSmall", "capture:\n  wakeup_bytes: 4095\n", "privwatch.yaml:2:17",
                "capture.wakeup_bytes", "out of range (4096..8388608"},
        BadCase{"WakeupBytesOverHalfTheRing",
                "capture:\n  ring_buffer_mb: 1\n  wakeup_bytes: 524289\n", "privwatch.yaml:3:17",
                "capture.wakeup_bytes", "at most half of capture.ring_buffer_mb = 1 MiB"},
        BadCase{"MaxArgsZero", "capture:\n  max_args: 0\n", "privwatch.yaml:2:13",
                "capture.max_args", "out of range (1..1024)"},
        BadCase{"MaxArgsNegative", "capture:\n  max_args: -5\n", "privwatch.yaml:2:13",
                "capture.max_args", "-5 is out of range (1..1024)"},
        BadCase{"MaxArgBytesTooSmall", "capture:\n  max_arg_bytes: 63\n", "privwatch.yaml:2:18",
                "capture.max_arg_bytes", "out of range (64..8192)"},
        BadCase{"MaxArgBytesTooLarge", "capture:\n  max_arg_bytes: 8193\n", "privwatch.yaml:2:18",
                "capture.max_arg_bytes", "out of range (64..8192)"},
        BadCase{"DropLogIntervalTooLong", "capture:\n  drop_log_interval_s: 3601\n",
                "privwatch.yaml:2:24", "capture.drop_log_interval_s", "out of range (1..3600)"},
        BadCase{"MaxSizeTooLarge", "output:\n  max_size_mb: 100001\n", "privwatch.yaml:2:16",
                "output.max_size_mb", "out of range (1..100000)"},
        BadCase{"MaxFilesZero", "output:\n  max_files: 0\n", "privwatch.yaml:2:14",
                "output.max_files", "out of range (1..1000)"},
        BadCase{"ProcessTableTooSmall", "process_table:\n  max_entries: 1023\n",
                "privwatch.yaml:2:16", "process_table.max_entries", "out of range (1024..4194304)"},
        BadCase{"GraceTooLong", "process_table:\n  exited_grace_s: 3601\n", "privwatch.yaml:2:19",
                "process_table.exited_grace_s", "out of range (0..3600)"},
        BadCase{"UidIsUnset", "monitor:\n  users: [4294967295]\n", "privwatch.yaml:2:11",
                "monitor.users[0]", "out of range (0..4294967294"},
        BadCase{"UidNegative", "monitor:\n  loginuids: [root, -1]\n", "privwatch.yaml:2:21",
                "monitor.loginuids[1]", "'-1' is not a valid user name or uid"},
        BadCase{"SessionIsName", "monitor:\n  sessions: [abc]\n", "privwatch.yaml:2:14",
                "monitor.sessions[0]", "expected an audit session id"},
        // Paths.
        BadCase{"SensitivePathRelative", "sensitive_paths: [/etc/, etc/shadow]\n",
                "privwatch.yaml:1:26", "sensitive_paths[1]",
                "'etc/shadow' is not an absolute path"},
        BadCase{"SensitivePathDotDot", "sensitive_paths:\n  - /etc/../root/\n",
                "privwatch.yaml:2:5", "sensitive_paths[0]", "contains a '..' component"},
        BadCase{"SensitivePathTooLong", "sensitive_paths: [" + kLong128 + "]\n",
                "privwatch.yaml:1:19", "sensitive_paths[0]", "is 128 bytes long; the limit is 127"},
        BadCase{"CgroupRelative", "monitor:\n  cgroups: [system.slice/sshd.service]\n",
                "privwatch.yaml:2:13", "monitor.cgroups[0]", "is not an absolute path"},
        BadCase{"OutputDirectoryMissing",
                "output:\n  path: /nonexistent-privwatch-test/dir/events.json\n",
                "privwatch.yaml:2:9", "output.path",
                "the directory '/nonexistent-privwatch-test/dir' does not exist"},
        BadCase{"OutputIsADirectory", "output:\n  path: /\n", "privwatch.yaml:2:9", "output.path",
                "'/' is a directory"},
        BadCase{"OutputEmpty", "output:\n  path: \"\"\n", "privwatch.yaml:2:9", "output.path",
                "expected \"-\" or a file path"},
        // YAML itself.
        BadCase{"SyntaxUnclosedList", "log_level: info\nsensitive_paths: [/etc/\n",
                "privwatch.yaml:3:1", "YAML syntax error", "end of sequence flow not found"},
        BadCase{"SyntaxBadIndent", "capture:\n  ring_buffer_mb: 16\n   max_args: 2\n",
                "privwatch.yaml:3:12", "YAML syntax error", "illegal map value"},
        BadCase{"SecondDocument", "log_level: info\n---\nlog_level: debug\n", "privwatch.yaml:3:1",
                "YAML document", "more than one"}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return std::string(info.param.name); });

TEST(ConfigValidationHint, UnknownKeySuggestsTheClosestKnownKey) {
  auto result = parse("capture:\n  ringbuffer_mb: 16\n", "privwatch.yaml");
  ASSERT_FALSE(result);
  EXPECT_TRUE(Contains(result.error().hint, "did you mean 'ring_buffer_mb'?"));
}

TEST(ConfigValidationHint, KeyInWrongSectionSaysWhereItBelongs) {
  auto result = parse("wakeup_delay_ms: 5\n", "privwatch.yaml");
  ASSERT_FALSE(result);
  EXPECT_TRUE(Contains(result.error().hint, "belongs under 'capture:'"));
}

TEST(ConfigValidationHint, UnquotedDashForStdoutSaysToQuoteIt) {
  auto result = parse("output:\n  path: -\n", "privwatch.yaml");
  ASSERT_FALSE(result);
  EXPECT_TRUE(BeginsWith(result.error().message, "privwatch.yaml:2:9: YAML syntax error"));
  EXPECT_TRUE(Contains(result.error().hint, "path: \"-\""));
}

TEST(ConfigValidationHint, PowerOfTwoSuggestsNeighbours) {
  auto result = parse("capture:\n  ring_buffer_mb: 24\n", "privwatch.yaml");
  ASSERT_FALSE(result);
  EXPECT_TRUE(Contains(result.error().hint, "use 16 or 32"));
}

// ---------------------------------------------------------------------------------------------
// Files

class ConfigFile : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "privwatch-config-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    dir_ = templ;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string write(const std::string& name, const std::string& content) {
    std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  fs::path dir_;
};

TEST_F(ConfigFile, MissingFileNamesThePathAndTheReason) {
  const std::string path = (dir_ / "absent.yaml").string();
  auto result = load_file(path);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::kNotFound);
  EXPECT_TRUE(Contains(result.error().message, "'" + path + "'"));
  EXPECT_TRUE(Contains(result.error().message, "No such file or directory"));
  EXPECT_EQ(result.error().hint,
            "pass --config with a readable YAML file or omit it to use the embedded default");
}

TEST_F(ConfigFile, DirectoryIsNotAConfigFile) {
  auto result = load_file(dir_.string());
  ASSERT_FALSE(result);
  EXPECT_TRUE(Contains(result.error().message, "Is a directory"));
  EXPECT_TRUE(Contains(result.error().hint, "--config"));
}

TEST_F(ConfigFile, ErrorsNameTheFileLineAndColumn) {
  const std::string path = write("agent.yaml", "log_level: info\ncapture:\n  max_args: lots\n");
  auto result = load_file(path);
  ASSERT_FALSE(result);
  EXPECT_TRUE(BeginsWith(result.error().message, path + ":3:13: capture.max_args"));
}

TEST_F(ConfigFile, LoadedConfigRemembersItsSource) {
  const std::string path = write("agent.yaml", "log_level: warn\n");
  auto result = load_file(path);
  ASSERT_TRUE(result) << result.error().to_string();
  EXPECT_EQ(result->source_file, path);
  EXPECT_EQ(result->log_level, "warn");
}

TEST_F(ConfigFile, EmptyFileIsTheDefault) {
  auto def = load_default();
  ASSERT_TRUE(def) << def.error().to_string();
  auto result = load_file(write("empty.yaml", ""));
  ASSERT_TRUE(result) << result.error().to_string();
  expect_same_settings(*result, *def);
}

TEST_F(ConfigFile, ShippedFileLoads) {
  auto result = load_file(std::string(PRIVWATCH_SOURCE_DIR) + "/config/privwatch.yaml");
  ASSERT_TRUE(result) << result.error().to_string();
  auto def = load_default();
  ASSERT_TRUE(def) << def.error().to_string();
  expect_same_settings(*result, *def);
}

TEST_F(ConfigFile, OutputPathInAnExistingDirectoryIsAccepted) {
  const std::string out = (dir_ / "events.json").string();  // need not exist yet
  const Config cfg = parse_ok("output:\n  path: " + out + "\n");
  EXPECT_EQ(cfg.output.path, out);
}

}  // namespace
}  // namespace privwatch::config
