// Drift against a declared profile and against access grants: what is flagged, what is not,
// and that the reason says what was declared and what happened.
#include "enrich/drift.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <string>

namespace privwatch::enrich {
namespace {

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << part << "'";
}

bool no_dns(const std::string&, std::vector<Destination::Net>&, std::string& e) {
  e = "no DNS in unit tests";
  return false;
}

class DriftTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = Inventory::parse(
        "service_accounts:\n"
        "  backup:\n"
        "    owner: team-storage\n"
        "    match: {users: [pgbackup]}\n"
        "    profile:\n"
        "      executables: [/usr/bin/pg_dump, \"/opt/backup/bin/*\"]\n"
        "      files:\n"
        "        read: [/var/lib/postgresql/]\n"
        "        write: [/srv/backup/]\n"
        "      destinations:\n"
        "        - {cidr: 10.20.0.0/16, ports: [5432]}\n"
        "  lax:\n"
        "    owner: someone\n"
        "    match: {users: [lax]}\n"
        "    profile: {interactive_shell: true}\n",
        "inventory.yaml", {"db-1", no_dns});
    ASSERT_TRUE(r) << r.error().to_string();
    inv_ = *r;
    sa_ = inv_->service_account("backup");
    lax_ = inv_->service_account("lax");
  }

  static model::Event exec(const std::string& exe, std::vector<std::string> args = {},
                           uint32_t tty = 0) {
    model::Event ev;
    ev.kind = model::EventKind::kExec;
    model::ExecData x;
    x.exe_path = exe;
    x.filename = exe;
    x.args = std::move(args);
    ev.data = x;
    ev.proc.tty_dev = tty;
    if (tty != 0) ev.proc.tty = "pts/3";
    return ev;
  }
  static model::Event open(const std::string& path, uint32_t flags) {
    model::Event ev;
    ev.kind = model::EventKind::kFile;
    model::FileData f;
    f.path = path;
    f.open_flags = flags;
    ev.data = f;
    return ev;
  }
  static model::Event connect(const char* ip, uint16_t port) {
    model::Event ev;
    ev.kind = model::EventKind::kNet;
    model::NetData n;
    n.op = model::NetOp::kConnect;
    n.family = AF_INET;
    inet_pton(AF_INET, ip, n.remote_addr.data());
    n.remote_port = port;
    ev.data = n;
    return ev;
  }

  std::shared_ptr<const Inventory> inv_;
  const ServiceAccount* sa_ = nullptr;
  const ServiceAccount* lax_ = nullptr;
};

TEST_F(DriftTest, DeclaredExecutableIsNotDrift) {
  std::string why;
  EXPECT_EQ(profile_drift(exec("/usr/bin/pg_dump"), *sa_, why), 0u);
  EXPECT_EQ(profile_drift(exec("/opt/backup/bin/rotate"), *sa_, why), 0u);
  EXPECT_EQ(why, "");
}

TEST_F(DriftTest, UndeclaredExecutableSaysWhatWasDeclaredAndWhatRan) {
  std::string why;
  EXPECT_EQ(profile_drift(exec("/usr/bin/nc"), *sa_, why), model::kDriftExecutable);
  EXPECT_TRUE(Contains(why, "service account backup (owner team-storage)"));
  EXPECT_TRUE(Contains(why, "declared executables: /usr/bin/pg_dump, /opt/backup/bin/*"));
  EXPECT_TRUE(Contains(why, "ran: /usr/bin/nc"));
}

TEST_F(DriftTest, InteractiveShellIsDriftUnlessDeclared) {
  std::string why;
  const uint32_t f = profile_drift(exec("/usr/bin/bash", {"bash"}, 0x8803), *sa_, why);
  EXPECT_EQ(f, model::kDriftExecutable | model::kDriftShell);
  EXPECT_TRUE(Contains(why, "declared no interactive shell; opened /usr/bin/bash on pts/3"));
  // sh -c without a terminal is a script, not an interactive shell.
  std::string why2;
  EXPECT_EQ(
      profile_drift(exec("/bin/sh", {"sh", "-c", "true"}, 0), *sa_, why2) & model::kDriftShell, 0u);
  // -i forces interactive even without a terminal.
  std::string why3;
  EXPECT_NE(profile_drift(exec("/bin/bash", {"bash", "-i"}), *sa_, why3) & model::kDriftShell, 0u);
  // Declared: allowed; executables not declared: not checked.
  std::string why4;
  EXPECT_EQ(profile_drift(exec("/usr/bin/bash", {"bash"}, 0x8803), *lax_, why4), 0u);
}

TEST_F(DriftTest, FileAreasReadAndWrite) {
  std::string why;
  EXPECT_EQ(profile_drift(open("/var/lib/postgresql/15/main/base", O_RDONLY), *sa_, why), 0u);
  EXPECT_EQ(profile_drift(open("/srv/backup/db.gz", O_WRONLY | O_CREAT), *sa_, why), 0u);
  EXPECT_EQ(profile_drift(open("/srv/backup/db.gz", O_RDONLY), *sa_, why), 0u);  // write ⊇ read
  EXPECT_EQ(profile_drift(open("/usr/lib/x86_64-linux-gnu/libc.so.6", O_RDONLY), *sa_, why), 0u);
  // glibc's setlocale reads /usr/share/locale/locale.alias, a symlink to /etc/locale.alias.
  EXPECT_EQ(profile_drift(open("/etc/locale.alias", O_RDONLY | O_CLOEXEC), *sa_, why), 0u);
  EXPECT_EQ(profile_drift(open("/proc/sys/kernel/ngroups_max", O_RDONLY), *sa_, why), 0u);
  EXPECT_EQ(profile_drift(open("/usr/bin/pg_dump", O_RDONLY), *sa_, why), 0u);  // its own exe
  EXPECT_EQ(why, "");
  EXPECT_EQ(profile_drift(open("/etc/shadow", O_RDONLY), *sa_, why), model::kDriftFile);
  EXPECT_TRUE(Contains(why, "declared read areas: /var/lib/postgresql/; read /etc/shadow"));
  std::string why2;
  EXPECT_EQ(profile_drift(open("/var/lib/postgresql/x", O_RDWR), *sa_, why2), model::kDriftFile);
  EXPECT_TRUE(Contains(why2, "declared write areas: /srv/backup/; open /var/lib/postgresql/x"));
}

TEST_F(DriftTest, RenameTargetMustBeWritableToo) {
  model::Event ev;
  ev.kind = model::EventKind::kFile;
  model::FileData f;
  f.op = model::FileOp::kRename;
  f.path = "/srv/backup/tmp.gz";
  f.target_path = "/etc/cron.d/evil";
  ev.data = f;
  std::string why;
  EXPECT_EQ(profile_drift(ev, *sa_, why), model::kDriftFile);
  EXPECT_TRUE(Contains(why, "rename /etc/cron.d/evil"));
}

TEST_F(DriftTest, Destinations) {
  std::string why;
  EXPECT_EQ(profile_drift(connect("10.20.1.2", 5432), *sa_, why), 0u);
  EXPECT_EQ(profile_drift(connect("10.20.1.2", 22), *sa_, why), model::kDriftDestination);
  EXPECT_TRUE(Contains(why,
                       "declared destinations: 10.20.0.0/16 port 5432; connected to "
                       "10.20.1.2:22"));
  std::string why2;
  EXPECT_EQ(profile_drift(connect("203.0.113.9", 4444), *sa_, why2), model::kDriftDestination);
  // Not declared at all: not checked.
  std::string why3;
  EXPECT_EQ(profile_drift(connect("203.0.113.9", 4444), *lax_, why3), 0u);
}

TEST(GrantDrift, PrivilegedHumanOutsideGrant) {
  Grant g;
  g.user = "alice";
  g.hosts = {Pattern{"db-*", false, ""}};
  g.from_s = 1000;
  g.until_s = 2000;
  g.ticket = "CHG-1";
  const GrantSet grants({g});
  model::Event ev;
  ev.proc.uid = 0;
  ev.proc.euid = 0;
  std::string why;
  EXPECT_EQ(grant_drift(ev, "alice", "db-1", "", 1500, grants, why), 0u);  // inside
  EXPECT_EQ(grant_drift(ev, "alice", "db-1", "", 2000, grants, why), model::kDriftNoGrant);
  EXPECT_TRUE(Contains(why,
                       "privileged activity by alice on db-1 at 1970-01-01T00:33:20Z "
                       "outside any access grant (their grants here: CHG-1 "
                       "1970-01-01T00:16:40Z..1970-01-01T00:33:20Z)"));
  std::string why2;
  EXPECT_EQ(grant_drift(ev, "bob", "db-1", "databases", 1500, grants, why2), model::kDriftNoGrant);
  EXPECT_TRUE(Contains(why2, "on db-1 (cluster databases)"));
  EXPECT_TRUE(Contains(why2, "no grant for bob on this host"));
  // Unprivileged activity and non-human events are not flagged.
  model::Event user;
  user.proc.uid = user.proc.euid = 1000;
  std::string why3;
  EXPECT_EQ(grant_drift(user, "bob", "db-1", "", 1500, grants, why3), 0u);
  EXPECT_EQ(grant_drift(ev, "", "db-1", "", 1500, grants, why3), 0u);
  // Escalated counts as privileged even with another uid (sudo -u postgres).
  user.attr.escalated = true;
  EXPECT_EQ(grant_drift(user, "bob", "db-1", "", 1500, grants, why3), model::kDriftNoGrant);
}

TEST(GrantDrift, ClusterGrantCovers) {
  Grant g;
  g.user = "bob";
  g.clusters = {"web"};
  g.from_s = 0;
  g.until_s = 100;
  g.reason = "incident";
  const GrantSet grants({g});
  model::Event ev;
  std::string why;
  EXPECT_EQ(grant_drift(ev, "bob", "web-3", "web", 50, grants, why), 0u);
  EXPECT_EQ(grant_drift(ev, "bob", "db-3", "databases", 50, grants, why), model::kDriftNoGrant);
}

TEST(FileWrite, Classification) {
  model::FileData f;
  f.open_flags = O_RDONLY;
  EXPECT_FALSE(is_file_write(f));
  f.open_flags = O_RDONLY | O_TRUNC;
  EXPECT_TRUE(is_file_write(f));
  f.open_flags = O_WRONLY;
  EXPECT_TRUE(is_file_write(f));
  f.open_flags = O_RDONLY;
  f.op = model::FileOp::kUnlink;
  EXPECT_TRUE(is_file_write(f));
  EXPECT_TRUE(is_shell("/usr/bin/zsh"));
  EXPECT_FALSE(is_shell("/usr/bin/bashful"));
}

}  // namespace
}  // namespace privwatch::enrich
