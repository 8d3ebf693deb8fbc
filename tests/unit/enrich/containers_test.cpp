// Container / Kubernetes attribution from cgroup paths: a table of real-world lines (docker,
// containerd, CRI-O, podman, LXC, kubepods; systemd and cgroupfs drivers; v1 and v2), the
// /proc/<pid>/cgroup parser, and the resolver's caching and degradation.
#include "enrich/containers.hpp"

#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "enrich/attribution.hpp"

namespace privwatch::enrich {
namespace {

namespace fs = std::filesystem;

const std::string kId = "4c9a1e8d2b7f03a5c6e1d9b8a7f6e5d4c3b2a19087f6e5d4c3b2a1908f7e6d5c";
const std::string kId2 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const std::string kPod = "8d1f6c2e-3b4a-4c5d-9e8f-7a6b5c4d3e2f";
const std::string kPodU = "8d1f6c2e_3b4a_4c5d_9e8f_7a6b5c4d3e2f";

struct CgroupCase {
  std::string name;
  std::string path;
  std::string id, runtime, pod_uid, qos, unit;
};

void PrintTo(const CgroupCase& c, std::ostream* os) { *os << c.name; }

class CgroupPathTable : public ::testing::TestWithParam<CgroupCase> {};

TEST_P(CgroupPathTable, Attributes) {
  const CgroupCase& c = GetParam();
  const CgroupAttribution a = parse_cgroup_path(c.path);
  EXPECT_EQ(a.container.id, c.id) << c.path;
  EXPECT_EQ(a.container.runtime, c.runtime) << c.path;
  EXPECT_EQ(a.container.pod_uid, c.pod_uid) << c.path;
  EXPECT_EQ(a.k8s_qos, c.qos) << c.path;
  EXPECT_EQ(a.systemd_unit, c.unit) << c.path;
}

INSTANTIATE_TEST_SUITE_P(
    RealWorld, CgroupPathTable,
    ::testing::Values(
        // Plain hosts.
        CgroupCase{"Root", "/", "", "", "", "", ""},
        CgroupCase{"SystemdService", "/system.slice/nginx.service", "", "", "", "",
                   "nginx.service"},
        CgroupCase{"TemplatedService", "/system.slice/system-getty.slice/getty@tty1.service", "",
                   "", "", "", "getty@tty1.service"},
        CgroupCase{"UserSession", "/user.slice/user-1000.slice/session-3.scope", "", "", "", "",
                   ""},
        CgroupCase{"UserManagerApp",
                   "/user.slice/user-1000.slice/user@1000.service/app.slice/"
                   "gpg-agent.service",
                   "", "", "", "", "gpg-agent.service"},
        // Docker.
        CgroupCase{"DockerCgroupfs", "/docker/" + kId, kId, "docker", "", "", ""},
        CgroupCase{"DockerSystemd", "/system.slice/docker-" + kId + ".scope", kId, "docker", "", "",
                   ""},
        CgroupCase{"DockerSystemdV1Memory", "/system.slice/docker-" + kId + ".scope", kId, "docker",
                   "", "", ""},
        CgroupCase{"DockerdItselfIsAUnit", "/system.slice/docker.service", "", "", "", "",
                   "docker.service"},
        // containerd outside Kubernetes (ctr / nerdctl).
        CgroupCase{"ContainerdNamespaceCgroupfs", "/default/" + kId, kId, "containerd", "", "", ""},
        CgroupCase{"NerdctlSystemd", "/system.slice/nerdctl-" + kId + ".scope", kId, "containerd",
                   "", "", ""},
        // Kubernetes, systemd driver, the three QoS classes.
        CgroupCase{"K8sContainerdBurstable",
                   "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + kPodU +
                       ".slice/cri-containerd-" + kId + ".scope",
                   kId, "containerd", kPod, "burstable", ""},
        CgroupCase{"K8sContainerdBestEffort",
                   "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + kPodU +
                       ".slice/cri-containerd-" + kId + ".scope",
                   kId, "containerd", kPod, "besteffort", ""},
        CgroupCase{"K8sCrioGuaranteed",
                   "/kubepods.slice/kubepods-pod" + kPodU + ".slice/crio-" + kId + ".scope", kId,
                   "cri-o", kPod, "guaranteed", ""},
        CgroupCase{"K8sCrioConmonIsNotTheContainer",
                   "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + kPodU +
                       ".slice/crio-conmon-" + kId + ".scope",
                   "", "", kPod, "burstable", ""},
        CgroupCase{"K8sDockershimSystemd",
                   "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + kPodU +
                       ".slice/docker-" + kId + ".scope",
                   kId, "docker", kPod, "burstable", ""},
        CgroupCase{
            "K8sPodSliceOnly",
            "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + kPodU + ".slice",
            "", "", kPod, "besteffort", ""},
        // Kubernetes, cgroupfs driver.
        CgroupCase{"K8sCgroupfsBurstable", "/kubepods/burstable/pod" + kPod + "/" + kId, kId, "",
                   kPod, "burstable", ""},
        CgroupCase{"K8sCgroupfsBestEffort", "/kubepods/besteffort/pod" + kPod + "/" + kId, kId, "",
                   kPod, "besteffort", ""},
        CgroupCase{"K8sCgroupfsGuaranteed", "/kubepods/pod" + kPod + "/" + kId, kId, "", kPod,
                   "guaranteed", ""},
        // kind / k3d: Kubernetes inside a docker container; the innermost container wins.
        CgroupCase{"KindNested",
                   "/docker/" + kId2 +
                       "/kubelet.slice/kubelet-kubepods.slice/"
                       "kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod" +
                       kPodU + ".slice/cri-containerd-" + kId + ".scope",
                   kId, "containerd", kPod, "besteffort", ""},
        CgroupCase{"KindNodeItself", "/docker/" + kId2 + "/system.slice/containerd.service", kId2,
                   "docker", "", "", ""},
        // Podman.
        CgroupCase{"PodmanRootSystemd", "/machine.slice/libpod-" + kId + ".scope", kId, "podman",
                   "", "", ""},
        CgroupCase{"PodmanRootlessSystemd",
                   "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + kId +
                       ".scope/container",
                   kId, "podman", "", "", ""},
        CgroupCase{"PodmanConmonIsNotTheContainer",
                   "/machine.slice/libpod-conmon-" + kId + ".scope", "", "", "", "", ""},
        CgroupCase{"PodmanCgroupfs", "/libpod_parent/libpod-" + kId, kId, "podman", "", "", ""},
        // LXC.
        CgroupCase{"LxcV1", "/lxc/web01", "web01", "lxc", "", "", ""},
        CgroupCase{"LxcV2Payload", "/lxc.payload.web01/system.slice/cron.service", "web01", "lxc",
                   "", "", ""},
        CgroupCase{"LxcMonitorIsNotTheContainer", "/lxc.monitor.web01", "", "", "", "", ""},
        // Not containers.
        CgroupCase{"ShortHexIsNotAnId", "/docker/4c9a1e8d2b7f", "", "", "", "", ""},
        CgroupCase{"UppercaseHexIsNotAnId", "/docker/" + std::string(64, 'A'), "", "", "", "", ""},
        CgroupCase{"PodWithBadUid", "/kubepods/burstable/podnot-a-uid/" + kId, kId, "", "",
                   "burstable", ""},
        CgroupCase{"Empty", "", "", "", "", "", ""}),
    [](const ::testing::TestParamInfo<CgroupCase>& info) { return info.param.name; });

TEST(ProcCgroup, PureV2) {
  const ProcCgroup pc = parse_proc_cgroup("0::/system.slice/docker-" + kId + ".scope\n");
  EXPECT_EQ(pc.v2_path, "/system.slice/docker-" + kId + ".scope");
  EXPECT_FALSE(pc.has_v1);
  EXPECT_FALSE(pc.from_v1);
  EXPECT_EQ(pc.attribution.container.id, kId);
}

TEST(ProcCgroup, HybridV1OnlyContainerFallsBackToV1Lines) {
  // Docker with the cgroupfs driver on a hybrid host: the v2 path is the daemon's.
  const std::string text = "12:pids:/docker/" + kId + "\n" + "11:memory:/docker/" + kId + "\n" +
                           "1:name=systemd:/system.slice/containerd.service\n" +
                           "0::/system.slice/containerd.service\n";
  const ProcCgroup pc = parse_proc_cgroup(text);
  EXPECT_TRUE(pc.has_v1);
  EXPECT_TRUE(pc.from_v1);
  EXPECT_EQ(pc.attribution.container.id, kId);
  EXPECT_EQ(pc.attribution.container.runtime, "docker");
  EXPECT_EQ(pc.attribution.systemd_unit, "");
}

TEST(ProcCgroup, HybridServiceUsesTheV2Unit) {
  const ProcCgroup pc = parse_proc_cgroup(
      "4:memory:/system.slice/cron.service\n1:name=systemd:/system.slice/cron.service\n"
      "0::/system.slice/cron.service\n");
  EXPECT_FALSE(pc.from_v1);
  EXPECT_EQ(pc.attribution.systemd_unit, "cron.service");
}

TEST(ProcCgroup, LegacyV1OnlyUsesNameSystemd) {
  const ProcCgroup pc =
      parse_proc_cgroup("3:cpu,cpuacct:/\n2:memory:/\n1:name=systemd:/system.slice/sshd.service\n");
  EXPECT_EQ(pc.v2_path, "");
  EXPECT_TRUE(pc.from_v1);
  EXPECT_EQ(pc.attribution.systemd_unit, "sshd.service");
}

TEST(ProcCgroup, MalformedLinesAreSkipped) {
  const ProcCgroup pc = parse_proc_cgroup(
      "garbage\n::\n7:memory\n9:cpu:relative/path\n\n0::/kubepods/pod" + kPod + "/" + kId);
  EXPECT_EQ(pc.attribution.container.id, kId);
  EXPECT_EQ(pc.attribution.container.pod_uid, kPod);
}

TEST(K8sDockerName, DockershimConvention) {
  model::ContainerInfo info;
  ASSERT_TRUE(parse_k8s_docker_name("/k8s_api_payments-api-7d9f_payments_" + kPod + "_0", info));
  EXPECT_EQ(info.name, "api");
  EXPECT_EQ(info.pod_name, "payments-api-7d9f");
  EXPECT_EQ(info.k8s_namespace, "payments");
  EXPECT_EQ(info.pod_uid, kPod);
  model::ContainerInfo other;
  EXPECT_FALSE(parse_k8s_docker_name("/web", other));
  EXPECT_FALSE(parse_k8s_docker_name("k8s_only_three_parts", other));
}

// ---------------------------------------------------------------------------------------
// Resolver: a /proc tree of real files the test writes; the clock is the test's.

class ResolverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("pw-containers-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  void set_cgroup(uint32_t pid, const std::string& text) {
    fs::create_directories(root_ / std::to_string(pid));
    std::ofstream(root_ / std::to_string(pid) / "cgroup") << text;
  }
  void remove_pid(uint32_t pid) { fs::remove_all(root_ / std::to_string(pid)); }

  ContainerResolverOptions options() {
    ContainerResolverOptions o;
    o.proc_root = root_.string();
    o.cgroup2_root = "";
    o.clock = [this] { return now_; };
    return o;
  }

  fs::path root_;
  uint64_t now_ = 1'000'000'000;
};

TEST_F(ResolverTest, CachesByCgroupIdOnPureV2) {
  ContainerResolver r(options());
  set_cgroup(100, "0::/system.slice/docker-" + kId + ".scope\n");
  EXPECT_EQ(r.resolve(100, 5, 777).container.id, kId);
  // Another process of the same cgroup: no /proc read; even with /proc gone.
  remove_pid(100);
  EXPECT_EQ(r.resolve(101, 6, 777).container.id, kId);
  EXPECT_EQ(r.stats().proc_reads, 1u);
  EXPECT_EQ(r.stats().cached_ids, 1u);
}

TEST_F(ResolverTest, HybridV1ContainersAreCachedPerProcessNotPerSharedId) {
  ContainerResolver r(options());
  // Two processes share v2 cgroup 50 (the runtime's); only one is in a v1 container.
  set_cgroup(200, "4:memory:/docker/" + kId + "\n0::/system.slice/containerd.service\n");
  set_cgroup(201,
             "4:memory:/system.slice/containerd.service\n0::/system.slice/containerd.service\n");
  EXPECT_EQ(r.resolve(200, 1, 50).container.id, kId);
  EXPECT_EQ(r.resolve(201, 1, 50).container.id, "");
  EXPECT_EQ(r.resolve(200, 1, 50).container.id, kId);  // cached
  EXPECT_EQ(r.stats().proc_reads, 2u);
  EXPECT_EQ(r.stats().cached_ids, 0u);
  EXPECT_EQ(r.stats().cached_processes, 2u);
}

TEST_F(ResolverTest, ForgetProcessRereadsAfterExec) {
  ContainerResolver r(options());
  set_cgroup(300, "4:memory:/system.slice/runc.service\n0::/\n");
  EXPECT_EQ(r.resolve(300, 9, 1).container.id, "");
  set_cgroup(300, "4:memory:/docker/" + kId + "\n0::/\n");  // runc moved it, then exec
  EXPECT_EQ(r.resolve(300, 9, 1).container.id, "");         // still cached
  r.forget_process(300, 9);
  EXPECT_EQ(r.resolve(300, 9, 1).container.id, kId);
}

TEST_F(ResolverTest, GoneProcessIsNotCachedAndCounted) {
  ContainerResolver r(options());
  EXPECT_TRUE(r.resolve(400, 1, 99).container.empty());
  EXPECT_EQ(r.stats().proc_failures, 1u);
  EXPECT_EQ(r.stats().unresolved, 1u);
  set_cgroup(400, "0::/docker/" + kId + "\n");
  EXPECT_EQ(r.resolve(400, 1, 99).container.id, kId);
}

TEST_F(ResolverTest, WalksCgroupfsForExitedProcesses) {
  // A cgroup2-like tree: directory inodes are the ids.
  const fs::path cg = root_ / "cgroupfs";
  const fs::path dir = cg / "kubepods" / "besteffort" / ("pod" + kPod) / kId;
  fs::create_directories(dir);
  struct stat st {};
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  auto o = options();
  o.cgroup2_root = cg.string();
  ContainerResolver r(std::move(o));
  const CgroupAttribution& a = r.resolve(999999, 1, st.st_ino);
  EXPECT_EQ(a.container.id, kId);
  EXPECT_EQ(a.container.pod_uid, kPod);
  EXPECT_EQ(a.k8s_qos, "besteffort");
  EXPECT_EQ(r.stats().walks, 1u);
  // An unknown id does not walk again within the interval.
  EXPECT_TRUE(r.resolve(999998, 1, 123456789).container.empty());
  EXPECT_EQ(r.stats().walks, 1u);
  now_ += o.walk_interval_ns + 1;
  EXPECT_TRUE(r.resolve(999998, 1, 123456789).container.empty());
  EXPECT_EQ(r.stats().walks, 2u);
}

// Resolves until the attribution has a container name (names come from the background
// lookup; a later event sees them), or gives up after ~10 s. Returns the last attribution.
CgroupAttribution resolve_until_named(ContainerResolver& r, uint32_t pid, uint64_t id) {
  CgroupAttribution a;
  for (int i = 0; i < 1000; ++i) {
    a = r.resolve(pid, 1, id);
    if (!a.container.name.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return a;
}

// Waits until no lookup is pending (answers applied), or ~10 s.
void settle(ContainerResolver& r) {
  for (int i = 0; i < 1000 && r.names_pending() != 0; ++i) {
    r.apply_names();
    if (r.names_pending() == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// runc forks in the runtime's cgroup, joins the container's, then execs: an event from before
// the move is read from /proc after it. Found end to end (attribution_test.cpp): the event's
// cgroup (here the runtime's; there the root cgroup) was cached as the container for good.
TEST_F(ResolverTest, AProcessThatMovedSinceTheEventDoesNotPoisonTheEventsCgroup) {
  const fs::path cg = root_ / "cgroupfs";
  const fs::path runtime_dir = cg / "system.slice" / "containerd.service";
  const fs::path container_dir = cg / "system.slice" / ("docker-" + kId + ".scope");
  fs::create_directories(runtime_dir);
  fs::create_directories(container_dir);
  struct stat rt {
  }, ct{};
  ASSERT_EQ(::stat(runtime_dir.c_str(), &rt), 0);
  ASSERT_EQ(::stat(container_dir.c_str(), &ct), 0);
  auto o = options();
  o.cgroup2_root = cg.string();
  ContainerResolver r(std::move(o));
  // The event came from containerd.service; /proc now says the container.
  set_cgroup(1100, "0::/system.slice/docker-" + kId + ".scope\n");
  const CgroupAttribution& early = r.resolve(1100, 1, rt.st_ino);
  EXPECT_EQ(early.container.id, "") << "the event was in the runtime's cgroup";
  EXPECT_EQ(early.systemd_unit, "containerd.service") << "found by walking for the event's id";
  EXPECT_EQ(r.stats().moved, 1u);
  // Another process of containerd.service is not the container either.
  set_cgroup(1101, "0::/system.slice/containerd.service\n");
  EXPECT_EQ(r.resolve(1101, 1, rt.st_ino).container.id, "");
  // The process's events after the move carry the container's id and are the container's.
  r.forget_process(1100, 1);
  EXPECT_EQ(r.resolve(1100, 1, ct.st_ino).container.id, kId);
  EXPECT_EQ(r.stats().moved, 1u);
}

// On a hybrid host, a v2 cgroup found by walking (an event whose process moved, or exited) is
// not cached under its id when it names no container: v1-only containers share that id. Found
// end to end: after one early event of a process in the root cgroup, a process in a v1
// kubepods cgroup (v2 root) lost its container.
TEST_F(ResolverTest, OnHybridHostsAWalkedV2CgroupDoesNotHideV1Containers) {
  const fs::path cg = root_ / "cgroupfs";
  fs::create_directories(cg / "other");
  struct stat root {};
  ASSERT_EQ(::stat(cg.c_str(), &root), 0);
  auto o = options();
  o.cgroup2_root = cg.string();
  ContainerResolver r(std::move(o));
  // An event from the root cgroup whose process moved to /other before /proc was read.
  set_cgroup(1200, "4:memory:/\n0::/other\n");
  EXPECT_EQ(r.resolve(1200, 1, root.st_ino).container.id, "");
  EXPECT_EQ(r.stats().moved, 1u);
  // A process in a v1 container whose v2 cgroup is the root: its container, not the walk's "/".
  set_cgroup(1201, "4:memory:/kubepods/burstable/pod" + kPod + "/" + kId + "\n0::/\n");
  const CgroupAttribution& a = r.resolve(1201, 1, root.st_ino);
  EXPECT_EQ(a.container.id, kId);
  EXPECT_EQ(a.container.pod_uid, kPod);
}

TEST_F(ResolverTest, MissingRuntimeSocketDegradesToIdsWithoutQueries) {
  auto o = options();
  o.runtimes.push_back(make_docker_client((root_ / "no-docker.sock").string()));
  ContainerResolver r(std::move(o));
  set_cgroup(500, "0::/system.slice/docker-" + kId + ".scope\n");
  const CgroupAttribution& a = r.resolve(500, 1, 5);
  EXPECT_EQ(a.container.id, kId);
  EXPECT_EQ(a.container.name, "");
  settle(r);
  EXPECT_EQ(r.names_pending(), 0u);
  EXPECT_EQ(r.resolve(500, 1, 5).container.name, "");
  EXPECT_EQ(r.stats().runtime_queries, 0u);
  EXPECT_EQ(r.stats().runtime_failures, 0u);
  EXPECT_EQ(r.stats().names_resolved, 0u);
}

// A real HTTP server on a unix socket answering the Docker Engine API's inspect call, the
// minimal HTTP the client speaks. With hold(), it keeps every request waiting until release().
class FakeDockerDaemon {
 public:
  explicit FakeDockerDaemon(std::string path) : path_(std::move(path)) {
    ::unlink(path_.c_str());
    server_.set_address_family(AF_UNIX);
    server_.Get(R"(/containers/([0-9a-f]+)/json)", [this](const httplib::Request& req,
                                                          httplib::Response& res) {
      {
        std::unique_lock lock(mu_);
        ++requests;
        cv_.notify_all();
        cv_.wait(lock, [this] { return !holding_; });
      }
      if (req.matches[1] != kId) {
        res.status = 404;
        res.set_content(R"({"message":"No such container"})", "application/json");
        return;
      }
      res.set_content(R"({"Id":")" + kId + R"(","Name":"/k8s_api_payments-api-7d9f_payments_)" +
                          kPod +
                          R"(_0","Config":{"Image":"registry.local/payments/api:1.4.2","Labels":{)"
                          R"("io.kubernetes.pod.name":"payments-api-7d9f",)"
                          R"("io.kubernetes.pod.namespace":"payments",)"
                          R"("io.kubernetes.pod.serviceaccount":"api-sa"}}})",
                      "application/json");
    });
    // Bind before the thread starts, so the socket exists when the constructor returns.
    if (!server_.bind_to_port(path_.c_str(), 80)) ADD_FAILURE() << "cannot bind " << path_;
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~FakeDockerDaemon() {
    release();
    server_.stop();
    thread_.join();
    ::unlink(path_.c_str());
  }
  void hold() {
    std::lock_guard lock(mu_);
    holding_ = true;
  }
  void release() {
    {
      std::lock_guard lock(mu_);
      holding_ = false;
    }
    cv_.notify_all();
  }
  // Waits until `n` requests arrived (true), or ~10 s (false).
  bool wait_requests(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return requests >= n; });
  }
  int count() {
    std::lock_guard lock(mu_);
    return requests;
  }

 private:
  std::string path_;
  httplib::Server server_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool holding_ = false;
  int requests = 0;
};

TEST_F(ResolverTest, NamesComeFromTheDockerSocketOncePerContainer) {
  const std::string sock = (root_ / "docker.sock").string();
  FakeDockerDaemon daemon(sock);
  auto o = options();
  o.runtimes.push_back(make_docker_client(sock));
  ContainerResolver r(std::move(o));
  set_cgroup(600, "0::/kubepods.slice/kubepods-pod" + kPodU + ".slice/docker-" + kId + ".scope\n");
  set_cgroup(601,
             "0::/kubepods.slice/kubepods-pod" + kPodU + ".slice/docker-" + kId + ".scope/sub\n");
  const CgroupAttribution first = r.resolve(600, 1, 60);
  EXPECT_EQ(first.container.id, kId);
  const CgroupAttribution a = resolve_until_named(r, 600, 60);
  EXPECT_EQ(a.container.id, kId);
  EXPECT_EQ(a.container.runtime, "docker");
  EXPECT_EQ(a.container.name, "api");
  EXPECT_EQ(a.container.image, "registry.local/payments/api:1.4.2");
  EXPECT_EQ(a.container.pod_name, "payments-api-7d9f");
  EXPECT_EQ(a.container.k8s_namespace, "payments");
  EXPECT_EQ(a.container.k8s_service_account, "api-sa");
  EXPECT_EQ(a.container.pod_uid, kPod);
  EXPECT_NE(a.serial, first.serial) << "named attributions get a new serial";
  const CgroupAttribution b = r.resolve(601, 1, 61);  // another cgroup of the same container
  EXPECT_EQ(b.container.name, "api") << "known names apply at once";
  EXPECT_EQ(daemon.count(), 1);
  EXPECT_EQ(r.stats().runtime_queries, 1u);
  EXPECT_EQ(r.stats().names_resolved, 1u);
  EXPECT_EQ(r.stats().names_applied, 1u);
  EXPECT_EQ(r.stats().name_lookups_queued, 1u);
}

// The pipeline thread never waits for the socket: the daemon holds the request while the
// resolver keeps answering (ids only), and the names arrive on a later event.
TEST_F(ResolverTest, ASocketThatDoesNotAnswerNeverBlocksResolve) {
  const std::string sock = (root_ / "docker.sock").string();
  FakeDockerDaemon daemon(sock);
  daemon.hold();
  auto o = options();
  o.runtimes.push_back(make_docker_client(sock, /*read_timeout_ms=*/60'000));
  ContainerResolver r(std::move(o));
  set_cgroup(800, "0::/system.slice/docker-" + kId + ".scope\n");
  set_cgroup(801, "0::/system.slice/docker-" + kId + ".scope/other\n");
  EXPECT_EQ(r.resolve(800, 1, 80).container.name, "");
  ASSERT_TRUE(daemon.wait_requests(1)) << "the background lookup never reached the socket";
  // The request is held by the daemon right now; resolve still answers.
  const CgroupAttribution& held = r.resolve(801, 1, 81);
  EXPECT_EQ(held.container.id, kId);
  EXPECT_EQ(held.container.name, "");
  EXPECT_EQ(r.names_pending(), 1u);
  EXPECT_EQ(r.stats().name_misses, 2u);
  EXPECT_EQ(r.stats().name_lookups_queued, 1u) << "one lookup per container, not per miss";
  daemon.release();
  EXPECT_EQ(resolve_until_named(r, 800, 80).container.name, "api");
  EXPECT_EQ(r.resolve(801, 1, 81).container.name, "api") << "cached attributions are updated";
  EXPECT_EQ(daemon.count(), 1);
}

TEST_F(ResolverTest, UnknownContainerIsAskedAgainLater) {
  const std::string sock = (root_ / "docker.sock").string();
  FakeDockerDaemon daemon(sock);
  auto o = options();
  o.runtimes.push_back(make_docker_client(sock));
  ContainerResolver r(std::move(o));
  set_cgroup(700, "0::/docker/" + kId2 + "\n");
  set_cgroup(701, "0::/docker/" + kId2 + "/a\n");
  set_cgroup(702, "0::/docker/" + kId2 + "/b\n");
  EXPECT_EQ(r.resolve(700, 1, 70).container.name, "");
  settle(r);
  EXPECT_EQ(r.resolve(700, 1, 70).container.id, kId2);
  EXPECT_EQ(daemon.count(), 1);  // cached by cgroup id: no second query per event
  // Another cgroup of the same unknown container within the recheck period: not asked again.
  EXPECT_EQ(r.resolve(701, 1, 71).container.name, "");
  settle(r);
  EXPECT_EQ(daemon.count(), 1);
  // After it: asked again (a container the runtime registers late gets its names).
  now_ += 31'000'000'000ull;
  EXPECT_EQ(r.resolve(702, 1, 72).container.name, "");
  settle(r);
  EXPECT_EQ(daemon.count(), 2);
  EXPECT_EQ(r.stats().runtime_failures, 0u);
  EXPECT_EQ(r.stats().names_resolved, 0u);
}

TEST_F(ResolverTest, AFullLookupQueueDropsAndCountsAndAsksLater) {
  const std::string sock = (root_ / "docker.sock").string();
  FakeDockerDaemon daemon(sock);
  daemon.hold();
  auto o = options();
  o.runtimes.push_back(make_docker_client(sock, /*read_timeout_ms=*/60'000));
  o.name_queue = 1;
  ContainerResolver r(std::move(o));
  set_cgroup(900, "0::/docker/" + kId2 + "\n");
  set_cgroup(901, "0::/docker/" + kId + "\n");
  EXPECT_EQ(r.resolve(900, 1, 90).container.id, kId2);  // queued (then held by the daemon)
  EXPECT_EQ(r.resolve(901, 1, 91).container.id, kId);   // queue full: dropped, counted
  EXPECT_EQ(r.stats().name_lookups_queued, 1u);
  EXPECT_EQ(r.stats().name_lookups_dropped, 1u);
  daemon.release();
  settle(r);
  // The dropped container is asked on its next miss (here: a process in another cgroup).
  set_cgroup(902, "0::/docker/" + kId + "/x\n");
  EXPECT_EQ(resolve_until_named(r, 902, 92).container.name, "api");
}

// The Kubernetes namespace / service account a runtime socket reports match a service account
// of the inventory: the container's first event (names unknown yet) has none; once the names
// arrive, later events of the same cgroup are the service account's, with drift from its
// profile.
TEST_F(ResolverTest, KubernetesServiceAccountFromTheRuntimeSocketMatchesTheInventory) {
  const std::string sock = (root_ / "docker.sock").string();
  FakeDockerDaemon daemon(sock);
  auto inv = Inventory::parse(
      "service_accounts:\n"
      "  payments-api:\n"
      "    owner: team-payments\n"
      "    match:\n"
      "      kubernetes: [{namespace: payments, service_account: api-sa}]\n"
      "    profile:\n"
      "      executables: [\"/app/*\"]\n",
      "inventory.yaml", {"node-1", nullptr});
  ASSERT_TRUE(inv) << inv.error().to_string();
  AttributorOptions o;
  o.containers = options();
  o.containers.runtimes.push_back(make_docker_client(sock));
  Attributor attributor(*inv, std::move(o));
  set_cgroup(1000, "0::/kubepods.slice/kubepods-pod" + kPodU + ".slice/docker-" + kId + ".scope\n");
  const auto exec_event = [](const std::string& exe) {
    model::Event ev;
    ev.kind = model::EventKind::kExec;
    ev.proc.pid = 1000;
    ev.proc.uid = 0;
    ev.proc.cgroup_id = 100;
    ev.user_name = "root";
    model::ExecData x;
    x.exe_path = exe;
    x.filename = exe;
    ev.data = x;
    return ev;
  };
  model::Event first = exec_event("/app/server");
  attributor.attribute(first);
  EXPECT_EQ(first.attr.container.id, kId);
  EXPECT_EQ(first.attr.service_account, "") << "names unknown yet: no service account";
  model::Event later = exec_event("/bin/sh");
  for (int i = 0; i < 1000; ++i) {
    later = exec_event("/bin/sh");
    attributor.attribute(later);
    if (!later.attr.service_account.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(later.attr.container.k8s_namespace, "payments");
  EXPECT_EQ(later.attr.container.k8s_service_account, "api-sa");
  EXPECT_EQ(later.attr.service_account, "payments-api");
  EXPECT_EQ(later.attr.human, "team-payments");
  EXPECT_EQ(later.attr.drift, model::kDriftExecutable);
  EXPECT_EQ(later.attr.drift_reason,
            "service account payments-api (owner team-payments) declared executables: /app/*; "
            "ran: /bin/sh");
  model::Event ok = exec_event("/app/server");
  attributor.attribute(ok);
  EXPECT_EQ(ok.attr.service_account, "payments-api");
  EXPECT_EQ(ok.attr.drift, 0u);
  EXPECT_EQ(attributor.stats().containers.runtime_queries, 1u);
  EXPECT_GE(attributor.stats().containers.name_misses, 1u);
  // The same counters as the agent's stats file gets them.
  const auto j = nlohmann::json::parse(attributor.stats_json());
  EXPECT_EQ(j["containers"]["runtime_queries"], 1);
  EXPECT_EQ(j["containers"]["names_resolved"], 1);
  EXPECT_EQ(j["drift_events"], 1);
  EXPECT_EQ(j["service_account_events"], 2);
  EXPECT_EQ(j["events"], attributor.stats().events);
}

}  // namespace
}  // namespace privwatch::enrich
