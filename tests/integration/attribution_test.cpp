// Attribution end to end, through the real agent: an inventory file and grant files in the
// agent's configuration, real programs run by real users (a system user the test creates for a
// service account, humans behind a test audit loginuid, real sudo), and the attribution read
// back from the agent's JSON-lines output — service account, drift flags and reasons, grants,
// containers from kubepods-style cgroups (v2 and v1), and inventory reloads on SIGHUP while a
// generator keeps producing events.
#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <thread>

#include "agent_fixture.hpp"
#include "enrich/containers.hpp"

namespace privwatch::itest {
namespace {

std::string this_host() {
  char buf[256] = {};
  ::gethostname(buf, sizeof(buf) - 1);
  return buf;
}

bool run_quiet(const std::vector<std::string>& argv, std::string* out = nullptr) {
  SpawnOptions o;
  o.capture_stdout = true;
  o.stderr_to_stdout = true;
  Child c = Child::exec(argv, o);
  const int st = c.wait();
  if (out != nullptr) *out = c.stdout_text();
  if (describe_status(st) != "exit 0") {
    ADD_FAILURE() << argv[0] << " " << (argv.size() > 1 ? argv[1] : "") << ": "
                  << describe_status(st) << " " << c.stdout_text();
    return false;
  }
  return true;
}

// System users created for the test (no home, no login shell), removed afterwards.
class TestUsers {
 public:
  ~TestUsers() {
    for (const auto& u : users_) {
      SpawnOptions o;
      o.capture_stdout = true;
      o.stderr_to_stdout = true;
      Child::exec({"/usr/sbin/userdel", "-f", u}, o).wait();
    }
  }
  // Returns the uid (kUnsetId on failure).
  uint32_t add(const std::string& name, bool system) {
    std::vector<std::string> argv = {"/usr/sbin/useradd", "-M", "-s", "/usr/sbin/nologin"};
    if (system) argv.push_back("-r");
    argv.push_back(name);
    if (!run_quiet(argv)) return kUnsetId;
    users_.push_back(name);
    const passwd* pw = ::getpwnam(name.c_str());
    return pw != nullptr ? pw->pw_uid : kUnsetId;
  }
  static uint32_t gid_of(const std::string& name) {
    const passwd* pw = ::getpwnam(name.c_str());
    return pw != nullptr ? pw->pw_gid : kUnsetId;
  }

 private:
  std::vector<std::string> users_;
};

// In a forked child (async-signal-safe calls only): set the audit loginuid (when not
// kUnsetId), then drop to uid/gid (when not kUnsetId). Returns false on failure.
bool become(uint32_t loginuid, uint32_t uid, uint32_t gid) {
  if (loginuid != kUnsetId) {
    char buf[16];
    int n = 0;
    char rev[16];
    uint32_t v = loginuid;
    do {
      rev[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    for (int i = 0; i < n; ++i) buf[i] = rev[n - 1 - i];
    const int fd = ::open("/proc/self/loginuid", O_WRONLY | O_CLOEXEC);
    if (fd < 0) return false;
    const bool ok = ::write(fd, buf, static_cast<size_t>(n)) == n;
    ::close(fd);
    if (!ok) return false;
  }
  if (uid != kUnsetId) {
    if (::setgroups(0, nullptr) != 0) return false;
    if (::setgid(gid) != 0 || ::setuid(uid) != 0) return false;
  }
  return true;
}

// exec argv as uid/gid (kUnsetId: stay root) under a loginuid (kUnsetId: unchanged).
Child run_as(const std::vector<std::string>& argv, uint32_t loginuid, uint32_t uid, uint32_t gid) {
  std::vector<char*> av;
  for (const auto& a : argv) av.push_back(const_cast<char*>(a.c_str()));
  av.push_back(nullptr);
  return Child::run([&]() -> int {
    if (!become(loginuid, uid, gid)) return 90;
    ::execv(av[0], av.data());
    return 91;
  });
}

// In a forked child: connect to 127.0.0.1:port as uid/gid.
Child connect_as(uint16_t port, uint32_t uid, uint32_t gid) {
  return Child::run([=]() -> int {
    if (!become(kUnsetId, uid, gid)) return 90;
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 ? 0 : 92;
  });
}

std::vector<std::string> drift_kinds(const json& ev) {
  const json* k = field(ev, "privwatch.drift.kinds");
  if (k == nullptr || !k->is_array()) return {};
  return k->get<std::vector<std::string>>();
}

std::vector<std::string> roles_of(const json& ev) {
  const json* r = field(ev, "privwatch.roles");
  if (r == nullptr || !r->is_array()) return {};
  return r->get<std::vector<std::string>>();
}

Predicate pid_is(uint32_t pid) {
  return [pid](const json& e) { return num(e, "process.pid") == pid; };
}

std::string pid_needle(pid_t pid) { return fmt::format("\"pid\":{},", pid); }

// Waits until the agent's stderr holds `needle` at least `count` times.
bool wait_log(Agent& agent, const std::string& needle, size_t count, Duration timeout = 20s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const std::string text = agent.stderr_text();
    size_t n = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
      ++n;
    }
    if (n >= count) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
}

size_t count_in(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// ------------------------------------------------------------------------------------------
// 1. A service account: a system user declared in the inventory with an owner and a profile.

TEST(AttributionE2E, ServiceAccountDriftFromItsDeclaredProfile) {
  PW_SKIP_UNLESS_KERNEL_TESTS_CAN_RUN();
  const std::string t = unique_token("");
  const std::string svc = "pws" + t.substr(0, 20);
  TestUsers users;
  const uint32_t uid = users.add(svc, /*system=*/true);
  ASSERT_NE(uid, kUnsetId);
  const uint32_t gid = TestUsers::gid_of(svc);

  TempDir tmp("pwattr");
  ::mkdir((tmp / "allowed").c_str(), 0755);
  ::mkdir((tmp / "other").c_str(), 0755);
  const std::string allowed_file = tmp / "allowed/config.txt";
  const std::string secret = tmp / "other/secret.txt";
  write_file(allowed_file, "allowed\n");
  write_file(secret, "secret\n");
  Listener ok_dest, bad_dest;
  const std::string cat = canonical("/bin/cat");
  const std::string id_bin = canonical("/usr/bin/id");
  ASSERT_FALSE(cat.empty());
  ASSERT_FALSE(id_bin.empty());

  const std::string inventory = tmp / "inventory.yaml";
  write_file(inventory, fmt::format(R"(service_accounts:
  backup-{t}:
    owner: team-storage-{t}
    description: nightly backups
    match:
      users: [{svc}]
    profile:
      executables: [{cat}]
      files:
        read: [{dir}/allowed/]
      destinations:
        - cidr: 127.0.0.1/32
          ports: [{port}]
      interactive_shell: false
)",
                                    fmt::arg("t", t), fmt::arg("svc", svc), fmt::arg("cat", cat),
                                    fmt::arg("dir", tmp.path()), fmt::arg("port", ok_dest.port())));
  // Drift is a flag on events; an alert comes from a rule on it (there is no default one).
  const std::string rules = tmp / "drift-rules.yaml";
  write_file(rules, fmt::format(R"(rules:
  - name: drift-{t}
    severity: medium
    condition:
      event.action: exec
      privwatch.drift: {{gt: 0}}
      privwatch.service_account: backup-{t}
    output: "service account drift: {{user.name}} ran {{process.executable}}"
)",
                                fmt::arg("t", t)));
  std::string error;
  auto agent = Agent::start(fmt::format("monitor:\n  users: [{}]\ninventory:\n  path: {}\n  "
                                        "grants: {}\ndetect:\n  default_rules: false\n  rules: "
                                        "[{}]\n",
                                        svc, inventory, tmp / "no-grants.d", rules),
                            &error);
  ASSERT_NE(agent, nullptr) << error;
  EXPECT_NE(agent->stderr_text().find("inventory: loaded " + inventory), std::string::npos)
      << agent->stderr_text();
  const std::string account = "backup-" + t;
  const std::string owner = "team-storage-" + t;

  // (a) The allowed program on an allowed file: attributed, no drift on any of its events
  // (exec, the loader's and libc's reads, the file it was told to read).
  {
    Child c = run_as({cat, allowed_file}, kUnsetId, uid, gid);
    ASSERT_EQ(describe_status(c.wait()), "exit 0");
    auto exec = agent->wait_for(kind_is("exec", c.pid()), pid_needle(c.pid()));
    ASSERT_TRUE(exec) << "no exec event for the service account's cat";
    auto read = agent->wait_for(
        [&](const json& e) {
          return num(e, "process.pid") == c.pid() && str(e, "file.path") == allowed_file;
        },
        pid_needle(c.pid()));
    ASSERT_TRUE(read) << "no file event for " << allowed_file;
    std::this_thread::sleep_for(200ms);  // the rest of cat's events
    // Everything cat did (the forked child's own setuid before the exec was still the test).
    const auto all = agent->matching(
        [&](const json& e) { return pid_is(c.pid())(e) && str(e, "process.name") == "cat"; },
        pid_needle(c.pid()));
    ASSERT_GE(all.size(), 2u);
    for (const json& e : all) {
      SCOPED_TRACE(short_dump(e));
      EXPECT_EQ(str(e, "privwatch.service_account"), account);
      EXPECT_EQ(str(e, "privwatch.human"), owner) << "no human behind it: the owner answers";
      EXPECT_EQ(str(e, "user.name"), svc);
      EXPECT_FALSE(has(e, "privwatch.drift")) << "within the declared profile";
    }
  }

  // (b) A program outside the declared executables.
  {
    Child c = run_as({id_bin}, kUnsetId, uid, gid);
    ASSERT_EQ(describe_status(c.wait()), "exit 0");
    auto exec = agent->wait_for(kind_is("exec", c.pid()), pid_needle(c.pid()));
    ASSERT_TRUE(exec) << "no exec event for id";
    SCOPED_TRACE(short_dump(*exec));
    EXPECT_EQ(str(*exec, "privwatch.service_account"), account);
    EXPECT_EQ(drift_kinds(*exec), std::vector<std::string>{"executable"});
    EXPECT_EQ(str(*exec, "privwatch.drift.reason"),
              fmt::format("service account {} (owner {}) declared executables: {}; ran: {}",
                          account, owner, cat, id_bin));
    auto alert = agent->wait_for(
        [&](const json& e) {
          return str(e, "event.kind") == "alert" && str(e, "rule.name") == "drift-" + t;
        },
        "drift-" + t);
    ASSERT_TRUE(alert) << "a rule on privwatch.drift did not alert";
    EXPECT_NE(alert->dump().find(fmt::format("service account drift: {} ran {}", svc, id_bin)),
              std::string::npos)
        << short_dump(*alert);
  }

  // (c) The allowed program reading a file outside its areas.
  {
    Child c = run_as({cat, secret}, kUnsetId, uid, gid);
    ASSERT_EQ(describe_status(c.wait()), "exit 0");
    auto ev = agent->wait_for(
        [&](const json& e) {
          return num(e, "process.pid") == c.pid() && str(e, "file.path") == secret;
        },
        pid_needle(c.pid()));
    ASSERT_TRUE(ev) << "no file event for " << secret;
    SCOPED_TRACE(short_dump(*ev));
    EXPECT_EQ(str(*ev, "privwatch.service_account"), account);
    EXPECT_EQ(drift_kinds(*ev), std::vector<std::string>{"file"});
    EXPECT_EQ(str(*ev, "privwatch.drift.reason"),
              fmt::format("service account {} (owner {}) declared read areas: {}/allowed/; "
                          "read {}",
                          account, owner, tmp.path(), secret));
    auto exec = agent->wait_for(kind_is("exec", c.pid()), pid_needle(c.pid()));
    ASSERT_TRUE(exec);
    EXPECT_FALSE(has(*exec, "privwatch.drift")) << short_dump(*exec);
  }

  // (d) Destinations: the declared one is fine, another port is drift.
  {
    Child good = connect_as(ok_dest.port(), uid, gid);
    ASSERT_EQ(describe_status(good.wait()), "exit 0");
    Child bad = connect_as(bad_dest.port(), uid, gid);
    ASSERT_EQ(describe_status(bad.wait()), "exit 0");
    auto g = agent->wait_for(
        [&](const json& e) {
          return num(e, "process.pid") == good.pid() && str(e, "event.action") == "connect";
        },
        pid_needle(good.pid()));
    ASSERT_TRUE(g) << "no connect event to the declared destination";
    EXPECT_EQ(str(*g, "privwatch.service_account"), account) << short_dump(*g);
    EXPECT_FALSE(has(*g, "privwatch.drift")) << short_dump(*g);
    auto b = agent->wait_for(
        [&](const json& e) {
          return num(e, "process.pid") == bad.pid() && str(e, "event.action") == "connect";
        },
        pid_needle(bad.pid()));
    ASSERT_TRUE(b) << "no connect event to the undeclared destination";
    SCOPED_TRACE(short_dump(*b));
    EXPECT_EQ(num(*b, "destination.port"), bad_dest.port());
    EXPECT_EQ(drift_kinds(*b), std::vector<std::string>{"destination"});
    EXPECT_EQ(str(*b, "privwatch.drift.reason"),
              fmt::format("service account {} (owner {}) declared destinations: 127.0.0.1/32 "
                          "port {}; connected to 127.0.0.1:{}",
                          account, owner, ok_dest.port(), bad_dest.port()));
  }

  // The allowed cat runs did not alert.
  EXPECT_EQ(agent
                ->matching(
                    [&](const json& e) {
                      return str(e, "rule.name") == "drift-" + t &&
                             e.dump().find(" ran " + cat) != std::string::npos;
                    },
                    "drift-" + t)
                .size(),
            0u);
  const StopResult r = agent->stop();
  EXPECT_EQ(describe_status(r.status), "exit 0") << r.stderr_text;
}

// ------------------------------------------------------------------------------------------
// 2. Access grants: privileged activity inside an active grant is not flagged; outside any
// grant (expired, or for another host) it is, with the explanation. Grants come from the
// real `privwatch grant add` and are picked up on SIGHUP.

std::string cli(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {agent_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string out;
  run_quiet(argv, &out);
  return out;
}

class SudoersFile {
 public:
  SudoersFile(const std::string& path, const std::string& text) : path_(path) {
    write_file(path_, text, 0440);
  }
  ~SudoersFile() { std::remove(path_.c_str()); }

 private:
  std::string path_;
};

TEST(AttributionE2E, PrivilegedActivityInsideAndOutsideAccessGrants) {
  PW_SKIP_UNLESS_KERNEL_TESTS_CAN_RUN();
  const std::string t = unique_token("").substr(0, 18);
  const std::string granted = "pwga" + t, expired = "pwgb" + t, elsewhere = "pwgc" + t;
  TestUsers users;
  const uint32_t uid_a = users.add(granted, false);
  const uint32_t uid_b = users.add(expired, false);
  const uint32_t uid_c = users.add(elsewhere, false);
  ASSERT_NE(uid_a, kUnsetId);
  ASSERT_NE(uid_b, kUnsetId);
  ASSERT_NE(uid_c, kUnsetId);
  SudoersFile sudoers(
      "/etc/sudoers.d/pwattr-" + t,
      fmt::format("{} ALL=(ALL:ALL) NOPASSWD: ALL\n{} ALL=(ALL:ALL) NOPASSWD: ALL\n", granted,
                  elsewhere));

  TempDir tmp("pwgrant");
  const std::string host = this_host();
  const std::string grants = tmp / "grants.d";
  // An active window (now..+1h), an ended one, and one for another host.
  cli({"grant", "add", "--dir", grants, "--user", granted, "--hosts", host, "--until", "+1h",
       "--ticket", "CHG-A" + t});
  cli({"grant", "add", "--dir", grants, "--user", expired, "--hosts", host, "--from",
       "2026-01-01T00:00:00Z", "--until", "2026-01-01T01:00:00Z", "--ticket", "CHG-B" + t});
  cli({"grant", "add", "--dir", grants, "--user", elsewhere, "--hosts", "other-host-" + t,
       "--until", "+1h", "--ticket", "CHG-C" + t});
  const std::string inventory = tmp / "inventory.yaml";
  write_file(inventory, fmt::format("clusters:\n  lab-{}: [\"{}\"]\n", t, host));

  std::string error;
  auto agent = Agent::start(
      fmt::format("inventory:\n  path: {}\n  grants: {}\n", inventory, grants), &error);
  ASSERT_NE(agent, nullptr) << error;
  const std::string cluster = "lab-" + t;

  // A uid-0 process under a test loginuid, and real sudo by the human.
  const std::string touch = canonical("/usr/bin/touch");
  const auto as_root = [&](uint32_t loginuid, const std::string& tag) {
    Child c = run_as({touch, tmp / tag}, loginuid, kUnsetId, kUnsetId);
    EXPECT_EQ(describe_status(c.wait()), "exit 0");
    auto ev = agent->wait_for(kind_is("exec", c.pid()), pid_needle(c.pid()));
    EXPECT_TRUE(ev) << "no exec event for " << tag;
    return ev.value_or(json());
  };
  const auto via_sudo = [&](uint32_t loginuid, uint32_t uid, const std::string& tag) {
    Child c = run_as({"/usr/bin/sudo", "-n", touch, tmp / tag}, loginuid, uid,
                     TestUsers::gid_of(user_name(uid)));
    EXPECT_EQ(describe_status(c.wait()), "exit 0");
    const std::string path = tmp / tag;
    auto ev = agent->wait_for(
        [&](const json& e) {
          const json* a = field(e, "process.args");
          return str(e, "event.action") == "exec" && a != nullptr && a->is_array() && !a->empty() &&
                 a->back() == path && str(e, "process.name") == "touch";
        },
        tag);
    EXPECT_TRUE(ev) << "no exec event for the command sudo ran (" << tag << ")";
    return ev.value_or(json());
  };

  {
    const json ev = as_root(uid_a, "a-root");
    SCOPED_TRACE(short_dump(ev));
    EXPECT_EQ(str(ev, "privwatch.human"), granted);
    EXPECT_EQ(str(ev, "privwatch.cluster"), cluster);
    EXPECT_FALSE(has(ev, "privwatch.drift")) << "inside an active grant";
  }
  {
    const json ev = via_sudo(uid_a, uid_a, "a-sudo");
    SCOPED_TRACE(short_dump(ev));
    EXPECT_EQ(str(ev, "privwatch.human"), granted);
    EXPECT_EQ(str(ev, "user.name"), "root");
    EXPECT_FALSE(has(ev, "privwatch.drift")) << "sudo inside an active grant";
  }
  {
    const json ev = as_root(uid_b, "b-root");
    SCOPED_TRACE(short_dump(ev));
    EXPECT_EQ(str(ev, "privwatch.human"), expired);
    EXPECT_EQ(drift_kinds(ev), std::vector<std::string>{"no_grant"});
    const std::string reason = str(ev, "privwatch.drift.reason");
    EXPECT_EQ(reason.rfind(fmt::format("privileged activity by {} on {} (cluster {}) at ", expired,
                                       host, cluster),
                           0),
              0u)
        << reason;
    EXPECT_NE(reason.find(fmt::format("outside any access grant (their grants here: CHG-B{} "
                                      "2026-01-01T00:00:00Z..2026-01-01T01:00:00Z)",
                                      t)),
              std::string::npos)
        << reason;
  }
  const auto expect_elsewhere_flagged = [&](const json& ev) {
    SCOPED_TRACE(short_dump(ev));
    EXPECT_EQ(str(ev, "privwatch.human"), elsewhere);
    EXPECT_EQ(drift_kinds(ev), std::vector<std::string>{"no_grant"});
    const std::string reason = str(ev, "privwatch.drift.reason");
    EXPECT_NE(reason.find(fmt::format("outside any access grant (no grant for {} on this host)",
                                      elsewhere)),
              std::string::npos)
        << reason;
  };
  expect_elsewhere_flagged(as_root(uid_c, "c-root"));
  expect_elsewhere_flagged(via_sudo(uid_c, uid_c, "c-sudo"));
  {
    // Unprivileged activity of the same human is not a grant matter.
    const std::string open_dir = tmp / "open";
    ::mkdir(open_dir.c_str(), 0777);
    ::chmod(open_dir.c_str(), 0777);
    Child c = run_as({touch, open_dir + "/c-user"}, uid_c, uid_c, TestUsers::gid_of(elsewhere));
    ASSERT_EQ(describe_status(c.wait()), "exit 0");
    auto ev = agent->wait_for(kind_is("exec", c.pid()), pid_needle(c.pid()));
    ASSERT_TRUE(ev);
    EXPECT_FALSE(has(*ev, "privwatch.drift")) << short_dump(*ev);
  }

  // The access-management side grants the third user this host; SIGHUP; now it is covered.
  cli({"grant", "add", "--dir", grants, "--user", elsewhere, "--hosts", host, "--until", "+1h",
       "--ticket", "CHG-D" + t});
  // The agent loads the inventory, then the grants, in one go on its pipeline thread: an event
  // made after the inventory's log line is processed after both.
  const size_t loads = count_in(agent->stderr_text(), "inventory: loaded");
  agent->signal(SIGHUP);
  ASSERT_TRUE(wait_log(*agent, "inventory: loaded", loads + 1)) << agent->stderr_text();
  {
    const json ev = via_sudo(uid_c, uid_c, "c-sudo-granted");
    SCOPED_TRACE(short_dump(ev));
    EXPECT_EQ(str(ev, "privwatch.human"), elsewhere);
    EXPECT_FALSE(has(ev, "privwatch.drift")) << "granted by privwatch grant add + SIGHUP";
  }

  const StopResult r = agent->stop();
  EXPECT_EQ(describe_status(r.status), "exit 0") << r.stderr_text;
}

// ------------------------------------------------------------------------------------------
// 3. Containers: processes moved into kubepods-style cgroups named as each runtime and cgroup
// driver names them, in cgroup v2 and (when mounted) a cgroup v1 hierarchy, attributed in the
// agent's output. (inventory_test.cpp covers containerd/systemd with the Attributor directly.)

// Nested directories under `root`, removed on destruction (processes moved back to the root).
class CgroupPath {
 public:
  CgroupPath(std::string root, const std::vector<std::string>& parts) : root_(std::move(root)) {
    std::string path = root_;
    for (const auto& p : parts) {
      path += "/" + p;
      if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
        ADD_FAILURE() << "mkdir " << path << ": " << std::strerror(errno);
        return;
      }
      dirs_.push_back(path);
    }
    ok_ = true;
  }
  ~CgroupPath() {
    for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
      std::ifstream procs(*it + "/cgroup.procs");
      std::string pid;
      while (std::getline(procs, pid)) std::ofstream(root_ + "/cgroup.procs") << pid << "\n";
      for (int i = 0; i < 100 && ::rmdir(it->c_str()) != 0 && errno == EBUSY; ++i) {
        std::this_thread::sleep_for(10ms);
      }
    }
  }
  [[nodiscard]] bool ok() const { return ok_; }
  [[nodiscard]] std::string leaf() const { return dirs_.empty() ? "" : dirs_.back(); }

 private:
  std::string root_;
  std::vector<std::string> dirs_;
  bool ok_ = false;
};

std::string hex_id(const std::string& seed) {
  std::string id;
  for (unsigned char c : seed + std::string(64, 'x')) {
    if (id.size() == 64) break;
    id += "0123456789abcdef"[(c * 7u + id.size()) % 16];
  }
  return id;
}

struct Layout {
  std::string name;
  bool v1;  // in the name=systemd v1 hierarchy instead of cgroup v2
  std::vector<std::string> parts;
  std::string runtime;  // expected container.runtime ("" = not named by the path)
  bool pod;             // expects the pod uid
};

TEST(AttributionE2E, ContainerRuntimesAndCgroupDriversInTheAgentsOutput) {
  PW_SKIP_UNLESS_KERNEL_TESTS_CAN_RUN();
  const std::string v2 = enrich::detect_cgroup2_root();
  ASSERT_FALSE(v2.empty()) << "no cgroup2 hierarchy";
  struct stat st {};
  const std::string v1 = "/sys/fs/cgroup/systemd";
  const bool have_v1 = v2 != "/sys/fs/cgroup" && ::stat((v1 + "/cgroup.procs").c_str(), &st) == 0;

  std::string error;
  auto agent = Agent::start({}, &error);
  ASSERT_NE(agent, nullptr) << error;

  const std::string t = unique_token();
  const std::string pod = "5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c" + hex_id(t).substr(0, 2);
  std::string pod_systemd = pod;
  std::replace(pod_systemd.begin(), pod_systemd.end(), '-', '_');
  const std::string top = "pwtest-" + t;
  std::vector<Layout> layouts = {
      {"cri-o/systemd",
       false,
       {top + ".slice", "kubepods.slice", "kubepods-besteffort.slice",
        "kubepods-besteffort-pod" + pod_systemd + ".slice",
        "crio-" + hex_id(t + "crio") + ".scope"},
       "cri-o",
       true},
      {"kubepods/cgroupfs",
       false,
       {top, "kubepods", "burstable", "pod" + pod, hex_id(t + "cgfs")},
       "",
       true},
      {"docker/systemd",
       false,
       {top + ".slice", "docker-" + hex_id(t + "dsys") + ".scope"},
       "docker",
       false},
      {"docker/cgroupfs", false, {top, "docker", hex_id(t + "dcgfs")}, "docker", false},
  };
  if (have_v1) {
    layouts.push_back({"kubepods/cgroupfs in cgroup v1 (name=systemd)",
                       true,
                       {top, "kubepods", "burstable", "pod" + pod, hex_id(t + "v1")},
                       "",
                       true});
  }
  const std::string sleep_bin = canonical("/bin/sleep");
  for (const Layout& l : layouts) {
    SCOPED_TRACE(l.name);
    CgroupPath cg(l.v1 ? v1 : v2, l.parts);
    ASSERT_TRUE(cg.ok());
    const std::string procs = cg.leaf() + "/cgroup.procs";
    Child child = Child::run([&]() -> int {
      const int fd = ::open(procs.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0 || ::write(fd, "0", 1) != 1) return 90;
      ::close(fd);
      char* const argv[] = {const_cast<char*>("sleep"), const_cast<char*>("0.2"), nullptr};
      ::execv(sleep_bin.c_str(), argv);
      return 91;
    });
    auto ev = agent->wait_for(kind_is("exec", static_cast<uint32_t>(child.pid())),
                              pid_needle(child.pid()));
    child.wait();
    ASSERT_TRUE(ev) << "no exec event for the process in " << cg.leaf();
    SCOPED_TRACE(short_dump(*ev));
    EXPECT_EQ(str(*ev, "container.id"),
              l.parts.back().find(".scope") != std::string::npos
                  ? l.parts.back().substr(l.parts.back().find('-') + 1, 64)
                  : l.parts.back());
    EXPECT_EQ(str(*ev, "container.runtime"), l.runtime);
    if (l.pod) {
      EXPECT_EQ(str(*ev, "orchestrator.type"), "kubernetes");
      EXPECT_EQ(str(*ev, "orchestrator.resource.type"), "pod");
      EXPECT_EQ(str(*ev, "orchestrator.resource.id"), pod);
    } else {
      EXPECT_FALSE(has(*ev, "orchestrator"));
    }
  }
  {
    // A process that stayed in the test's own cgroup is in no container: the events the
    // children made before joining theirs did not pass their containers on to this cgroup.
    Child plain = Child::exec({canonical("/bin/true"), t});
    plain.wait();
    auto ev = agent->wait_for(kind_is("exec", static_cast<uint32_t>(plain.pid())),
                              pid_needle(plain.pid()));
    ASSERT_TRUE(ev) << "no exec event for a process in the test's own cgroup";
    EXPECT_FALSE(has(*ev, "container")) << short_dump(*ev);
    EXPECT_FALSE(has(*ev, "orchestrator")) << short_dump(*ev);
  }
  if (!have_v1) {
    GTEST_LOG_(INFO) << "no cgroup v1 name=systemd hierarchy here: the v1 layout was not tested";
  }
  const StopResult r = agent->stop();
  EXPECT_EQ(describe_status(r.status), "exit 0") << r.stderr_text;
}

// ------------------------------------------------------------------------------------------
// 4. SIGHUP reload under load: a generator keeps producing monitored events (one file per
// sequence number) while the human's role changes in the inventory; then an invalid inventory
// is refused on SIGHUP and the previous one stays.

TEST(AttributionE2E, InventoryReloadUnderLoadLosesNothingAndSwitchesRolesAtOnePoint) {
  PW_SKIP_UNLESS_KERNEL_TESTS_CAN_RUN();
  const std::string t = unique_token("").substr(0, 18);
  const std::string human = "pwr" + t;
  TestUsers users;
  const uint32_t uid = users.add(human, false);
  ASSERT_NE(uid, kUnsetId);
  TempDir tmp("pwreload");
  const std::string inventory = tmp / "inventory.yaml";
  const auto roles_yaml = [&](const std::string& role) {
    return fmt::format("roles:\n  {}:\n    users: [{}]\n", role, human);
  };
  write_file(inventory, roles_yaml("before-" + t));
  std::string error;
  auto agent = Agent::start(
      fmt::format("inventory:\n  path: {}\n  grants: {}\n", inventory, tmp / "none.d"), &error);
  ASSERT_NE(agent, nullptr) << error;

  // The generator: root under the human's loginuid (monitored: root), creating files
  // gen-<token>-<i> for i in [0, n) with a short pause, so the reload lands in the middle.
  constexpr int kCount = 3000;
  const std::string dir = tmp / "gen";
  ::mkdir(dir.c_str(), 0755);
  const std::string prefix = dir + "/g" + t + "-";
  std::vector<std::string> paths;
  for (int i = 0; i < kCount; ++i) paths.push_back(prefix + std::to_string(i));
  const auto generate = [&](int from, int to, int pause_us) {
    return Child::run([&, from, to, pause_us]() -> int {
      if (!become(uid, kUnsetId, kUnsetId)) return 90;
      for (int i = from; i < to; ++i) {
        const int fd =
            ::open(paths[static_cast<size_t>(i)].c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) return 92;
        ::close(fd);
        if (pause_us > 0) ::usleep(static_cast<useconds_t>(pause_us));
      }
      return 0;
    });
  };
  const auto index_of = [&](const json& e) -> int {
    if (str(e, "privwatch.kind") != "file" || str(e, "event.action") != "open") return -1;
    const std::string p = str(e, "file.path");
    if (p.rfind(prefix, 0) != 0) return -1;
    return std::stoi(p.substr(prefix.size()));
  };

  const size_t loads_before = count_in(agent->stderr_text(), "inventory: loaded");
  Child gen = generate(0, kCount, 1000);
  // Reload once the generator is well under way.
  ASSERT_TRUE(
      agent->wait_for([&](const json& e) { return index_of(e) >= kCount / 4; }, "g" + t, 30s))
      << "the generator's events do not arrive";
  write_file(inventory + ".new", roles_yaml("after-" + t));
  ASSERT_EQ(::rename((inventory + ".new").c_str(), inventory.c_str()), 0);
  agent->signal(SIGHUP);
  ASSERT_TRUE(wait_log(*agent, "inventory: loaded", loads_before + 1)) << agent->stderr_text();
  ASSERT_EQ(describe_status(gen.wait(120s)), "exit 0");
  ASSERT_TRUE(
      agent->wait_for([&](const json& e) { return index_of(e) == kCount - 1; }, "g" + t, 30s))
      << "the generator's last event did not arrive";

  // Each event with its position in the output (the pipeline's order).
  std::map<int, std::pair<size_t, json>> by_index;
  int duplicates = 0;
  size_t position = 0;
  for (json& e : agent->matching([&](const json& e) { return index_of(e) >= 0; }, "g" + t)) {
    const int i = index_of(e);
    if (!by_index.emplace(i, std::make_pair(position++, std::move(e))).second) ++duplicates;
  }
  EXPECT_EQ(duplicates, 0);
  ASSERT_EQ(by_index.size(), static_cast<size_t>(kCount))
      << "events of the generator were lost across the reload";
  // Roles: a prefix with the old role, then only the new one, in generator order, which is
  // also the order of the output.
  int switched_at = -1;
  int64_t last_position = -1;
  for (const auto& [i, pe] : by_index) {
    const json& e = pe.second;
    SCOPED_TRACE(short_dump(e));
    EXPECT_EQ(str(e, "privwatch.human"), human);
    const auto roles = roles_of(e);
    ASSERT_EQ(roles.size(), 1u);
    if (switched_at < 0 && roles[0] == "after-" + t) switched_at = i;
    EXPECT_EQ(roles[0], (switched_at < 0 ? "before-" : "after-") + t)
        << "event " << i << " after the switch at " << switched_at;
    EXPECT_GT(static_cast<int64_t>(pe.first), last_position) << "event " << i << " out of order";
    last_position = static_cast<int64_t>(pe.first);
  }
  EXPECT_GE(switched_at, kCount / 4) << "events before the reload carry the old role";
  EXPECT_LT(switched_at, kCount) << "events after the reload carry the new role";

  // An invalid inventory on SIGHUP: refused with file:line:column, the previous one stays.
  write_file(inventory, fmt::format("roles:\n  broken-{}:\n    userz: [{}]\n", t, human));
  const size_t refusals = count_in(agent->stderr_text(), "SIGHUP: inventory not reloaded");
  agent->signal(SIGHUP);
  ASSERT_TRUE(wait_log(*agent, "SIGHUP: inventory not reloaded", refusals + 1))
      << agent->stderr_text();
  const std::string log = agent->stderr_text();
  EXPECT_NE(log.find(inventory + ":3:5: unknown key 'userz'"), std::string::npos) << log;
  agent->mark();
  Child again = generate(0, 20, 0);
  ASSERT_EQ(describe_status(again.wait()), "exit 0");
  auto ev = agent->wait_for([&](const json& e) { return index_of(e) == 19; }, "g" + t);
  ASSERT_TRUE(ev);
  EXPECT_EQ(roles_of(*ev), std::vector<std::string>{"after-" + t}) << short_dump(*ev);

  const StopResult r = agent->stop();
  EXPECT_EQ(describe_status(r.status), "exit 0") << r.stderr_text;
  EXPECT_EQ(r.stats.value("drops_total", -1), 0) << r.stats.dump();
}

}  // namespace
}  // namespace privwatch::itest
