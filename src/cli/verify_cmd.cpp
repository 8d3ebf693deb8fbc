// privwatch verify: is the store complete and untampered?
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/store_cmd.hpp"
#include "store/verify.hpp"
#include "util/log.hpp"

namespace privwatch::cli {

void add_verify_command(CLI::App& app, int& rc) {
  struct Opts {
    StoreLocation loc;
    store::VerifyOptions v;
    bool no_integrity = false;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand(
      "verify",
      "check the store's hash chain and signatures; name the first record that was edited, "
      "deleted or reordered, or where the store was truncated (exit 1)");
  o->loc.add_options(cmd);
  cmd->add_option("--pubkey", o->v.public_key,
                  "trusted public key (ed25519:<hex> or a file, from 'privwatch store pubkey'); "
                  "default: the key stored in the database");
  cmd->add_option("--checkpoints", o->v.checkpoint_files,
                  "off-host checkpoint file(s) (store.checkpoint_file): detects truncation");
  cmd->add_option("--from", o->v.from, "first record (seq) to check");
  cmd->add_option("--to", o->v.to, "last record (seq) to check");
  cmd->add_flag("--no-integrity-check", o->no_integrity,
                "skip SQLite's page-level integrity check (faster on large stores)");
  cmd->add_flag("--json", o->json, "print the result as JSON");
  cmd->callback([&rc, o] {
    log::init("warn");
    auto path = o->loc.db_path();
    if (!path) {
      rc = report_error(path.error());
      return;
    }
    o->v.integrity_check = !o->no_integrity;
    auto rep = store::verify_store(*path, o->v);
    if (!rep) {
      rc = report_error(rep.error());
      return;
    }
    if (o->json) {
      nlohmann::json j;
      j["ok"] = rep->ok();
      j["chain"] = rep->chain_id;
      j["records"] = rep->records;
      j["first_seq"] = rep->first_seq;
      j["last_seq"] = rep->last_seq;
      j["checkpoints"] = rep->checkpoints;
      j["tombstones"] = rep->tombstones;
      j["pruned"] = rep->pruned;
      j["offhost_checkpoints"] = rep->offhost_checkpoints;
      j["last_signed_seq"] = rep->last_signed_seq;
      j["problems"] = nlohmann::json::array();
      for (const auto& p : rep->problems) {
        j["problems"].push_back({{"seq", p.seq}, {"what", p.what}, {"detail", p.detail}});
      }
      j["notes"] = rep->notes;
      std::printf("%s\n", j.dump(2).c_str());
    } else {
      std::fputs(store::format_report(*rep).c_str(), stdout);
    }
    rc = rep->ok() ? 0 : 1;
  });
}

}  // namespace privwatch::cli
