// Shared helpers of the store unit tests: a temp directory, sample records, raw SQL.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "model/alert.hpp"
#include "model/event.hpp"
#include "store/store.hpp"

namespace privwatch::store::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = "/tmp/pwstore-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] std::string operator/(const std::string& n) const { return path_ + "/" + n; }

 private:
  std::string path_;
};

// 2026-11-20T10:00:00Z, a Friday.
inline constexpr uint64_t kT0 = 1795168800ull * 1'000'000'000ull;
inline constexpr uint64_t kSec = 1'000'000'000ull;

inline model::Event exec_event(uint64_t wall_ns, const std::string& human, const std::string& user,
                               const std::string& exe, std::vector<std::string> args,
                               const std::string& session = "s-1") {
  model::Event ev;
  ev.kind = model::EventKind::kExec;
  ev.wall_time_ns = wall_ns;
  ev.ts_ns = 1000;
  ev.proc.pid = 4242;
  ev.proc.comm = exe.substr(exe.rfind('/') + 1);
  ev.user_name = user;
  ev.effective_user_name = user;
  ev.login_user_name = human;
  ev.exe = exe;
  model::ExecData d;
  d.exe_path = exe;
  d.filename = exe;
  d.args = std::move(args);
  ev.data = d;
  ev.attr.host = "app-3";
  ev.attr.cluster = "app-servers";
  ev.attr.human = human;
  ev.attr.roles = {"dba"};
  auto s = std::make_shared<model::Session>();
  s->id = session;
  ev.attr.session = s;
  ev.attr.escalated = user != human;
  return ev;
}

// Executes SQL on the database file with a second connection (the "attacker").
inline void raw_sql(const std::string& db, const std::string& sql) {
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(h, sql.c_str(), nullptr, nullptr, &err);
  EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(h);
}

inline std::unique_ptr<Store> open_store(const TempDir& dir) {
  StoreOptions o;
  o.path = dir / "db/privwatch.db";
  o.key_path = dir / "db/store.key";
  o.host = "app-3";
  auto st = Store::open_writer(o);
  EXPECT_TRUE(st) << (st ? "" : st.error().to_string());
  return st ? std::move(*st) : nullptr;
}

}  // namespace privwatch::store::testing
