#include "agent_fixture.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#ifndef PRIVWATCH_BINARY
#error "PRIVWATCH_BINARY must be defined by the build"
#endif
#ifndef PRIVWATCH_HELPER_DIR
#error "PRIVWATCH_HELPER_DIR must be defined by the build"
#endif

namespace privwatch::itest {

namespace fs = std::filesystem;

namespace {

uint64_t to_u64(std::string_view s, uint64_t fallback = 0) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size() ? v : fallback;
}

bool read_whole(const std::string& path, std::string& out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  std::ostringstream ss;
  ss << f.rdbuf();
  out = ss.str();
  return true;
}

uint64_t inode_of(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_ino) : 0;
}

// Mount point of the cgroup v2 hierarchy ("" when there is none).
const std::string& cgroup2_root() {
  static const std::string root = [] {
    std::ifstream f("/proc/self/mountinfo");
    std::string line;
    while (std::getline(f, line)) {
      // "36 25 0:31 / /sys/fs/cgroup/unified rw,... - cgroup2 cgroup2 rw,..."
      const size_t dash = line.find(" - ");
      if (dash == std::string::npos) continue;
      if (line.compare(dash + 3, 8, "cgroup2 ") != 0) continue;
      std::istringstream ss(line.substr(0, dash));
      std::string id, parent, devno, root_in_fs, mount_point;
      ss >> id >> parent >> devno >> root_in_fs >> mount_point;
      return mount_point;
    }
    return std::string();
  }();
  return root;
}

std::vector<std::string> split_nul(std::string_view raw) {
  std::vector<std::string> out;
  while (!raw.empty()) {
    size_t nul = raw.find('\0');
    if (nul == std::string_view::npos) nul = raw.size();
    out.emplace_back(raw.substr(0, nul));
    raw.remove_prefix(std::min(raw.size(), nul + 1));
  }
  return out;
}

void sleep_for(Duration d) { std::this_thread::sleep_for(d); }

}  // namespace

std::string agent_binary() { return PRIVWATCH_BINARY; }

std::string helper_path(std::string_view name) {
  return std::string(PRIVWATCH_HELPER_DIR) + "/" + std::string(name);
}

std::string kernel_skip_reason() {
  if (::geteuid() != 0) {
    return "kernel integration tests need root (they load eBPF programs and act as other "
           "users); run them as root, e.g. sudo ctest -L integration";
  }
  if (::access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
    return "this kernel has no BTF (/sys/kernel/btf/vmlinux): the agent's CO-RE programs "
           "cannot load here (needs CONFIG_DEBUG_INFO_BTF=y)";
  }
  return {};
}

std::string unique_token(std::string_view prefix) {
  static std::atomic<unsigned> counter{0};
  static const uint32_t run_id = [] {
    std::random_device rd;
    return static_cast<uint32_t>(rd());
  }();
  return fmt::format("{}{}x{}x{:08x}", prefix, ::getpid(), counter.fetch_add(1), run_id);
}

// ------------------------------------------------------------------------------------------
// Files

TempDir::TempDir(std::string_view tag) {
  std::string tmpl = fmt::format("/tmp/{}-{}-XXXXXX", tag, unique_token("t"));
  if (::mkdtemp(tmpl.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp " << tmpl << ": " << std::strerror(errno);
    return;
  }
  ::chmod(tmpl.c_str(), 0755);  // other users (nobody) may need to traverse it
  path_ = canonical(tmpl);
  if (path_.empty()) path_ = tmpl;
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  if (const char* keep = ::getenv("PRIVWATCH_TEST_KEEP"); keep != nullptr && *keep == '1') return;
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string TempDir::operator/(std::string_view name) const {
  return path_ + "/" + std::string(name);
}

void write_file(const std::string& path, std::string_view content, unsigned mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  ASSERT_GE(fd, 0) << "create " << path << ": " << std::strerror(errno);
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ASSERT_GT(n, 0) << "write " << path << ": " << std::strerror(errno);
    done += static_cast<size_t>(n);
  }
  ::fchmod(fd, mode);
  ::close(fd);
}

std::string read_file(const std::string& path) {
  std::string s;
  read_whole(path, s);
  return s;
}

std::string canonical(const std::string& path) {
  char* r = ::realpath(path.c_str(), nullptr);
  if (r == nullptr) return {};
  std::string s(r);
  ::free(r);
  return s;
}

// ------------------------------------------------------------------------------------------
// Processes

std::optional<ProcInfo> read_proc(uint32_t pid) {
  const std::string base = fmt::format("/proc/{}", pid);
  ProcInfo p;
  std::string stat;
  if (!read_whole(base + "/stat", stat) || stat.empty()) return std::nullopt;
  const size_t open = stat.find('(');
  const size_t close = stat.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) {
    return std::nullopt;
  }
  p.pid = static_cast<uint32_t>(to_u64(std::string_view(stat).substr(0, open)));
  p.comm = stat.substr(open + 1, close - open - 1);
  {
    std::istringstream ss(stat.substr(close + 1));
    std::string tok;
    for (int field = 3; ss >> tok; ++field) {
      if (field == 4) p.ppid = static_cast<uint32_t>(to_u64(tok));
      if (field == 7) p.tty_nr = static_cast<uint32_t>(to_u64(tok));
      if (field == 22) {
        p.start_ticks = to_u64(tok);
        break;
      }
    }
  }
  std::string status;
  if (read_whole(base + "/status", status)) {
    std::istringstream ss(status);
    std::string line;
    while (std::getline(ss, line)) {
      std::istringstream ls(line);
      std::string tag;
      ls >> tag;
      if (tag == "Uid:") ls >> p.uid >> p.euid >> p.suid >> p.fsuid;
      if (tag == "Gid:") ls >> p.gid >> p.egid >> p.sgid >> p.fsgid;
      if (tag == "CapEff:") ls >> p.cap_eff;
    }
  }
  std::string s;
  if (read_whole(base + "/loginuid", s)) p.loginuid = static_cast<uint32_t>(to_u64(s, kUnsetId));
  if (read_whole(base + "/sessionid", s)) {
    p.sessionid = static_cast<uint32_t>(to_u64(s, kUnsetId));
  }
  char buf[4096];
  const ssize_t n = ::readlink((base + "/exe").c_str(), buf, sizeof(buf) - 1);
  if (n > 0) p.exe.assign(buf, static_cast<size_t>(n));
  if (read_whole(base + "/cmdline", s)) p.cmdline = split_nul(s);
  if (read_whole(base + "/cgroup", s) && !cgroup2_root().empty()) {
    std::istringstream ss(s);
    std::string line;
    while (std::getline(ss, line)) {
      if (line.rfind("0::", 0) == 0) p.cgroup_id = inode_of(cgroup2_root() + line.substr(3));
    }
  }
  p.pidns = inode_of(base + "/ns/pid_for_children");
  p.mntns = inode_of(base + "/ns/mnt");
  return p;
}

const ProcInfo& self_info() {
  static const ProcInfo self = [] {
    auto p = read_proc(static_cast<uint32_t>(::getpid()));
    return p ? *p : ProcInfo{};
  }();
  return self;
}

const ProcInfo& parent_info() {
  static const ProcInfo parent = [] {
    auto p = read_proc(self_info().ppid);
    return p ? *p : ProcInfo{};
  }();
  return parent;
}

std::string user_name(uint32_t uid) {
  passwd pw{};
  passwd* res = nullptr;
  char buf[4096];
  if (::getpwuid_r(uid, &pw, buf, sizeof(buf), &res) != 0 || res == nullptr) return {};
  return pw.pw_name;
}

std::string group_name(uint32_t gid) {
  group gr{};
  group* res = nullptr;
  char buf[4096];
  if (::getgrgid_r(gid, &gr, buf, sizeof(buf), &res) != 0 || res == nullptr) return {};
  return gr.gr_name;
}

Child::~Child() { reset(); }

Child::Child(Child&& o) noexcept { *this = std::move(o); }

Child& Child::operator=(Child&& o) noexcept {
  if (this != &o) {
    reset();
    pid_ = o.pid_;
    reaped_ = o.reaped_;
    stdout_fd_ = o.stdout_fd_;
    stdout_ = std::move(o.stdout_);
    info_at_exit_ = std::move(o.info_at_exit_);
    o.pid_ = -1;
    o.stdout_fd_ = -1;
  }
  return *this;
}

void Child::reset() {
  if (pid_ > 0 && !reaped_) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    reaped_ = true;
  }
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
  stdout_fd_ = -1;
  pid_ = -1;
}

void Child::kill(int sig) {
  if (running()) ::kill(pid_, sig);
}

namespace {

// In the forked child: stdio, death signal, working directory. Returns false on failure.
bool child_setup(const SpawnOptions& opts, int stdout_w) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  const int in = opts.stdin_fd >= 0 ? opts.stdin_fd : ::open("/dev/null", O_RDONLY);
  if (in >= 0 && in != 0) ::dup2(in, 0);
  if (stdout_w >= 0) {
    ::dup2(stdout_w, 1);
    if (opts.stderr_to_stdout) ::dup2(stdout_w, 2);
  } else {
    const int null = ::open("/dev/null", O_WRONLY);
    if (null >= 0) ::dup2(null, 1);
  }
  if (!opts.cwd.empty() && ::chdir(opts.cwd.c_str()) != 0) return false;
  return true;
}

}  // namespace

Child Child::exec(const std::vector<std::string>& argv, const SpawnOptions& opts) {
  std::vector<char*> av;
  for (const auto& a : argv) av.push_back(const_cast<char*>(a.c_str()));
  av.push_back(nullptr);
  std::vector<char*> ev;
  for (const auto& e : opts.env) ev.push_back(const_cast<char*>(e.c_str()));
  ev.push_back(nullptr);
  return run(
      [&]() -> int {
        if (opts.env.empty()) {
          ::execv(av[0], av.data());
        } else {
          ::execve(av[0], av.data(), ev.data());
        }
        return 127;
      },
      opts);
}

Child Child::run(const std::function<int()>& fn, const SpawnOptions& opts) {
  int pipefd[2] = {-1, -1};
  if (opts.capture_stdout && ::pipe2(pipefd, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe: " << std::strerror(errno);
    return {};
  }
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ADD_FAILURE() << "fork: " << std::strerror(errno);
    return {};
  }
  if (pid == 0) {
    if (!child_setup(opts, pipefd[1])) ::_exit(126);
    ::_exit(fn());
  }
  Child c;
  c.pid_ = pid;
  if (opts.capture_stdout) {
    ::close(pipefd[1]);
    c.stdout_fd_ = pipefd[0];
    ::fcntl(c.stdout_fd_, F_SETFL, O_NONBLOCK);
  }
  return c;
}

int Child::wait(Duration timeout) {
  if (pid_ <= 0 || reaped_) return -1;
  auto drain = [this] {
    if (stdout_fd_ < 0) return;
    char buf[4096];
    for (;;) {
      const ssize_t n = ::read(stdout_fd_, buf, sizeof(buf));
      if (n > 0) {
        stdout_.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      break;
    }
  };
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    drain();
    siginfo_t si{};
    if (::waitid(P_PID, static_cast<id_t>(pid_), &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        si.si_pid == pid_) {
      break;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      reaped_ = true;
      drain();
      return -1;
    }
    sleep_for(2ms);
  }
  info_at_exit_ = read_proc(static_cast<uint32_t>(pid_));  // the zombie
  int status = 0;
  ::waitpid(pid_, &status, 0);
  reaped_ = true;
  drain();
  return status;
}

std::string describe_status(int status) {
  if (status == -1) return "timeout";
  if (WIFEXITED(status)) return fmt::format("exit {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return fmt::format("signal {}", WTERMSIG(status));
  return fmt::format("status {:#x}", status);
}

// ------------------------------------------------------------------------------------------
// Events

const json* field(const json& ev, std::string_view dotted) {
  const json* cur = &ev;
  while (!dotted.empty()) {
    const size_t dot = dotted.find('.');
    const std::string key(dotted.substr(0, dot));
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(key);
    if (it == cur->end()) return nullptr;
    cur = &*it;
    dotted = dot == std::string_view::npos ? std::string_view{} : dotted.substr(dot + 1);
  }
  return cur;
}

bool has(const json& ev, std::string_view dotted) { return field(ev, dotted) != nullptr; }

std::string str(const json& ev, std::string_view dotted) {
  const json* f = field(ev, dotted);
  return f != nullptr && f->is_string() ? f->get<std::string>() : std::string();
}

int64_t num(const json& ev, std::string_view dotted, int64_t fallback) {
  const json* f = field(ev, dotted);
  if (f == nullptr || !f->is_number()) return fallback;
  return f->is_number_unsigned() ? static_cast<int64_t>(f->get<uint64_t>()) : f->get<int64_t>();
}

std::string short_dump(const json& ev) {
  std::string s = ev.dump();
  if (s.size() > 6000) s = s.substr(0, 6000) + "...";
  return s;
}

Predicate kind_is(std::string kind, uint32_t pid) {
  return [kind = std::move(kind), pid](const json& ev) {
    return str(ev, "privwatch.kind") == kind && num(ev, "process.pid") == pid;
  };
}

Predicate action_is(std::string action, uint32_t pid) {
  return [action = std::move(action), pid](const json& ev) {
    return str(ev, "event.action") == action && num(ev, "process.pid") == pid;
  };
}

// ------------------------------------------------------------------------------------------
// The agent

std::unique_ptr<Agent> Agent::start(const std::string& config_body, std::string* error,
                                    const std::vector<std::string>& extra_args) {
  std::unique_ptr<Agent> a(new Agent());
  std::string tmpl = fmt::format("/tmp/pwagent-{}-XXXXXX", unique_token("a"));
  if (::mkdtemp(tmpl.data()) == nullptr) {
    *error = fmt::format("mkdtemp {}: {}", tmpl, std::strerror(errno));
    return nullptr;
  }
  a->dir_ = tmpl;
  a->config_path_ = a->dir_ + "/privwatch.yaml";
  a->output_path_ = a->dir_ + "/events.jsonl";
  a->stats_path_ = a->dir_ + "/stats.json";
  a->stderr_path_ = a->dir_ + "/agent.stderr";
  {
    std::ofstream cfg(a->config_path_);
    // A shared agent writes a lot on a busy host: never rotate under the test's feet.
    cfg << "output:\n  path: " << a->output_path_ << "\n  max_size_mb: 100000\n"
        << config_body << "\n";
    // Agents started by tests keep their store in the test's directory, never in /var/lib
    // (a suite that configures the store itself writes its own store: section).
    const bool has_store =
        config_body.rfind("store:", 0) == 0 || config_body.find("\nstore:") != std::string::npos;
    if (!has_store) {
      cfg << "store:\n  path: " << a->dir_ << "/store/privwatch.db\n  key_path: " << a->dir_
          << "/store/store.key\n";
    }
  }

  std::vector<std::string> argv = {agent_binary(), "agent",         "--config",     a->config_path_,
                                   "--output",     a->output_path_, "--stats-file", a->stats_path_};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  std::vector<char*> av;
  for (auto& s : argv) av.push_back(s.data());
  av.push_back(nullptr);
  const int err_fd =
      ::open(a->stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (err_fd < 0) {
    *error = fmt::format("create {}: {}", a->stderr_path_, std::strerror(errno));
    return nullptr;
  }
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    *error = fmt::format("fork: {}", std::strerror(errno));
    ::close(err_fd);
    return nullptr;
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive a crashed test binary
    const int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(err_fd, 2);
    ::execv(av[0], av.data());
    ::_exit(127);
  }
  ::close(err_fd);
  a->pid_ = pid;

  const auto deadline = std::chrono::steady_clock::now() + kReadyTimeout;
  for (;;) {
    if (a->stderr_text().find("privwatch agent ready") != std::string::npos) break;
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      a->stopped_ = true;
      *error = fmt::format("the agent exited before it was ready ({}):\n{}",
                           describe_status(status), a->stderr_text());
      return nullptr;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      *error = fmt::format("no \"privwatch agent ready\" on stderr within {} s:\n{}",
                           kReadyTimeout.count() / 1000, a->stderr_text());
      return nullptr;  // the destructor stops it
    }
    sleep_for(20ms);
  }
  a->out_fd_ = ::open(a->output_path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (a->out_fd_ < 0) {
    *error = fmt::format("the agent is ready but its output {} cannot be opened: {}",
                         a->output_path_, std::strerror(errno));
    return nullptr;
  }
  return a;
}

Agent::~Agent() {
  if (pid_ > 0 && !stopped_) (void)stop();
  if (out_fd_ >= 0) ::close(out_fd_);
  if (!dir_.empty()) {
    if (const char* keep = ::getenv("PRIVWATCH_TEST_KEEP"); keep == nullptr || *keep != '1') {
      std::error_code ec;
      fs::remove_all(dir_, ec);
    }
  }
}

bool Agent::alive() {
  if (stopped_ || pid_ <= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    stopped_ = true;
    stop_result_ = StopResult{status, json(), stderr_text()};
    return false;
  }
  return true;
}

std::string Agent::stderr_text() const { return read_file(stderr_path_); }

void Agent::read_new() {
  if (out_fd_ < 0) return;
  static thread_local std::vector<char> buf(1 << 20);
  for (;;) {
    const ssize_t n = ::read(out_fd_, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    std::string_view chunk(buf.data(), static_cast<size_t>(n));
    while (!chunk.empty()) {
      const size_t nl = chunk.find('\n');
      if (nl == std::string_view::npos) {
        partial_.append(chunk);
        break;
      }
      partial_.append(chunk.substr(0, nl));
      lines_.push_back(std::move(partial_));
      partial_.clear();
      chunk.remove_prefix(nl + 1);
    }
  }
}

void Agent::mark() {
  read_new();
  lines_.clear();
}

namespace {

// Parses one output line; an unparsable line is itself a failure (the agent's output must
// be one JSON object per line).
std::optional<json> parse_line(const std::string& line) {
  json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    ADD_FAILURE() << "the agent wrote a line that is not a JSON object: " << line.substr(0, 2000);
    return std::nullopt;
  }
  return j;
}

}  // namespace

std::optional<json> Agent::wait_for(const Predicate& pred, std::string_view needle,
                                    Duration timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  size_t checked = 0;
  for (;;) {
    read_new();
    for (; checked < lines_.size(); ++checked) {
      const std::string& line = lines_[checked];
      if (!needle.empty() && line.find(needle) == std::string::npos) continue;
      auto j = parse_line(line);
      if (j && pred(*j)) return j;
    }
    if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
    sleep_for(10ms);
  }
}

std::vector<json> Agent::matching(const Predicate& pred, std::string_view needle) {
  read_new();
  std::vector<json> out;
  for (const std::string& line : lines_) {
    if (!needle.empty() && line.find(needle) == std::string::npos) continue;
    auto j = parse_line(line);
    if (j && pred(*j)) out.push_back(std::move(*j));
  }
  return out;
}

void Agent::signal(int sig) {
  if (pid_ > 0 && !stopped_) ::kill(pid_, sig);
}

StopResult Agent::stop(Duration timeout) {
  if (stop_result_) return *stop_result_;
  StopResult r;
  if (pid_ > 0 && !stopped_) {
    ::kill(pid_, SIGCONT);  // in case a test left it stopped
    ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        r.status = status;
        break;
      }
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        r.status = -1;
        break;
      }
      sleep_for(10ms);
    }
  }
  stopped_ = true;
  std::string stats;
  if (read_whole(stats_path_, stats) && !stats.empty()) {
    r.stats = json::parse(stats, nullptr, /*allow_exceptions=*/false);
    if (r.stats.is_discarded()) {
      ADD_FAILURE() << "the stats file is not JSON: " << stats;
      r.stats = json();
    }
  }
  r.stderr_text = stderr_text();
  stop_result_ = r;
  return r;
}

// ------------------------------------------------------------------------------------------
// Attribution

ExpectedProcess expected_process(const ProcInfo& proc, const ProcInfo& parent) {
  ExpectedProcess e;
  e.pid = proc.pid;
  e.ppid = parent.pid;
  e.start_ticks = proc.start_ticks;
  e.parent_start_ticks = parent.start_ticks;
  e.name = proc.comm;
  if (!proc.exe.empty()) e.executable = proc.exe;
  if (!parent.exe.empty()) e.parent_executable = parent.exe;
  e.parent_name = parent.comm;
  if (!parent.cmdline.empty()) e.parent_args = parent.cmdline;
  e.uid = proc.uid;
  e.euid = proc.euid;
  e.suid = proc.suid;
  e.gid = proc.gid;
  e.egid = proc.egid;
  e.loginuid = proc.loginuid;
  e.sessionid = proc.sessionid;
  e.tty_nr = proc.tty_nr;
  // A zombie has no namespaces left to read: children share the test's.
  e.cgroup_id = proc.cgroup_id != 0 ? proc.cgroup_id : parent.cgroup_id;
  e.pidns = proc.pidns != 0 ? proc.pidns : parent.pidns;
  e.mntns = proc.mntns != 0 ? proc.mntns : parent.mntns;
  return e;
}

ExpectedProcess expected_child(const ProcInfo& child_at_exit) {
  ExpectedProcess e = expected_process(child_at_exit, self_info());
  e.executable = self_info().exe;  // a fork without exec runs the test binary
  return e;
}

ExpectedProcess expected_self() { return expected_process(self_info(), parent_info()); }

void expect_exe_identity(const json& ev, const std::string& path) {
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0) << path << ": " << std::strerror(errno);
  SCOPED_TRACE("event: " + short_dump(ev));
  EXPECT_EQ(str(ev, "privwatch.exec.exe_mode"), fmt::format("{:04o}", st.st_mode & 07777));
  EXPECT_EQ(num(ev, "privwatch.exec.exe_uid"), st.st_uid);
  EXPECT_EQ(num(ev, "privwatch.exec.exe_ino"), st.st_ino);
  // The kernel's dev_t encoding (MAJOR << 20 | MINOR), not glibc's.
  EXPECT_EQ(num(ev, "privwatch.exec.exe_dev"), (major(st.st_dev) << 20) | minor(st.st_dev));
}

void expect_categorized(const json& ev, const std::string& category,
                        const std::vector<std::string>& types) {
  const json* c = field(ev, "event.category");
  const json* t = field(ev, "event.type");
  ASSERT_TRUE(c != nullptr && t != nullptr) << short_dump(ev);
  EXPECT_EQ(c->get<std::vector<std::string>>(), std::vector<std::string>{category});
  EXPECT_EQ(t->get<std::vector<std::string>>(), types);
}

void expect_process(const json& ev, const ExpectedProcess& e) {
  SCOPED_TRACE("event: " + short_dump(ev));
  EXPECT_EQ(num(ev, "process.pid"), e.pid);
  EXPECT_EQ(num(ev, "process.thread.id"), e.pid);
  EXPECT_EQ(num(ev, "process.parent.pid"), e.ppid);
  EXPECT_EQ(str(ev, "process.entity_id"), fmt::format("{}-{}", e.pid, e.start_ticks))
      << "entity_id must be pid-<start ticks of /proc/" << e.pid << "/stat field 22>";
  EXPECT_EQ(str(ev, "process.parent.entity_id"),
            fmt::format("{}-{}", e.ppid, e.parent_start_ticks));
  EXPECT_EQ(str(ev, "process.name"), e.name);
  if (e.executable) {
    EXPECT_EQ(str(ev, "process.executable"), *e.executable);
  }
  if (e.parent_executable) {
    EXPECT_EQ(str(ev, "process.parent.executable"), *e.parent_executable);
  }
  if (e.parent_name) {
    EXPECT_EQ(str(ev, "process.parent.name"), *e.parent_name);
  }
  if (e.parent_args) {
    const json* args = field(ev, "process.parent.args");
    ASSERT_NE(args, nullptr) << "process.parent.args missing";
    EXPECT_EQ(args->get<std::vector<std::string>>(), *e.parent_args);
  }

  auto expect_id = [&](std::string_view path, uint32_t id) {
    EXPECT_EQ(str(ev, path), std::to_string(id)) << path;
  };
  auto expect_name = [&](std::string_view path, const std::string& name) {
    if (name.empty()) {
      EXPECT_FALSE(has(ev, path)) << path;
    } else {
      EXPECT_EQ(str(ev, path), name) << path;
    }
  };
  // ECS: process.user = effective, process.real_user = real, user.* = real.
  expect_id("process.user.id", e.euid);
  expect_name("process.user.name", user_name(e.euid));
  expect_id("process.real_user.id", e.uid);
  expect_name("process.real_user.name", user_name(e.uid));
  expect_id("process.saved_user.id", e.suid);
  expect_id("process.group.id", e.egid);
  expect_id("process.real_group.id", e.gid);
  expect_name("process.real_group.name", group_name(e.gid));
  expect_id("user.id", e.uid);
  expect_name("user.name", user_name(e.uid));
  expect_id("user.effective.id", e.euid);
  expect_name("user.effective.name", user_name(e.euid));
  expect_id("group.id", e.gid);
  expect_name("group.name", group_name(e.gid));

  // The human behind the process: the audit loginuid, absent when unset.
  if (e.loginuid == kUnsetId) {
    EXPECT_FALSE(has(ev, "user.audit")) << "loginuid is unset: no user.audit expected";
  } else {
    expect_id("user.audit.id", e.loginuid);
    expect_name("user.audit.name", user_name(e.loginuid));
  }
  if (e.sessionid == kUnsetId) {
    EXPECT_FALSE(has(ev, "privwatch.audit_session_id"));
  } else {
    EXPECT_EQ(num(ev, "privwatch.audit_session_id"), e.sessionid);
  }

  if (e.tty_nr == 0) {
    EXPECT_FALSE(has(ev, "process.tty")) << "no controlling terminal";
    EXPECT_FALSE(has(ev, "privwatch.tty"));
  } else {
    const uint32_t major = (e.tty_nr >> 8) & 0xfff;
    const uint32_t minor = (e.tty_nr & 0xff) | ((e.tty_nr >> 12) & 0xfff00);
    EXPECT_EQ(num(ev, "process.tty.char_device.major"), major);
    EXPECT_EQ(num(ev, "process.tty.char_device.minor"), minor);
    EXPECT_FALSE(str(ev, "privwatch.tty").empty());
  }

  if (e.cgroup_id != 0) {
    EXPECT_EQ(num(ev, "privwatch.cgroup_id"), e.cgroup_id);
  }
  if (e.pidns != 0) {
    EXPECT_EQ(num(ev, "privwatch.pidns"), e.pidns);
  }
  if (e.mntns != 0) {
    EXPECT_EQ(num(ev, "privwatch.mntns"), e.mntns);
  }
  if (e.monitored) {
    const json* m = field(ev, "privwatch.monitored");
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->get<bool>(), *e.monitored) << "privwatch.monitored";
  }

  char host[256] = {};
  ::gethostname(host, sizeof(host) - 1);
  EXPECT_EQ(str(ev, "host.hostname"), host);
  EXPECT_EQ(str(ev, "event.kind"), "event");
  EXPECT_EQ(str(ev, "event.module"), "privwatch");
  EXPECT_TRUE(has(ev, "@timestamp"));
}

Listener::Listener() {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::listen(fd_, 16) != 0 || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ADD_FAILURE() << "cannot listen on 127.0.0.1: " << std::strerror(errno);
    return;
  }
  port_ = ntohs(a.sin_port);
}

Listener::~Listener() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace privwatch::itest
