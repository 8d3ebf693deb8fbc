// File activity of a monitored subject (root): opens (absolute, relative, dirfd-relative,
// failed, creating), unlink, rename, chmod, chown, mkdir. Each operation is done by a forked
// child of the test with the raw syscall, so the syscall number is known too.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "agent_fixture.hpp"

namespace privwatch::itest {
namespace {

class FileEventsTest : public AgentSuite<FileEventsTest> {
 protected:
  // Runs fn in a forked child (cwd = `cwd` when set) and expects it to return `expect`.
  Child run_child(const std::function<int()>& fn, const std::string& cwd = {}, int expect = 0) {
    Child c = Child::run(fn, {.cwd = cwd});
    EXPECT_EQ(describe_status(c.wait()), fmt::format("exit {}", expect));
    EXPECT_TRUE(c.info_at_exit());
    return c;
  }

  // The file event of `pid` with this action and file.path.
  json wait_file(const Child& c, const std::string& action, const std::string& path) {
    auto ev = agent().wait_for(
        [&](const json& e) {
          return str(e, "privwatch.kind") == "file" && num(e, "process.pid") == c.pid() &&
                 str(e, "event.action") == action && str(e, "file.path") == path;
        },
        fmt::format("\"pid\":{},", c.pid()));
    EXPECT_TRUE(ev.has_value()) << "no " << action << " event for " << path << " by pid "
                                << c.pid();
    if (ev && c.info_at_exit()) {
      ExpectedProcess e = expected_child(*c.info_at_exit());
      e.monitored = true;
      expect_process(*ev, e);
    }
    return ev.value_or(json());
  }
};

std::string base_name(const std::string& p) { return p.substr(p.rfind('/') + 1); }
std::string dir_name(const std::string& p) { return p.substr(0, p.rfind('/')); }

// file.path / name / directory, and the flags every file event carries.
void expect_file_basics(const json& ev, const std::string& path, const std::string& action,
                        long syscall_nr, bool success) {
  SCOPED_TRACE(short_dump(ev));
  EXPECT_EQ(str(ev, "file.path"), path);
  EXPECT_EQ(str(ev, "file.name"), base_name(path));
  EXPECT_EQ(str(ev, "file.directory"), dir_name(path));
  EXPECT_EQ(str(ev, "event.action"), action);
  EXPECT_EQ(str(ev, "event.outcome"), success ? "success" : "failure");
  EXPECT_EQ(num(ev, "privwatch.syscall"), syscall_nr);
  EXPECT_EQ(field(ev, "privwatch.sensitive")->get<bool>(), false) << "/tmp is not sensitive";
  EXPECT_EQ(field(ev, "privwatch.truncated")->get<bool>(), false);
  if (success) {
    EXPECT_FALSE(has(ev, "error"));
  }
}

std::vector<std::string> flags_of(const json& ev) {
  const json* f = field(ev, "privwatch.file.flags");
  return f != nullptr ? f->get<std::vector<std::string>>() : std::vector<std::string>{};
}

TEST_F(FileEventsTest, AbsoluteOpen) {
  TempDir dir;
  const std::string path = dir / ("abs-" + unique_token());
  write_file(path, "x");
  Child c = run_child([&] {
    const long fd = ::syscall(SYS_openat, AT_FDCWD, path.c_str(), O_RDONLY | O_CLOEXEC);
    return fd >= 0 ? 0 : errno;
  });
  const json ev = wait_file(c, "open", path);
  ASSERT_FALSE(ev.is_null());
  expect_file_basics(ev, path, "open", SYS_openat, true);
  expect_categorized(ev, "file", {"access"});
  // A successful open reports the kernel's path of the opened file; the string the process
  // passed is not copied then (bpf/file.bpf.c, docs/events.md).
  EXPECT_FALSE(has(ev, "privwatch.file.requested_path"));
  EXPECT_EQ(flags_of(ev), (std::vector<std::string>{"O_RDONLY", "O_CLOEXEC"}));
  EXPECT_EQ(field(ev, "privwatch.file.created")->get<bool>(), false);
  EXPECT_EQ(field(ev, "privwatch.file.write")->get<bool>(), false);
  EXPECT_EQ(field(ev, "privwatch.file.fd_based")->get<bool>(), false);
  EXPECT_EQ(num(ev, "privwatch.file.dirfd"), AT_FDCWD);
  EXPECT_FALSE(has(ev, "file.mode")) << "no mode for an open that cannot create";
}

TEST_F(FileEventsTest, RelativeOpenFromAChdirdProcessIsResolvedToAnAbsolutePath) {
  TempDir dir;
  const std::string sub = dir / "sub";
  ASSERT_EQ(::mkdir(sub.c_str(), 0755), 0);
  const std::string name = "rel-" + unique_token();
  write_file(sub + "/" + name, "x");
  Child c = run_child(
      [&] {
        const long fd = ::syscall(SYS_openat, AT_FDCWD, name.c_str(), O_RDONLY);
        return fd >= 0 ? 0 : errno;
      },
      sub);
  const json ev = wait_file(c, "open", sub + "/" + name);
  ASSERT_FALSE(ev.is_null());
  expect_file_basics(ev, sub + "/" + name, "open", SYS_openat, true);
  EXPECT_FALSE(has(ev, "privwatch.file.requested_path")) << "successful open: resolved path only";
  EXPECT_EQ(flags_of(ev), std::vector<std::string>{"O_RDONLY"});
}

TEST_F(FileEventsTest, OpenatRelativeToADirectoryDescriptor) {
  TempDir dir;
  const std::string sub = dir / "sub";
  ASSERT_EQ(::mkdir(sub.c_str(), 0755), 0);
  const std::string name = "at-" + unique_token();
  write_file(sub + "/" + name, "x");
  constexpr int kDirFd = 57;
  const std::string rel = "sub/" + name;
  Child c = run_child([&] {
    const int d = ::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY);
    if (d < 0 || ::dup2(d, kDirFd) != kDirFd) return 100;
    const long fd = ::syscall(SYS_openat, kDirFd, rel.c_str(), O_RDONLY);
    return fd >= 0 ? 0 : errno;
  });
  const json ev = wait_file(c, "open", sub + "/" + name);
  ASSERT_FALSE(ev.is_null());
  expect_file_basics(ev, sub + "/" + name, "open", SYS_openat, true);
  EXPECT_FALSE(has(ev, "privwatch.file.requested_path")) << "successful open: resolved path only";
  EXPECT_EQ(num(ev, "privwatch.file.dirfd"), kDirFd);
}

TEST_F(FileEventsTest, FailedOpenOfAMissingRelativePathIsStillResolved) {
  TempDir dir;
  const std::string name = "missing-" + unique_token();
  Child c = run_child(
      [&] {
        const long fd = ::syscall(SYS_openat, AT_FDCWD, name.c_str(), O_RDONLY);
        return fd >= 0 ? 0 : errno;
      },
      dir.path(), ENOENT);
  const json ev = wait_file(c, "open", dir / name);
  ASSERT_FALSE(ev.is_null());
  expect_file_basics(ev, dir / name, "open", SYS_openat, false);
  EXPECT_EQ(str(ev, "privwatch.file.requested_path"), name);
  EXPECT_EQ(str(ev, "error.code"), "ENOENT");
  EXPECT_EQ(str(ev, "error.message"), std::strerror(ENOENT));
}

// A failed open has no file to take a path from: the string the process passed is reported,
// exactly as passed, and file.path is that string made absolute.
TEST_F(FileEventsTest, FailedAbsoluteOpenReportsTheRequestedPath) {
  TempDir dir;
  const std::string missing_dir = dir / ("no-such-dir-" + unique_token());
  const std::string path = missing_dir + "/./x";
  const std::string normalized = missing_dir + "/x";
  Child c = run_child(
      [&] {
        const long fd = ::syscall(SYS_openat, AT_FDCWD, path.c_str(), O_RDONLY);
        return fd >= 0 ? 0 : errno;
      },
      {}, ENOENT);
  const json ev = wait_file(c, "open", normalized);
  ASSERT_FALSE(ev.is_null());
  expect_file_basics(ev, normalized, "open", SYS_openat, false);
  EXPECT_EQ(str(ev, "privwatch.file.requested_path"), path);
  EXPECT_EQ(str(ev, "error.code"), "ENOENT");
}

// A successful open through a symbolic link reports the file the kernel opened.
TEST_F(FileEventsTest, SuccessfulOpenThroughASymlinkReportsTheTarget) {
  TempDir dir;
  const std::string target = dir / ("target-" + unique_token());
  const std::string link = dir / ("link-" + unique_token());
  write_file(target, "x");
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  Child c = run_child([&] {
    const long fd = ::syscall(SYS_openat, AT_FDCWD, link.c_str(), O_RDONLY);
    return fd >= 0 ? 0 : errno;
  });
  const json ev = wait_file(c, "open", target);
  ASSERT_FALSE(ev.is_null());
  expect_file_basics(ev, target, "open", SYS_openat, true);
}

TEST_F(FileEventsTest, OpenWithOCreatReportsTheCreation) {
  TempDir dir;
  const std::string path = dir / ("new-" + unique_token());
  const std::string existing = dir / ("old-" + unique_token());
  write_file(existing, "x");
  Child c = run_child([&] {
    long fd = ::syscall(SYS_openat, AT_FDCWD, path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                        0640);
    if (fd < 0) return errno;
    // O_CREAT on a file that exists creates nothing.
    fd = ::syscall(SYS_openat, AT_FDCWD, existing.c_str(), O_RDWR | O_CREAT, 0600);
    return fd >= 0 ? 0 : errno;
  });
  const json ev = wait_file(c, "open", path);
  ASSERT_FALSE(ev.is_null());
  expect_file_basics(ev, path, "open", SYS_openat, true);
  expect_categorized(ev, "file", {"creation"});
  EXPECT_EQ(field(ev, "privwatch.file.created")->get<bool>(), true);
  EXPECT_EQ(field(ev, "privwatch.file.write")->get<bool>(), true);
  EXPECT_EQ(str(ev, "file.mode"), "0640");
  EXPECT_EQ(flags_of(ev), (std::vector<std::string>{"O_WRONLY", "O_CREAT", "O_EXCL", "O_CLOEXEC"}));

  const json old_ev = wait_file(c, "open", existing);
  ASSERT_FALSE(old_ev.is_null());
  expect_categorized(old_ev, "file", {"access"});
  EXPECT_EQ(field(old_ev, "privwatch.file.created")->get<bool>(), false);
  EXPECT_EQ(field(old_ev, "privwatch.file.write")->get<bool>(), true);
  EXPECT_EQ(str(old_ev, "file.mode"), "0600");
}

TEST_F(FileEventsTest, Unlink) {
  TempDir dir;
  const std::string path = dir / ("del-" + unique_token());
  write_file(path, "x");
  Child c = run_child([&] { return ::syscall(SYS_unlink, path.c_str()) == 0 ? 0 : errno; });
  const json ev = wait_file(c, "unlink", path);
  ASSERT_FALSE(ev.is_null());
  expect_file_basics(ev, path, "unlink", SYS_unlink, true);
  expect_categorized(ev, "file", {"deletion"});
  EXPECT_EQ(str(ev, "privwatch.file.requested_path"), path);
  EXPECT_EQ(field(ev, "privwatch.file.write")->get<bool>(), true);
}

TEST_F(FileEventsTest, RenameReportsTheTargetPath) {
  TempDir dir;
  const std::string token = unique_token();
  const std::string from = dir / ("from-" + token), to = dir / ("to-" + token);
  write_file(from, "x");
  Child c =
      run_child([&] { return ::syscall(SYS_rename, from.c_str(), to.c_str()) == 0 ? 0 : errno; });
  const json ev = wait_file(c, "rename", from);
  ASSERT_FALSE(ev.is_null());
  expect_file_basics(ev, from, "rename", SYS_rename, true);
  expect_categorized(ev, "file", {"change"});
  EXPECT_EQ(str(ev, "file.target_path"), to);
  EXPECT_EQ(str(ev, "privwatch.file.requested_path"), from);
  EXPECT_EQ(str(ev, "privwatch.file.requested_target"), to);
}

TEST_F(FileEventsTest, RelativeRenameResolvesBothPaths) {
  TempDir dir;
  const std::string token = unique_token();
  const std::string from = "rfrom-" + token, to = "rto-" + token;
  write_file(dir / from, "x");
  Child c = run_child(
      [&] { return ::syscall(SYS_rename, from.c_str(), to.c_str()) == 0 ? 0 : errno; }, dir.path());
  // A rename's source no longer exists at sys_exit: it is resolved against the cwd.
  const json ev = wait_file(c, "rename", dir / from);
  ASSERT_FALSE(ev.is_null());
  expect_file_basics(ev, dir / from, "rename", SYS_rename, true);
  EXPECT_EQ(str(ev, "file.target_path"), dir / to);
  EXPECT_EQ(str(ev, "privwatch.file.requested_path"), from);
  EXPECT_EQ(str(ev, "privwatch.file.requested_target"), to);
}

TEST_F(FileEventsTest, ChmodAddingTheSetuidBit) {
  TempDir dir;
  const std::string path = dir / ("suid-" + unique_token());
  write_file(path, "#!/bin/sh\n", 0755);
  Child c = run_child([&] { return ::syscall(SYS_chmod, path.c_str(), 04755) == 0 ? 0 : errno; });
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  ASSERT_EQ(st.st_mode & 07777, 04755u);
  const json ev = wait_file(c, "chmod", path);
  ASSERT_FALSE(ev.is_null());
  expect_file_basics(ev, path, "chmod", SYS_chmod, true);
  expect_categorized(ev, "file", {"change"});
  EXPECT_EQ(str(ev, "file.mode"), "4755");
}

TEST_F(FileEventsTest, Chown) {
  TempDir dir;
  const std::string path = dir / ("own-" + unique_token());
  write_file(path, "x");
  Child c =
      run_child([&] { return ::syscall(SYS_chown, path.c_str(), 65534, 65534) == 0 ? 0 : errno; });
  const json ev = wait_file(c, "chown", path);
  ASSERT_FALSE(ev.is_null());
  expect_file_basics(ev, path, "chown", SYS_chown, true);
  expect_categorized(ev, "file", {"change"});
  EXPECT_EQ(str(ev, "file.uid"), "65534");
  EXPECT_EQ(str(ev, "file.gid"), "65534");
}

TEST_F(FileEventsTest, Mkdir) {
  TempDir dir;
  const std::string path = dir / ("dir-" + unique_token());
  Child c = run_child([&] { return ::syscall(SYS_mkdir, path.c_str(), 0750) == 0 ? 0 : errno; });
  const json ev = wait_file(c, "mkdir", path);
  ASSERT_FALSE(ev.is_null());
  expect_file_basics(ev, path, "mkdir", SYS_mkdir, true);
  expect_categorized(ev, "file", {"creation"});
  EXPECT_EQ(str(ev, "file.type"), "dir");
  EXPECT_EQ(str(ev, "file.mode"), "0750");
}

}  // namespace
}  // namespace privwatch::itest
