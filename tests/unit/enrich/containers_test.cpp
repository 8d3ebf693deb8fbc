// Container / Kubernetes attribution from cgroup paths: a table of real-world lines (docker,
// containerd, CRI-O, podman, LXC, kubepods; systemd and cgroupfs drivers; v1 and v2), the
// /proc/<pid>/cgroup parser, and the resolver's caching and degradation.
#include "enrich/containers.hpp"

#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

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

TEST_F(ResolverTest, MissingRuntimeSocketDegradesToIdsWithoutQueries) {
  auto o = options();
  o.runtimes.push_back(make_docker_client((root_ / "no-docker.sock").string()));
  ContainerResolver r(std::move(o));
  set_cgroup(500, "0::/system.slice/docker-" + kId + ".scope\n");
  const CgroupAttribution& a = r.resolve(500, 1, 5);
  EXPECT_EQ(a.container.id, kId);
  EXPECT_EQ(a.container.name, "");
  EXPECT_EQ(r.stats().runtime_queries, 0u);
  EXPECT_EQ(r.stats().runtime_failures, 0u);
}

// A real HTTP server on a unix socket answering the Docker Engine API's inspect call.
class FakeDockerDaemon {
 public:
  explicit FakeDockerDaemon(std::string path) : path_(std::move(path)) {
    ::unlink(path_.c_str());
    server_.set_address_family(AF_UNIX);
    server_.Get(R"(/containers/([0-9a-f]+)/json)", [this](const httplib::Request& req,
                                                          httplib::Response& res) {
      ++requests;
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
    server_.stop();
    thread_.join();
    ::unlink(path_.c_str());
  }
  int requests = 0;

 private:
  std::string path_;
  httplib::Server server_;
  std::thread thread_;
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
  const CgroupAttribution a = r.resolve(600, 1, 60);
  EXPECT_EQ(a.container.id, kId);
  EXPECT_EQ(a.container.runtime, "docker");
  EXPECT_EQ(a.container.name, "api");
  EXPECT_EQ(a.container.image, "registry.local/payments/api:1.4.2");
  EXPECT_EQ(a.container.pod_name, "payments-api-7d9f");
  EXPECT_EQ(a.container.k8s_namespace, "payments");
  EXPECT_EQ(a.container.k8s_service_account, "api-sa");
  EXPECT_EQ(a.container.pod_uid, kPod);
  const CgroupAttribution b = r.resolve(601, 1, 61);  // another cgroup of the same container
  EXPECT_EQ(b.container.name, "api");
  EXPECT_EQ(daemon.requests, 1);
  EXPECT_EQ(r.stats().runtime_queries, 1u);
}

TEST_F(ResolverTest, UnknownContainerIsAskedAgainLater) {
  const std::string sock = (root_ / "docker.sock").string();
  FakeDockerDaemon daemon(sock);
  auto o = options();
  o.runtimes.push_back(make_docker_client(sock));
  ContainerResolver r(std::move(o));
  set_cgroup(700, "0::/docker/" + kId2 + "\n");
  EXPECT_EQ(r.resolve(700, 1, 70).container.name, "");
  EXPECT_EQ(r.resolve(700, 1, 70).container.id, kId2);
  EXPECT_EQ(daemon.requests, 1);  // cached by cgroup id: no second query per event
  EXPECT_EQ(r.stats().runtime_failures, 0u);
}

}  // namespace
}  // namespace privwatch::enrich
