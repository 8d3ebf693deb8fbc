// Thin RAII over the SQLite C API (one connection, prepared statements).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace privwatch::store {

// Process-wide SQLite settings, applied once before the first connection opens: no memory
// statistics (every allocation otherwise takes a global mutex; privwatch never reads them).
void configure_sqlite();

// An error naming the database file, what was being done and SQLite's own message.
[[nodiscard]] Error sqlite_error(sqlite3* db, int rc, std::string_view what);
// SQLITE_CORRUPT / SQLITE_NOTADB: the file is damaged (not a transient condition).
[[nodiscard]] inline bool is_corrupt_rc(int rc) {
  rc &= 0xff;
  return rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB;
}
[[nodiscard]] inline bool is_full_rc(int rc) { return (rc & 0xff) == SQLITE_FULL; }

class Db {
 public:
  Db() = default;
  explicit Db(sqlite3* db) : db_(db) {}
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  Db(Db&& o) noexcept : db_(o.db_) { o.db_ = nullptr; }
  Db& operator=(Db&& o) noexcept {
    if (this != &o) {
      close();
      db_ = o.db_;
      o.db_ = nullptr;
    }
    return *this;
  }
  ~Db() { close(); }
  void close() {
    if (db_ != nullptr) sqlite3_close_v2(db_);
    db_ = nullptr;
  }
  [[nodiscard]] sqlite3* get() const { return db_; }

  // Runs one or more statements; returns the SQLite result code in *rc when given.
  Status exec(std::string_view sql, int* rc = nullptr) const;

 private:
  sqlite3* db_ = nullptr;
};

class Stmt {
 public:
  Stmt() = default;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt(Stmt&& o) noexcept : st_(o.st_) { o.st_ = nullptr; }
  Stmt& operator=(Stmt&& o) noexcept {
    if (this != &o) {
      finalize();
      st_ = o.st_;
      o.st_ = nullptr;
    }
    return *this;
  }
  ~Stmt() { finalize(); }

  static Result<Stmt> prepare(sqlite3* db, std::string_view sql);

  void finalize() {
    if (st_ != nullptr) sqlite3_finalize(st_);
    st_ = nullptr;
  }
  [[nodiscard]] sqlite3_stmt* get() const { return st_; }

  // Binding: 1-based. Text/blob are copied only when `copy`; otherwise they must outlive step().
  void bind(int i, int64_t v) { sqlite3_bind_int64(st_, i, v); }
  void bind_null(int i) { sqlite3_bind_null(st_, i); }
  // Empty strings become NULL (unless keep_empty).
  void bind_text(int i, std::string_view s, bool keep_empty = false) {
    if (s.empty() && !keep_empty) {
      sqlite3_bind_null(st_, i);
    } else {
      sqlite3_bind_text(st_, i, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
    }
  }
  void bind_blob(int i, const void* p, size_t n) {
    sqlite3_bind_blob(st_, i, p, static_cast<int>(n), SQLITE_STATIC);
  }
  int step() { return sqlite3_step(st_); }
  void reset() {
    sqlite3_reset(st_);
    sqlite3_clear_bindings(st_);
  }
  // Reset keeping the bindings: for hot statements whose every parameter is bound before each
  // step (clearing them costs ~300 instructions per insert).
  void reset_keep_bindings() { sqlite3_reset(st_); }

  [[nodiscard]] int64_t int64(int col) const { return sqlite3_column_int64(st_, col); }
  [[nodiscard]] bool is_blob(int col) const { return sqlite3_column_type(st_, col) == SQLITE_BLOB; }
  [[nodiscard]] bool is_null(int col) const { return sqlite3_column_type(st_, col) == SQLITE_NULL; }
  [[nodiscard]] std::string_view text(int col) const {
    const auto* p = sqlite3_column_text(st_, col);
    return p == nullptr ? std::string_view()
                        : std::string_view(reinterpret_cast<const char*>(p),
                                           static_cast<size_t>(sqlite3_column_bytes(st_, col)));
  }
  [[nodiscard]] std::string_view blob(int col) const {
    const void* p = sqlite3_column_blob(st_, col);
    return p == nullptr ? std::string_view()
                        : std::string_view(static_cast<const char*>(p),
                                           static_cast<size_t>(sqlite3_column_bytes(st_, col)));
  }

 private:
  sqlite3_stmt* st_ = nullptr;
};

}  // namespace privwatch::store
