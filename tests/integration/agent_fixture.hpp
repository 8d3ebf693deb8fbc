// Kernel integration tests: shared machinery.
//
// Every test follows "trigger → assert": it starts the REAL agent binary (PRIVWATCH_BINARY)
// with a temporary configuration, performs a real syscall or runs a real program, waits for
// the event in the agent's JSON-lines output and asserts its attributed fields against what
// /proc says about the process that acted. Tests skip only when not root or without kernel
// BTF; everything else (an agent that does not start, a missing event) is a failure.
//
// The machine is shared with other busy root processes: every trigger is made unique (a
// fresh temp directory, unique file names and argv tokens) and every assertion filters by
// the pid of the process the test started.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace privwatch::itest {

using json = nlohmann::json;
using Duration = std::chrono::milliseconds;
using namespace std::chrono_literals;

inline constexpr uint32_t kUnsetId = 4294967295u;  // audit loginuid / sessionid "unset"
inline constexpr Duration kEventTimeout = 10s;     // events arrive within ~10 ms normally
inline constexpr Duration kReadyTimeout = 60s;

// Build-time paths.
std::string agent_binary();                      // PRIVWATCH_BINARY
std::string helper_path(std::string_view name);  // PRIVWATCH_HELPER_DIR/name

// Empty when the kernel tests can run here; otherwise why not (not root, no BTF).
std::string kernel_skip_reason();

#define PW_SKIP_UNLESS_KERNEL_TESTS_CAN_RUN()                                   \
  do {                                                                          \
    if (const std::string pw_reason = ::privwatch::itest::kernel_skip_reason(); \
        !pw_reason.empty()) {                                                   \
      GTEST_SKIP() << pw_reason;                                                \
    }                                                                           \
  } while (0)

// "pwt<pid>x<counter>x<random>": letters and digits only, unique per call and per run.
std::string unique_token(std::string_view prefix = "pwt");

// ------------------------------------------------------------------------------------------
// Files

// A fresh directory under /tmp (canonical path), removed with its contents on destruction.
class TempDir {
 public:
  explicit TempDir(std::string_view tag = "pwtest");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] std::string operator/(std::string_view name) const;

 private:
  std::string path_;
};

void write_file(const std::string& path, std::string_view content, unsigned mode = 0644);
std::string read_file(const std::string& path);
std::string canonical(const std::string& path);  // realpath, "" when it fails

// ------------------------------------------------------------------------------------------
// Processes

// What /proc says about a process (readable for zombies too, except exe).
struct ProcInfo {
  uint32_t pid = 0, ppid = 0;
  uint64_t start_ticks = 0;  // /proc/<pid>/stat field 22
  std::string comm;
  uint32_t uid = 0, euid = 0, suid = 0, fsuid = 0;
  uint32_t gid = 0, egid = 0, sgid = 0, fsgid = 0;
  uint32_t loginuid = kUnsetId, sessionid = kUnsetId;
  uint32_t tty_nr = 0;  // /proc/<pid>/stat field 7 (0: no controlling terminal)
  std::string exe;      // readlink /proc/<pid>/exe ("" for a zombie)
  std::vector<std::string> cmdline;
  std::string cap_eff;            // "000001ffffffffff": CapEff of /proc/<pid>/status
  uint64_t cgroup_id = 0;         // inode of its cgroup v2 directory
  uint64_t pidns = 0, mntns = 0;  // /proc/<pid>/ns/{pid_for_children,mnt} inodes
};

// nullopt when the process does not exist (or /proc cannot be read).
std::optional<ProcInfo> read_proc(uint32_t pid);
const ProcInfo& self_info();    // the test process, read once
const ProcInfo& parent_info();  // the test process's parent (ctest, a shell), read once

std::string user_name(uint32_t uid);   // "" when unknown
std::string group_name(uint32_t gid);  // "" when unknown

struct SpawnOptions {
  std::string cwd;                // chdir before exec ("" = inherit)
  bool capture_stdout = false;    // read with Child::stdout_text() after exit
  bool stderr_to_stdout = false;  // with capture_stdout: stderr goes to the same pipe
  int stdin_fd = -1;              // dup2'd to 0 when >= 0, else /dev/null
  std::vector<std::string> env;   // empty = inherit
};

// A child process of the test. Killed (SIGKILL) and reaped on destruction if still there.
class Child {
 public:
  Child() = default;
  ~Child();
  Child(Child&& o) noexcept;
  Child& operator=(Child&& o) noexcept;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // fork() + execv(argv[0], argv).
  static Child exec(const std::vector<std::string>& argv, const SpawnOptions& opts = {});
  // fork() + fn() in the child, which then _exit()s with fn's return value. fn may only use
  // async-signal-safe calls and plain syscalls.
  static Child run(const std::function<int()>& fn, const SpawnOptions& opts = {});

  [[nodiscard]] pid_t pid() const { return pid_; }
  [[nodiscard]] bool running() const { return pid_ > 0 && !reaped_; }
  // Waits until the child has exited WITHOUT reaping it, snapshots /proc/<pid> (the zombie
  // keeps its start time, comm and credentials), then reaps it. Returns the wait status, or
  // -1 on timeout (the child is then killed).
  int wait(Duration timeout = 30s);
  [[nodiscard]] const std::optional<ProcInfo>& info_at_exit() const { return info_at_exit_; }
  [[nodiscard]] const std::string& stdout_text() const { return stdout_; }
  void kill(int sig);

 private:
  void reset();
  pid_t pid_ = -1;
  bool reaped_ = false;
  int stdout_fd_ = -1;
  std::string stdout_;
  std::optional<ProcInfo> info_at_exit_;
};

// A status of `wait()` as text ("exit 3", "signal 9", "timeout").
std::string describe_status(int status);

// ------------------------------------------------------------------------------------------
// Events

// Dotted ECS lookup: field(ev, "process.parent.pid"). nullptr when absent.
const json* field(const json& ev, std::string_view dotted);
bool has(const json& ev, std::string_view dotted);
std::string str(const json& ev, std::string_view dotted);  // "" when absent or not a string
int64_t num(const json& ev, std::string_view dotted, int64_t fallback = -1);
std::string short_dump(const json& ev);  // for failure messages

using Predicate = std::function<bool(const json&)>;

// Common predicates.
Predicate kind_is(std::string kind, uint32_t pid);      // privwatch.kind + process.pid
Predicate action_is(std::string action, uint32_t pid);  // event.action + process.pid

// ------------------------------------------------------------------------------------------
// The agent

struct StopResult {
  int status = -1;          // wait status (describe_status)
  json stats;               // the --stats-file JSON (null when missing)
  std::string stderr_text;  // everything the agent logged
};

// One real agent process: temp config + output + stats files, stderr captured to a file.
class Agent {
 public:
  // `config_body` is YAML appended after the `output:` section the fixture writes (so it may
  // hold any top-level key except `output`). Waits for "privwatch agent ready" on stderr.
  // Returns nullptr and fills *error (with the agent's stderr) when it does not get ready.
  static std::unique_ptr<Agent> start(const std::string& config_body, std::string* error,
                                      const std::vector<std::string>& extra_args = {});
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  [[nodiscard]] pid_t pid() const { return pid_; }
  [[nodiscard]] bool alive();
  [[nodiscard]] const std::string& dir() const { return dir_; }
  [[nodiscard]] const std::string& config_path() const { return config_path_; }
  [[nodiscard]] std::string stderr_text() const;

  // Forget every event written so far: later queries only see events written after now.
  // Everything a test triggers after mark() is written after it.
  void mark();

  // Tails the output until an event (written after the last mark) satisfies pred. Lines
  // that do not contain `needle` are not even parsed (pass a pid or a unique token).
  std::optional<json> wait_for(const Predicate& pred, std::string_view needle = {},
                               Duration timeout = kEventTimeout);
  // Every event seen so far (after the last mark) that satisfies pred.
  std::vector<json> matching(const Predicate& pred, std::string_view needle = {});

  // SIGTERM, wait for the exit (SIGKILL after `timeout`), read the stats file and stderr.
  StopResult stop(Duration timeout = 30s);
  // Sends a signal to the agent (SIGSTOP / SIGCONT / SIGHUP...).
  void signal(int sig);

 private:
  Agent() = default;
  void read_new();  // appends complete new lines of the output file to lines_

  pid_t pid_ = -1;
  bool stopped_ = false;
  std::string dir_, config_path_, output_path_, stats_path_, stderr_path_;
  int out_fd_ = -1;
  std::string partial_;
  std::vector<std::string> lines_;  // since the last mark
  std::optional<StopResult> stop_result_;
};

// gtest fixture: one agent per test suite (loading takes a second or two). Derive as
//   class FooTest : public AgentSuite<FooTest> { ... };
// and optionally define `static std::string config_body(const std::string& suite_dir)`
// in FooTest to change the configuration. suite_dir() is a temp directory that exists before
// the agent starts (so it can appear in the configuration, e.g. as a sensitive path).
template <typename Derived>
class AgentSuite : public ::testing::Test {
 public:
  static std::string config_body(const std::string& /*suite_dir*/) { return {}; }

  static void SetUpTestSuite() {
    if (!kernel_skip_reason().empty()) return;
    suite_dir_ = std::make_unique<TempDir>("pwsuite");
    agent_ = Agent::start(Derived::config_body(suite_dir_->path()), &start_error_);
  }

  static void TearDownTestSuite() {
    if (agent_) {
      const StopResult r = agent_->stop();
      // An agent that dies or exits with an error during the suite is a user-visible bug.
      EXPECT_EQ(describe_status(r.status), "exit 0") << r.stderr_text;
      if (!r.stats.is_null()) {
        EXPECT_EQ(r.stats.value("decode_errors", -1), 0) << r.stats.dump();
        EXPECT_EQ(r.stats.value("output_errors", -1), 0) << r.stats.dump();
      } else {
        ADD_FAILURE() << "the agent wrote no stats file";
      }
    }
    agent_.reset();
    suite_dir_.reset();
  }

 protected:
  void SetUp() override {
    PW_SKIP_UNLESS_KERNEL_TESTS_CAN_RUN();
    ASSERT_NE(agent_, nullptr) << "the agent did not start: " << start_error_;
    ASSERT_TRUE(agent_->alive()) << "the agent is gone: " << agent_->stderr_text();
    agent_->mark();
  }

  void TearDown() override {
    if (agent_) {
      EXPECT_TRUE(agent_->alive()) << "the agent died: " << agent_->stderr_text();
    }
  }

  static Agent& agent() { return *agent_; }
  static const std::string& suite_dir() { return suite_dir_->path(); }

  static inline std::unique_ptr<Agent> agent_;
  static inline std::unique_ptr<TempDir> suite_dir_;
  static inline std::string start_error_;
};

// ------------------------------------------------------------------------------------------
// Attribution: the process context every event carries

struct ExpectedProcess {
  uint32_t pid = 0, ppid = 0;
  uint64_t start_ticks = 0, parent_start_ticks = 0;
  std::string name;                       // comm
  std::optional<std::string> executable;  // process.executable
  std::optional<std::string> parent_executable, parent_name;
  std::optional<std::vector<std::string>> parent_args;
  uint32_t uid = 0, euid = 0, suid = 0, gid = 0, egid = 0;
  uint32_t loginuid = kUnsetId, sessionid = kUnsetId;
  uint32_t tty_nr = 0;
  uint64_t cgroup_id = 0, pidns = 0, mntns = 0;
  std::optional<bool> monitored;
};

// The context of `proc`, a child of `parent` (credentials, audit ids and tty from `proc`).
ExpectedProcess expected_process(const ProcInfo& proc, const ProcInfo& parent);
// A process forked by the test (not exec'd or exec'd: name/exe are left to the caller):
// parent = the test process, namespaces and cgroup = the test's.
ExpectedProcess expected_child(const ProcInfo& child_at_exit);

// The test process itself (events from syscalls the test makes directly).
ExpectedProcess expected_self();

// Non-fatal checks of every attributed field of the event against `e`.
void expect_process(const json& ev, const ExpectedProcess& e);

// privwatch.exec.exe_{mode,uid,dev,ino} against stat(path) (the executed file).
void expect_exe_identity(const json& ev, const std::string& path);

// The ECS categorisation: event.category == [category], event.type == types.
void expect_categorized(const json& ev, const std::string& category,
                        const std::vector<std::string>& types);

// ------------------------------------------------------------------------------------------
// A TCP listener on 127.0.0.1:<free port>, closed on destruction. Connections complete in the
// backlog; nothing is accepted. A failure to listen is a test failure (port() is then 0).
class Listener {
 public:
  Listener();
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  [[nodiscard]] uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

}  // namespace privwatch::itest
