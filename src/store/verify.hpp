// privwatch verify: recompute the hash chain, check every signature, compare with checkpoints
// kept off the host, and name the first record that was edited, deleted or reordered, or where
// the store was truncated.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace privwatch::store {

struct VerifyOptions {
  uint64_t from = 0;  // first record to check (0: the first); starts at the last signed
  uint64_t to = 0;    //   checkpoint at or before it. Last record to check (0: the end)
  // The public key to trust: "ed25519:<hex>", hex or a file. Empty: the key stored in the
  // database (a weaker check: whoever can rewrite the file can replace it; said in the notes).
  std::string public_key;
  // Off-host checkpoint files (JSON lines, as written by store.checkpoint_file).
  std::vector<std::string> checkpoint_files;
  bool integrity_check = true;  // PRAGMA integrity_check first (reads the whole file)
  size_t max_problems = 50;
};

struct VerifyProblem {
  uint64_t seq = 0;  // the record concerned (0: the file as a whole)
  std::string what;  // "edited", "deleted", "truncated", "signature", "damaged"
  std::string detail;
};

struct VerifyReport {
  std::string chain_id;
  uint64_t first_seq = 0, last_seq = 0;
  uint64_t records = 0, checkpoints = 0, tombstones = 0, pruned = 0;
  uint64_t offhost_checkpoints = 0;     // off-host checkpoints compared
  uint64_t last_signed_seq = 0;         // newest record covered by a valid signed checkpoint
  std::vector<VerifyProblem> problems;  // in record order
  std::vector<std::string> notes;
  [[nodiscard]] bool ok() const { return problems.empty(); }
};

[[nodiscard]] Result<VerifyReport> verify_store(const std::string& db_path,
                                                const VerifyOptions& options);

// Human-readable report (what the CLI prints).
[[nodiscard]] std::string format_report(const VerifyReport& r);

}  // namespace privwatch::store
