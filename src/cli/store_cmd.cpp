// privwatch store pubkey | info: the store's key and state.
#include "cli/store_cmd.hpp"

#include <fmt/format.h>

#include <cstdio>

#include "cli/commands.hpp"
#include "config/config.hpp"
#include "store/keys.hpp"
#include "store/store.hpp"
#include "util/log.hpp"
#include "util/time.hpp"

namespace privwatch::cli {

void StoreLocation::add_options(CLI::App* cmd) {
  cmd->add_option("--db", db, "store database (default: store.path of the configuration)");
  cmd->add_option("-c,--config", config_path,
                  "agent configuration to read store.path from (default: embedded)");
}

Result<std::string> StoreLocation::db_path() const {
  if (!db.empty()) return db;
  auto cfg = config_path.empty() ? config::load_default() : config::load_file(config_path);
  if (!cfg) return cfg.error();
  return cfg->store.path;
}

Result<std::unique_ptr<store::Store>> StoreLocation::open_reader() const {
  auto path = db_path();
  if (!path) return path.error();
  return store::Store::open_reader(*path);
}

Result<std::string> StoreLocation::key_path() const {
  auto cfg = config_path.empty() ? config::load_default() : config::load_file(config_path);
  if (!cfg) return cfg.error();
  return cfg->store.key_path;
}

int report_error(const Error& e) {
  std::fprintf(stderr, "privwatch: error: %s\n", e.to_string().c_str());
  return e.kind == ErrorKind::kInvalidArgument ? 2 : 1;
}

std::string short_time(uint64_t wall_ns) {
  return util::format_rfc3339({static_cast<int64_t>(wall_ns / 1'000'000'000ull), 0});
}

void add_store_command(CLI::App& app, int& rc) {
  auto* cmd = app.add_subcommand("store", "the embedded store: public key and state");
  cmd->require_subcommand(1);

  auto* pubkey = cmd->add_subcommand(
      "pubkey",
      "print the public key that verifies checkpoints and tombstones (keep a copy "
      "off the host: privwatch verify --pubkey)");
  auto key = std::make_shared<std::string>();
  auto loc = std::make_shared<StoreLocation>();
  pubkey->add_option("--key", *key, "signing key file (default: store.key_path)");
  pubkey->add_option("-c,--config", loc->config_path, "agent configuration");
  pubkey->callback([&rc, key, loc] {
    log::init("warn");
    std::string path = *key;
    if (path.empty()) {
      auto p = loc->key_path();
      if (!p) {
        rc = report_error(p.error());
        return;
      }
      path = *p;
    }
    auto k = store::load_key(path);
    if (!k) {
      rc = report_error(k.error());
      return;
    }
    std::printf("%s\n", store::format_public_key(k->pub).c_str());
    rc = 0;
  });

  auto* info = cmd->add_subcommand("info", "records, chain head and checkpoints of the store");
  auto iloc = std::make_shared<StoreLocation>();
  iloc->add_options(info);
  info->callback([&rc, iloc] {
    log::init("warn");
    auto st = iloc->open_reader();
    if (!st) {
      rc = report_error(st.error());
      return;
    }
    sqlite3* db = (*st)->db();
    auto q = store::Stmt::prepare(
        db,
        "SELECT kind, count(*), min(seq), max(seq), min(ts), max(ts) FROM records GROUP BY "
        "kind ORDER BY kind");
    if (!q) {
      rc = report_error(q.error());
      return;
    }
    std::printf("store %s\nchain %s\n\n%-11s %12s %12s %12s  %-20s  %-20s\n", (*st)->path().c_str(),
                (*st)->chain_id().c_str(), "kind", "records", "first", "last", "oldest", "newest");
    int r;
    while ((r = q->step()) == SQLITE_ROW) {
      std::printf(
          "%-11s %12lld %12lld %12lld  %-20s  %-20s\n",
          std::string(store::to_string(static_cast<store::RecordKind>(q->int64(0)))).c_str(),
          static_cast<long long>(q->int64(1)), static_cast<long long>(q->int64(2)),
          static_cast<long long>(q->int64(3)),
          short_time(static_cast<uint64_t>(q->int64(4))).c_str(),
          short_time(static_cast<uint64_t>(q->int64(5))).c_str());
    }
    if (r != SQLITE_DONE) {
      rc = report_error(store::sqlite_error(db, r, "read"));
      return;
    }
    rc = 0;
  });
}

}  // namespace privwatch::cli
