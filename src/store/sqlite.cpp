#include "store/sqlite.hpp"

#include <fmt/format.h>

#include <mutex>

namespace privwatch::store {

void configure_sqlite() {
  static std::once_flag once;
  // SQLITE_MISUSE when SQLite was initialized already (another user in the process): harmless,
  // the statistics then stay on.
  std::call_once(once, [] { (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}

Error sqlite_error(sqlite3* db, int rc, std::string_view what) {
  const char* file = db != nullptr ? sqlite3_db_filename(db, "main") : nullptr;
  const char* msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  ErrorKind kind = ErrorKind::kIo;
  std::string hint;
  if (is_corrupt_rc(rc)) {
    kind = ErrorKind::kCorrupt;
    hint =
        "the database file is damaged: run 'privwatch verify --db <file>' to see what is left; "
        "the agent moves a damaged store aside and starts a new one";
  } else if (is_full_rc(rc)) {
    hint = "the disk is full: free space on the store's file system or lower store.retention";
  } else if ((rc & 0xff) == SQLITE_CANTOPEN || (rc & 0xff) == SQLITE_PERM ||
             (rc & 0xff) == SQLITE_READONLY) {
    kind = ErrorKind::kPermission;
    hint = "check that the file exists and that you may read it (the store is root-only: 0700)";
  } else if ((rc & 0xff) == SQLITE_BUSY) {
    hint = "another process holds a lock on the database; retry";
  }
  return Error{kind,
               fmt::format("store {}: {}: {}", file != nullptr && *file ? file : "(database)", what,
                           msg != nullptr ? msg : "unknown error"),
               hint};
}

Status Db::exec(std::string_view sql, int* rc_out) const {
  const std::string s(sql);
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
  if (err != nullptr) sqlite3_free(err);
  if (rc_out != nullptr) *rc_out = rc;
  if (rc != SQLITE_OK) {
    const std::string first = s.substr(0, s.find(';'));
    return sqlite_error(db_, rc, first.substr(0, 60));
  }
  return {};
}

Result<Stmt> Stmt::prepare(sqlite3* db, std::string_view sql) {
  Stmt s;
  const int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &s.st_, nullptr);
  if (rc != SQLITE_OK) return sqlite_error(db, rc, "prepare");
  return s;
}

}  // namespace privwatch::store
