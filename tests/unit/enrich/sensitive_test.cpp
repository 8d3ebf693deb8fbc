#include <gtest/gtest.h>

#include "enrich/enricher.hpp"

namespace privwatch::enrich {
namespace {

model::Event file_event(std::string path, std::string target = {}) {
  model::Event ev;
  ev.kind = model::EventKind::kFile;
  ev.proc.pid = 77;
  model::FileData f;
  f.path = std::move(path);
  f.target_path = std::move(target);
  ev.data = f;
  return ev;
}

TEST(EnricherSensitive, FlagsFileEventsUnderConfiguredPrefixes) {
  Enricher e(1024, 1'000'000'000);
  e.set_sensitive_paths({"/etc/", "/root/.ssh/"});
  auto shadow = file_event("/etc/shadow");
  e.process(shadow);
  EXPECT_TRUE(shadow.flags & model::kFlagSensitive);

  auto tmp = file_event("/tmp/x");
  e.process(tmp);
  EXPECT_FALSE(tmp.flags & model::kFlagSensitive);

  // a rename into a sensitive area counts by its target
  auto mv = file_event("/tmp/key", "/root/.ssh/authorized_keys");
  e.process(mv);
  EXPECT_TRUE(mv.flags & model::kFlagSensitive);

  // "/etcetera" is not under "/etc/"
  auto near = file_event("/etcetera/file");
  e.process(near);
  EXPECT_FALSE(near.flags & model::kFlagSensitive);
}

TEST(EnricherSensitive, KernelFlagIsKeptAndNonFileEventsUntouched) {
  Enricher e(1024, 1'000'000'000);
  e.set_sensitive_paths({"/etc/"});
  auto kflag = file_event("/tmp/y");
  kflag.flags = model::kFlagSensitive;  // set in the kernel for an unmonitored subject
  e.process(kflag);
  EXPECT_TRUE(kflag.flags & model::kFlagSensitive);

  model::Event exec;
  exec.kind = model::EventKind::kExec;
  model::ExecData x;
  x.exe_path = "/etc/init.d/foo";
  exec.data = x;
  e.process(exec);
  EXPECT_FALSE(exec.flags & model::kFlagSensitive);
}

}  // namespace
}  // namespace privwatch::enrich
