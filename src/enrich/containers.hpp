// Container and Kubernetes attribution from cgroup paths (v1 and v2; systemd and cgroupfs
// drivers; docker, containerd, CRI-O, podman, LXC, kubepods with any QoS class), cached by
// cgroup id, with names from a container runtime socket when one answers. See docs/inventory.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "model/identity.hpp"

namespace privwatch::enrich {

// What one cgroup path says about the workload that runs in it.
struct CgroupAttribution {
  model::ContainerInfo container;  // id, runtime, pod_uid (name/image/k8s from a runtime socket)
  std::string systemd_unit;        // "nginx.service" for …/system.slice/nginx.service
  std::string k8s_qos;             // guaranteed, burstable, besteffort ("" outside kubepods)
  // Set by ContainerResolver: unique per cached entry (0: not cached), so callers can key their
  // own caches on "this attribution" without comparing strings.
  uint64_t serial = 0;
};

// Parses one cgroup path ("/kubepods.slice/…/cri-containerd-<id>.scope"). The innermost
// container wins (kind / docker-in-docker nest kubepods inside a container's cgroup).
[[nodiscard]] CgroupAttribution parse_cgroup_path(std::string_view path);

// /proc/<pid>/cgroup, parsed.
struct ProcCgroup {
  std::string v2_path;  // the "0::" line ("" when the process has none)
  bool has_v1 = false;  // v1 hierarchies present (legacy or hybrid host)
  CgroupAttribution attribution;
  bool from_v1 = false;  // the attribution came from a v1 line, not the v2 path
};

// Prefers the v2 path; falls back to v1 lines (name=systemd first) when the v2 path says
// nothing (hybrid hosts where the runtime only uses v1 controllers). Malformed lines skipped.
[[nodiscard]] ProcCgroup parse_proc_cgroup(std::string_view content);

// Container runtime metadata (name, image, pod name, namespace, service account) by id.
class RuntimeClient {
 public:
  enum class Answer { kFound, kNotFound, kUnavailable };
  virtual ~RuntimeClient() = default;
  [[nodiscard]] virtual std::string_view runtime() const = 0;  // "docker", "cri-o"
  // Fills name/image/pod_name/k8s_namespace/k8s_service_account/pod_uid of `info`.
  [[nodiscard]] virtual Answer inspect(const std::string& id, model::ContainerInfo& info) = 0;
};

// Docker Engine API over its unix socket (GET /containers/<id>/json), or CRI-O's info
// endpoint (GET /containers/<id>). Short timeouts (connect 200 ms, read read_timeout_ms);
// never throws. Called by the resolver's background thread only.
std::unique_ptr<RuntimeClient> make_docker_client(std::string socket_path,
                                                  uint32_t read_timeout_ms = 500);
std::unique_ptr<RuntimeClient> make_crio_client(std::string socket_path,
                                                uint32_t read_timeout_ms = 500);

// The container name convention of dockershim / cri-dockerd:
// k8s_<container>_<pod>_<namespace>_<pod uid>_<attempt>. Returns false for other names.
bool parse_k8s_docker_name(std::string_view name, model::ContainerInfo& info);

// "/sys/fs/cgroup" on a pure cgroup v2 host, "/sys/fs/cgroup/unified" on a hybrid host, "" when
// no cgroup2 hierarchy is mounted.
[[nodiscard]] std::string detect_cgroup2_root();

struct ContainerResolverOptions {
  std::string proc_root = "/proc";
  std::string cgroup2_root = "auto";  // "auto": detect_cgroup2_root(); "": never walk
  size_t capacity = 16384;            // cached cgroup ids and processes (each)
  // Runtime sockets tried for names, on a background thread (never on the event path): a new
  // container's first events carry ids only, the names appear on its later events. A socket
  // that does not exist is not tried (checked again every socket_recheck_ns), one that fails is
  // left alone for the same period, and a container no runtime named is asked again after it.
  std::vector<std::unique_ptr<RuntimeClient>> runtimes;
  uint64_t socket_recheck_ns = 30'000'000'000ull;
  size_t name_queue = 256;  // containers waiting for a lookup; beyond: dropped, asked later
  uint64_t walk_interval_ns = 5'000'000'000ull;  // at most one cgroupfs walk per interval
  std::function<uint64_t()> clock;               // ns, monotonic; default CLOCK_BOOTTIME
};

// The runtime sockets a host normally has (docker, CRI-O), in the default locations.
[[nodiscard]] std::vector<std::unique_ptr<RuntimeClient>> default_runtime_clients();

struct ContainerResolverStats {
  uint64_t lookups = 0;        // resolve() calls
  uint64_t proc_reads = 0;     // /proc/<pid>/cgroup reads (cache misses)
  uint64_t proc_failures = 0;  // process gone or unreadable
  uint64_t walks = 0;          // cgroupfs walks (id → path for exited processes)
  uint64_t unresolved = 0;     // neither /proc nor the walk knew the cgroup
  uint64_t moved = 0;          // the process had left the event's cgroup when /proc was read
  uint64_t runtime_queries = 0;
  uint64_t runtime_failures = 0;  // socket present but the query failed
  uint64_t name_misses = 0;       // attributions made while the container's names were unknown
  uint64_t name_lookups_queued = 0;
  uint64_t name_lookups_dropped = 0;  // the lookup queue was full (asked again on a later miss)
  uint64_t names_resolved = 0;        // containers named by a runtime
  uint64_t names_applied = 0;         // cached attributions that received names later
  uint64_t evictions = 0;
  size_t cached_ids = 0, cached_processes = 0;
};

// Not thread-safe: one per pipeline thread. No I/O on a cache hit; runtime sockets are only
// ever asked by its own background thread (started when runtimes are configured).
class ContainerResolver {
 public:
  explicit ContainerResolver(ContainerResolverOptions opts = {});
  ~ContainerResolver();
  ContainerResolver(const ContainerResolver&) = delete;
  ContainerResolver& operator=(const ContainerResolver&) = delete;

  // Attribution of the process (pid, start_ticks) whose event carried cgroup_id (the v2 id the
  // kernel reports). The reference stays valid until the next call.
  [[nodiscard]] const CgroupAttribution& resolve(uint32_t pid, uint64_t start_ticks,
                                                 uint64_t cgroup_id);

  // A process that exec'd may have been moved to another cgroup by its runtime before the exec
  // (runc: fork, join the container's cgroup, exec): forget what was cached for it.
  void forget_process(uint32_t pid, uint64_t start_ticks);

  [[nodiscard]] ContainerResolverStats stats() const;
  [[nodiscard]] const std::string& cgroup2_root() const { return cgroup2_root_; }

  // Applies names that the background lookups found since the last call (resolve() does it
  // first). Returns how many containers were named.
  size_t apply_names();
  // Containers whose lookup is queued or running.
  [[nodiscard]] size_t names_pending() const { return pending_.size(); }

 private:
  class NameWorker;
  const CgroupAttribution& remember_id(uint64_t cgroup_id, CgroupAttribution a);
  const CgroupAttribution& remember_process(uint64_t key, CgroupAttribution a);
  static void copy_names(const model::ContainerInfo& from, model::ContainerInfo& to);
  void add_names(CgroupAttribution& a);
  bool walk_for(uint64_t cgroup_id, std::string& path);
  const CgroupAttribution& from_walk(uint64_t cgroup_id, const std::string& path);
  // Whether the cgroup v2 directory v2_path has the id (true when it cannot be checked).
  [[nodiscard]] bool v2_path_is(const std::string& v2_path, uint64_t cgroup_id) const;
  uint64_t now() const;

  ContainerResolverOptions opts_;
  std::string cgroup2_root_;
  std::unique_ptr<NameWorker> worker_;                 // null without runtimes
  std::unordered_map<std::string, uint64_t> pending_;  // id → asked at (ns)
  std::unordered_map<std::string, uint64_t> unnamed_;  // id → not asked again before (ns)
  // cgroup id → attribution, when the v2 cgroup decides (pure v2 hosts; containers in v2).
  std::unordered_map<uint64_t, CgroupAttribution> by_id_;
  // (pid, start) → attribution, when only v1 lines decide (hybrid hosts): ids are shared.
  std::unordered_map<uint64_t, CgroupAttribution> by_process_;
  // container id → runtime metadata, so every cgroup of one container asks once.
  std::unordered_map<std::string, model::ContainerInfo> names_;
  std::unordered_map<uint64_t, std::string> walked_;  // inode → path, from the last walk
  uint64_t last_walk_ns_ = 0;
  uint64_t next_serial_ = 1;
  bool walked_once_ = false;
  CgroupAttribution empty_;
  CgroupAttribution walked_answer_;  // an uncached answer from a walk (hybrid hosts)
  bool seen_v1_ = false;             // some process had cgroup v1 hierarchies (hybrid host)
  mutable ContainerResolverStats stats_;
};

}  // namespace privwatch::enrich
