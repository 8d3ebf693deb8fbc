#include "enrich/containers.hpp"

#include <fcntl.h>
#include <httplib.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <system_error>
#include <thread>
#include <utility>

#include "util/fd.hpp"
#include "util/log.hpp"

namespace privwatch::enrich {

namespace {

uint64_t boottime_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

bool is_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool is_container_id(std::string_view s) { return s.size() == 64 && is_hex(s); }

bool strip_suffix(std::string_view& s, std::string_view suffix) {
  if (s.size() < suffix.size() || s.substr(s.size() - suffix.size()) != suffix) return false;
  s.remove_suffix(suffix.size());
  return true;
}

bool strip_prefix(std::string_view& s, std::string_view prefix) {
  if (s.substr(0, prefix.size()) != prefix) return false;
  s.remove_prefix(prefix.size());
  return true;
}

// A pod uid as written in a cgroup name: 8-4-4-4-12 hex with '-' (cgroupfs) or '_' (systemd).
bool pod_uid_at(std::string_view s, std::string& out) {
  if (s.size() != 36) return false;
  std::string uid(s);
  for (size_t i = 0; i < uid.size(); ++i) {
    const bool sep = i == 8 || i == 13 || i == 18 || i == 23;
    if (sep) {
      if (uid[i] != '-' && uid[i] != '_') return false;
      uid[i] = '-';
    } else if (!is_hex(std::string_view(&uid[i], 1))) {
      return false;
    }
  }
  out = std::move(uid);
  return true;
}

// "kubepods-burstable-pod<uid>.slice" / "pod<uid>" → uid.
bool pod_component(std::string_view c, std::string& uid) {
  strip_suffix(c, ".slice");
  const size_t at = c.rfind("pod");
  if (at == std::string_view::npos) return false;
  if (at != 0 && c[at - 1] != '-') return false;
  return pod_uid_at(c.substr(at + 3), uid);
}

// One path component that names a container: sets id/runtime and returns true.
bool container_component(std::string_view c, std::string_view parent, bool kube,
                         model::ContainerInfo& out) {
  struct Prefix {
    std::string_view prefix, runtime;
  };
  static constexpr Prefix kScoped[] = {
      {"docker-", "docker"}, {"cri-containerd-", "containerd"}, {"crio-", "cri-o"},
      {"libpod-", "podman"}, {"nerdctl-", "containerd"},        {"containerd-", "containerd"},
  };
  std::string_view name = c;
  const bool scope = strip_suffix(name, ".scope");
  if (name.find("-conmon-") != std::string_view::npos) return false;  // the runtime's monitor
  for (const auto& p : kScoped) {
    std::string_view rest = name;
    if (strip_prefix(rest, p.prefix) && is_container_id(rest)) {
      out.id = std::string(rest);
      out.runtime = std::string(p.runtime);
      return true;
    }
  }
  if (!scope && is_container_id(name)) {  // cgroupfs driver: the bare id
    out.id = std::string(name);
    if (parent == "docker") {
      out.runtime = "docker";
    } else if (!kube) {
      out.runtime = "containerd";  // /<containerd namespace>/<id> (ctr, nerdctl)
    } else {
      out.runtime.clear();  // kubepods with the cgroupfs driver do not name the runtime
    }
    return true;
  }
  std::string_view lxc = name;
  if (strip_prefix(lxc, "lxc.payload.") && !lxc.empty()) {
    out.id = std::string(lxc);
    out.runtime = "lxc";
    return true;
  }
  if (parent == "lxc" && !name.empty() && name.find('.') == std::string_view::npos) {
    out.id = std::string(name);
    out.runtime = "lxc";
    return true;
  }
  return false;
}

}  // namespace

CgroupAttribution parse_cgroup_path(std::string_view path) {
  CgroupAttribution a;
  bool kube = false;
  std::string_view parent;
  std::string pod;
  std::string_view rest = path;
  while (!rest.empty()) {
    const size_t slash = rest.find('/');
    const std::string_view c = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (c.empty()) continue;
    if (c.find("kubepods") != std::string_view::npos) {
      if (!kube) {  // a new (possibly nested) Kubernetes tree
        kube = true;
        a.k8s_qos = "guaranteed";
        a.container.pod_uid.clear();
      }
      if (c.find("besteffort") != std::string_view::npos) a.k8s_qos = "besteffort";
      if (c.find("burstable") != std::string_view::npos) a.k8s_qos = "burstable";
    } else if (kube && (c == "besteffort" || c == "burstable")) {
      a.k8s_qos = std::string(c);
    }
    if (kube && pod_component(c, pod)) {
      a.container.pod_uid = pod;
    } else if (model::ContainerInfo ci; container_component(c, parent, kube, ci)) {
      a.container.id = std::move(ci.id);
      a.container.runtime = std::move(ci.runtime);
      a.systemd_unit.clear();  // a unit outside the container is the runtime's, not ours
    } else if (c.size() > 8 && c.substr(c.size() - 8) == ".service") {
      a.systemd_unit = std::string(c);
    }
    parent = c;
  }
  if (!a.container.id.empty() || !a.container.pod_uid.empty()) a.systemd_unit.clear();
  if (!kube) a.k8s_qos.clear();
  return a;
}

ProcCgroup parse_proc_cgroup(std::string_view content) {
  ProcCgroup out;
  CgroupAttribution systemd_v1, other_v1;
  while (!content.empty()) {
    const size_t nl = content.find('\n');
    std::string_view line = content.substr(0, nl);
    content = nl == std::string_view::npos ? std::string_view() : content.substr(nl + 1);
    const size_t c1 = line.find(':');
    if (c1 == std::string_view::npos) continue;
    const size_t c2 = line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) continue;
    const std::string_view hierarchy = line.substr(0, c1);
    const std::string_view controllers = line.substr(c1 + 1, c2 - c1 - 1);
    const std::string_view path = line.substr(c2 + 1);
    if (path.empty() || path[0] != '/') continue;
    if (hierarchy == "0" && controllers.empty()) {
      out.v2_path = std::string(path);
      continue;
    }
    out.has_v1 = true;
    CgroupAttribution a = parse_cgroup_path(path);
    const bool informative = !a.container.empty() || !a.systemd_unit.empty();
    if (!informative) continue;
    if (controllers == "name=systemd") {
      if (systemd_v1.container.empty()) systemd_v1 = std::move(a);
    } else if (other_v1.container.empty() &&
               (other_v1.systemd_unit.empty() || !a.container.empty())) {
      other_v1 = std::move(a);
    }
  }
  out.attribution = parse_cgroup_path(out.v2_path);
  if (out.attribution.container.empty() && out.has_v1) {
    // Prefer a v1 container over a v2 unit (the runtime's service), then any v1 information.
    const CgroupAttribution* pick = nullptr;
    if (!systemd_v1.container.empty()) {
      pick = &systemd_v1;
    } else if (!other_v1.container.empty()) {
      pick = &other_v1;
    } else if (out.attribution.systemd_unit.empty()) {
      pick = !systemd_v1.systemd_unit.empty() ? &systemd_v1 : &other_v1;
    }
    if (pick != nullptr && (!pick->container.empty() || !pick->systemd_unit.empty())) {
      out.attribution = *pick;
      out.from_v1 = true;
    }
  }
  return out;
}

bool parse_k8s_docker_name(std::string_view name, model::ContainerInfo& info) {
  if (!name.empty() && name[0] == '/') name.remove_prefix(1);
  if (!strip_prefix(name, "k8s_")) return false;
  std::vector<std::string_view> parts;
  while (true) {
    const size_t u = name.find('_');
    parts.push_back(name.substr(0, u));
    if (u == std::string_view::npos) break;
    name.remove_prefix(u + 1);
  }
  if (parts.size() != 5) return false;
  info.pod_name = std::string(parts[1]);
  info.k8s_namespace = std::string(parts[2]);
  std::string uid;
  if (pod_uid_at(parts[3], uid)) info.pod_uid = uid;
  info.name = std::string(parts[0]);
  return true;
}

std::string detect_cgroup2_root() {
  struct statfs fs {};
  if (::statfs("/sys/fs/cgroup", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC) {
    return "/sys/fs/cgroup";
  }
  if (::statfs("/sys/fs/cgroup/unified", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC) {
    return "/sys/fs/cgroup/unified";
  }
  return "";
}

// ---------------------------------------------------------------------------------------
// Runtime clients

namespace {

using json = nlohmann::json;

std::string json_string(const json& j, std::initializer_list<const char*> path) {
  const json* cur = &j;
  for (const char* key : path) {
    if (!cur->is_object()) return "";
    auto it = cur->find(key);
    if (it == cur->end()) return "";
    cur = &*it;
  }
  return cur->is_string() ? cur->get<std::string>() : "";
}

void apply_k8s_labels(const json& labels, model::ContainerInfo& info) {
  if (!labels.is_object()) return;
  const auto label = [&](const char* key) { return json_string(labels, {key}); };
  if (auto v = label("io.kubernetes.pod.name"); !v.empty()) info.pod_name = v;
  if (auto v = label("io.kubernetes.pod.namespace"); !v.empty()) info.k8s_namespace = v;
  if (auto v = label("io.kubernetes.pod.uid"); !v.empty()) info.pod_uid = v;
  if (auto v = label("io.kubernetes.container.name"); !v.empty()) info.name = v;
  // Set by kubelet on the pod sandbox only for some runtimes; CRI-O passes it through.
  if (auto v = label("io.kubernetes.pod.serviceaccount"); !v.empty()) {
    info.k8s_service_account = v;
  }
}

class HttpRuntimeClient : public RuntimeClient {
 public:
  HttpRuntimeClient(std::string socket, std::string runtime, bool docker, uint32_t timeout_ms)
      : socket_(std::move(socket)),
        runtime_(std::move(runtime)),
        docker_(docker),
        timeout_us_(static_cast<int64_t>(timeout_ms) * 1000) {}

  std::string_view runtime() const override { return runtime_; }
  const std::string& socket() const { return socket_; }

  Answer inspect(const std::string& id, model::ContainerInfo& info) override {
    try {
      httplib::Client cli(socket_);
      cli.set_address_family(AF_UNIX);
      cli.set_connection_timeout(0, 200'000);
      cli.set_read_timeout(timeout_us_ / 1'000'000, timeout_us_ % 1'000'000);
      cli.set_write_timeout(0, 200'000);
      const std::string path = docker_ ? "/containers/" + id + "/json" : "/containers/" + id;
      auto res = cli.Get(path, {{"Host", "localhost"}});
      if (!res) return Answer::kUnavailable;
      if (res->status == 404) return Answer::kNotFound;
      if (res->status != 200) return Answer::kUnavailable;
      const json j = json::parse(res->body, nullptr, false);
      if (!j.is_object()) return Answer::kUnavailable;
      if (docker_) {
        std::string name = json_string(j, {"Name"});
        if (!name.empty() && name[0] == '/') name.erase(0, 1);
        info.name = name;
        info.image = json_string(j, {"Config", "Image"});
        parse_k8s_docker_name(name, info);
        if (auto it = j.find("Config"); it != j.end() && it->is_object()) {
          if (auto l = it->find("Labels"); l != it->end()) apply_k8s_labels(*l, info);
        }
      } else {  // CRI-O /containers/<id>: {"name","image","labels":{...},...}
        info.name = json_string(j, {"name"});
        info.image = json_string(j, {"image"});
        if (auto l = j.find("labels"); l != j.end()) apply_k8s_labels(*l, info);
      }
      return Answer::kFound;
    } catch (const std::exception&) {
      return Answer::kUnavailable;
    }
  }

 private:
  std::string socket_;
  std::string runtime_;
  bool docker_;
  int64_t timeout_us_;
};

}  // namespace

std::unique_ptr<RuntimeClient> make_docker_client(std::string socket_path,
                                                  uint32_t read_timeout_ms) {
  return std::make_unique<HttpRuntimeClient>(std::move(socket_path), "docker", true,
                                             read_timeout_ms);
}

std::unique_ptr<RuntimeClient> make_crio_client(std::string socket_path, uint32_t read_timeout_ms) {
  return std::make_unique<HttpRuntimeClient>(std::move(socket_path), "cri-o", false,
                                             read_timeout_ms);
}

std::vector<std::unique_ptr<RuntimeClient>> default_runtime_clients() {
  std::vector<std::unique_ptr<RuntimeClient>> out;
  out.push_back(make_docker_client("/var/run/docker.sock"));
  out.push_back(make_crio_client("/var/run/crio/crio.sock"));
  return out;
}

// ---------------------------------------------------------------------------------------
// Resolver

// The background thread that asks runtime sockets for names. The pipeline thread queues a
// container id (once per container) and later collects the answers; the worker never touches
// the resolver's caches, and the pipeline never waits for a socket.
class ContainerResolver::NameWorker {
 public:
  struct Answer {
    std::string id;
    bool found = false;
    model::ContainerInfo info;  // name, image, k8s metadata; runtime when the path did not say
  };

  NameWorker(std::vector<std::unique_ptr<RuntimeClient>> clients, uint64_t recheck_ns,
             size_t queue_cap, std::function<uint64_t()> clock)
      : recheck_ns_(recheck_ns),
        queue_cap_(queue_cap == 0 ? 1 : queue_cap),
        clock_(std::move(clock)) {
    for (auto& c : clients) {
      Runtime rt;
      if (auto* http = dynamic_cast<HttpRuntimeClient*>(c.get())) rt.socket = http->socket();
      rt.client = std::move(c);
      runtimes_.push_back(std::move(rt));
    }
    thread_ = std::thread([this] { run(); });
  }
  ~NameWorker() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  NameWorker(const NameWorker&) = delete;
  NameWorker& operator=(const NameWorker&) = delete;

  // Pipeline thread: false when the queue is full.
  bool request(const std::string& id, const std::string& runtime) {
    {
      std::lock_guard lock(mu_);
      if (queue_.size() >= queue_cap_) return false;
      queue_.push_back({id, runtime});
    }
    cv_.notify_one();
    return true;
  }
  // Pipeline thread: a relaxed load when nothing is ready.
  bool take(std::vector<Answer>& out) {
    if (!ready_.load(std::memory_order_acquire)) return false;
    std::lock_guard lock(mu_);
    out.swap(answers_);
    answers_.clear();
    ready_.store(false, std::memory_order_release);
    return !out.empty();
  }
  uint64_t queries() const { return queries_.load(std::memory_order_relaxed); }
  uint64_t failures() const { return failures_.load(std::memory_order_relaxed); }

 private:
  struct Runtime {
    std::unique_ptr<RuntimeClient> client;
    std::string socket;           // for the existence check ("" = always try)
    uint64_t retry_after_ns = 0;  // not before (socket absent or failing)
    bool warned = false;
  };
  struct Request {
    std::string id, runtime;
  };

  void run() {
    for (;;) {
      Request req;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
        if (stop_) return;
        req = std::move(queue_.front());
        queue_.pop_front();
      }
      Answer a = lookup(req);
      {
        std::lock_guard lock(mu_);
        answers_.push_back(std::move(a));
        ready_.store(true, std::memory_order_release);
      }
    }
  }

  Answer lookup(const Request& req) {
    Answer out;
    out.id = req.id;
    const uint64_t t = clock_();
    for (Runtime& rt : runtimes_) {
      // Ask the runtime that owns the container first; any when the path does not say.
      if (!req.runtime.empty() && req.runtime != rt.client->runtime()) continue;
      if (t < rt.retry_after_ns) continue;
      if (!rt.socket.empty()) {
        struct stat st {};
        if (::stat(rt.socket.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) {
          rt.retry_after_ns = t + recheck_ns_;  // no runtime here: ids only
          continue;
        }
      }
      queries_.fetch_add(1, std::memory_order_relaxed);
      model::ContainerInfo info;
      const auto answer = rt.client->inspect(req.id, info);
      if (answer == RuntimeClient::Answer::kFound) {
        out.found = true;
        out.info = std::move(info);
        if (req.runtime.empty()) out.info.runtime = std::string(rt.client->runtime());
        break;
      }
      if (answer == RuntimeClient::Answer::kUnavailable) {
        failures_.fetch_add(1, std::memory_order_relaxed);
        rt.retry_after_ns = t + recheck_ns_;
        if (!rt.warned) {
          rt.warned = true;
          log::warn(
              "container runtime socket {} does not answer; containers get ids without names "
              "(retried every {} s; failures counted in runtime_failures)",
              rt.socket, recheck_ns_ / 1'000'000'000ull);
        }
      }
    }
    return out;
  }

  const uint64_t recheck_ns_;
  const size_t queue_cap_;
  std::function<uint64_t()> clock_;
  std::vector<Runtime> runtimes_;  // worker thread only
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Request> queue_;
  std::vector<Answer> answers_;
  bool stop_ = false;
  std::atomic<bool> ready_{false};
  std::atomic<uint64_t> queries_{0}, failures_{0};
  std::thread thread_;
};

ContainerResolver::ContainerResolver(ContainerResolverOptions opts) : opts_(std::move(opts)) {
  cgroup2_root_ = opts_.cgroup2_root == "auto" ? detect_cgroup2_root() : opts_.cgroup2_root;
  if (opts_.capacity == 0) opts_.capacity = 1;
  if (!opts_.runtimes.empty()) {
    std::function<uint64_t()> clock = opts_.clock ? opts_.clock : boottime_ns;
    worker_ = std::make_unique<NameWorker>(std::move(opts_.runtimes), opts_.socket_recheck_ns,
                                           opts_.name_queue, std::move(clock));
  }
  opts_.runtimes.clear();
}

ContainerResolver::~ContainerResolver() = default;

uint64_t ContainerResolver::now() const { return opts_.clock ? opts_.clock() : boottime_ns(); }

ContainerResolverStats ContainerResolver::stats() const {
  stats_.cached_ids = by_id_.size();
  stats_.cached_processes = by_process_.size();
  if (worker_) {
    stats_.runtime_queries = worker_->queries();
    stats_.runtime_failures = worker_->failures();
  }
  return stats_;
}

void ContainerResolver::copy_names(const model::ContainerInfo& n, model::ContainerInfo& to) {
  if (!n.name.empty()) to.name = n.name;
  if (!n.image.empty()) to.image = n.image;
  if (!n.pod_name.empty()) to.pod_name = n.pod_name;
  if (!n.k8s_namespace.empty()) to.k8s_namespace = n.k8s_namespace;
  if (!n.k8s_service_account.empty()) to.k8s_service_account = n.k8s_service_account;
  if (to.pod_uid.empty()) to.pod_uid = n.pod_uid;
  if (to.runtime.empty()) to.runtime = n.runtime;
}

size_t ContainerResolver::apply_names() {
  if (!worker_) return 0;
  std::vector<NameWorker::Answer> answers;
  if (!worker_->take(answers)) return 0;
  const uint64_t t = now();
  size_t named = 0;
  for (auto& a : answers) {
    pending_.erase(a.id);
    if (!a.found) {
      // Not known to any runtime (or none answered): ids only, asked again later.
      if (unnamed_.size() >= opts_.capacity) unnamed_.clear();
      unnamed_[a.id] = t + opts_.socket_recheck_ns;
      continue;
    }
    ++named;
    ++stats_.names_resolved;
    unnamed_.erase(a.id);
    // Attributions already cached for this container get the names, and a new serial (callers
    // key caches such as the service account on it).
    const auto update = [&](std::unordered_map<uint64_t, CgroupAttribution>& m) {
      for (auto& [key, attr] : m) {
        if (attr.container.id != a.id) continue;
        copy_names(a.info, attr.container);
        attr.serial = next_serial_++;
        ++stats_.names_applied;
      }
    };
    update(by_id_);
    update(by_process_);
    if (names_.size() >= opts_.capacity) names_.clear();
    names_.insert_or_assign(a.id, std::move(a.info));
  }
  return named;
}

void ContainerResolver::add_names(CgroupAttribution& a) {
  const std::string& id = a.container.id;
  if (id.empty()) return;
  if (auto it = names_.find(id); it != names_.end()) {
    copy_names(it->second, a.container);
    return;
  }
  if (!worker_) return;
  ++stats_.name_misses;
  if (pending_.count(id) != 0) return;
  const uint64_t t = now();
  if (auto it = unnamed_.find(id); it != unnamed_.end()) {
    if (t < it->second) return;
    unnamed_.erase(it);
  }
  if (pending_.size() >= opts_.name_queue || !worker_->request(id, a.container.runtime)) {
    ++stats_.name_lookups_dropped;
    return;
  }
  ++stats_.name_lookups_queued;
  pending_.emplace(id, t);
}

const CgroupAttribution& ContainerResolver::remember_id(uint64_t cgroup_id, CgroupAttribution a) {
  a.serial = next_serial_++;
  if (by_id_.size() >= opts_.capacity) {
    stats_.evictions += by_id_.size();
    by_id_.clear();  // rare (capacity ≫ live cgroups); simplest bound
  }
  return by_id_.insert_or_assign(cgroup_id, std::move(a)).first->second;
}

const CgroupAttribution& ContainerResolver::remember_process(uint64_t key, CgroupAttribution a) {
  a.serial = next_serial_++;
  if (by_process_.size() >= opts_.capacity) {
    stats_.evictions += by_process_.size();
    by_process_.clear();
  }
  return by_process_.insert_or_assign(key, std::move(a)).first->second;
}

bool ContainerResolver::walk_for(uint64_t cgroup_id, std::string& path) {
  if (cgroup2_root_.empty()) return false;
  if (auto it = walked_.find(cgroup_id); it != walked_.end()) {
    path = it->second;
    return true;
  }
  const uint64_t t = now();
  if (walked_once_ && t < last_walk_ns_ + opts_.walk_interval_ns) return false;
  walked_once_ = true;
  last_walk_ns_ = t;
  ++stats_.walks;
  walked_.clear();
  namespace fs = std::filesystem;
  std::error_code ec;
  const size_t root_len = cgroup2_root_.size();
  struct stat st {};
  if (::stat(cgroup2_root_.c_str(), &st) == 0) walked_[st.st_ino] = "/";
  for (auto it = fs::recursive_directory_iterator(
           cgroup2_root_, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_directory(ec)) continue;
    const std::string p = it->path().string();
    if (::stat(p.c_str(), &st) != 0) continue;
    walked_[st.st_ino] = p.substr(root_len);
    if (walked_.size() > opts_.capacity * 4) break;
  }
  if (auto it = walked_.find(cgroup_id); it != walked_.end()) {
    path = it->second;
    return true;
  }
  return false;
}

namespace {
uint64_t process_key(uint32_t pid, uint64_t start_ticks) {
  return (static_cast<uint64_t>(pid) << 40) ^ start_ticks;
}
}  // namespace

const CgroupAttribution& ContainerResolver::from_walk(uint64_t cgroup_id, const std::string& path) {
  CgroupAttribution a = parse_cgroup_path(path);
  add_names(a);
  // A v2 cgroup without a container may still hold v1-only containers on a hybrid host: an
  // answer from the v2 path alone is not cached under its (shared) id there.
  if (seen_v1_ && a.container.empty()) {
    walked_answer_ = std::move(a);
    walked_answer_.serial = 0;
    return walked_answer_;
  }
  return remember_id(cgroup_id, std::move(a));
}

bool ContainerResolver::v2_path_is(const std::string& v2_path, uint64_t cgroup_id) const {
  if (cgroup2_root_.empty()) return true;  // nothing to check against
  const std::string dir = v2_path == "/" ? cgroup2_root_ : cgroup2_root_ + v2_path;
  struct stat st {};
  // Unverifiable (another cgroup namespace, a cgroup removed meanwhile): trust the path.
  if (::stat(dir.c_str(), &st) != 0) return true;
  return static_cast<uint64_t>(st.st_ino) == cgroup_id;
}

void ContainerResolver::forget_process(uint32_t pid, uint64_t start_ticks) {
  if (!by_process_.empty()) by_process_.erase(process_key(pid, start_ticks));
}

const CgroupAttribution& ContainerResolver::resolve(uint32_t pid, uint64_t start_ticks,
                                                    uint64_t cgroup_id) {
  ++stats_.lookups;
  if (worker_) apply_names();
  if (cgroup_id != 0) {
    if (auto it = by_id_.find(cgroup_id); it != by_id_.end()) return it->second;
  }
  const uint64_t pkey = process_key(pid, start_ticks);
  if (auto it = by_process_.find(pkey); it != by_process_.end()) return it->second;

  // Miss: ask /proc once.
  ++stats_.proc_reads;
  std::string text;
  {
    const std::string file = opts_.proc_root + "/" + std::to_string(pid) + "/cgroup";
    Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.ok()) {
      char buf[4096];
      ssize_t n;
      while ((n = ::read(fd.get(), buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
    }
  }
  if (text.empty()) {
    ++stats_.proc_failures;
    std::string path;
    if (cgroup_id != 0 && walk_for(cgroup_id, path)) return from_walk(cgroup_id, path);
    ++stats_.unresolved;
    return empty_;  // not cached: the next event of a live process may read /proc
  }
  ProcCgroup pc = parse_proc_cgroup(text);
  if (pc.has_v1) seen_v1_ = true;
  // The process may have moved since the event (runc: fork in the runtime's cgroup, join the
  // container's, exec; an event from before the move is read after it). Its current path then
  // says nothing about the cgroup the event came from, and caching it under the event's id
  // would give the runtime's (or the root) cgroup the container's attribution for good.
  if (cgroup_id != 0 && !pc.v2_path.empty() && !v2_path_is(pc.v2_path, cgroup_id)) {
    ++stats_.moved;
    std::string path;
    if (walk_for(cgroup_id, path)) return from_walk(cgroup_id, path);
    ++stats_.unresolved;
    return empty_;
  }
  add_names(pc.attribution);
  // The v2 cgroup decides when the attribution came from it, or when there is no v1 hierarchy
  // that could place this process elsewhere. Otherwise other processes sharing this v2 cgroup
  // (hybrid hosts: every v1-only container shares its daemon's v2 cgroup) may differ.
  if (cgroup_id != 0 && !pc.v2_path.empty() && (!pc.from_v1 && !pc.has_v1)) {
    return remember_id(cgroup_id, std::move(pc.attribution));
  }
  if (cgroup_id != 0 && !pc.v2_path.empty() && !pc.from_v1 && !pc.attribution.container.empty()) {
    return remember_id(cgroup_id, std::move(pc.attribution));
  }
  return remember_process(pkey, std::move(pc.attribution));
}

}  // namespace privwatch::enrich
