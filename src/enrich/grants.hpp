// Access grants: approved privileged-access windows from grant files (a directory root alone can
// write, filled by `privwatch grant add` or an access-management tool) and from an API
// (GrantStore::add). The pipeline reads an immutable GrantSet snapshot; the Attributor adds the
// inventory's own grants (Inventory::grants()) to it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "enrich/inventory.hpp"
#include "util/result.hpp"

namespace privwatch::enrich {

class GrantSet {
 public:
  GrantSet() = default;
  explicit GrantSet(std::vector<Grant> grants) : grants_(std::move(grants)) {}

  // A grant for `user` covering (host, cluster) active at now_s, or null.
  [[nodiscard]] const Grant* active_for(std::string_view user, std::string_view host,
                                        std::string_view cluster, int64_t now_s) const;
  // Whether any grant (active or not) names (host, cluster).
  [[nodiscard]] bool any_for_host(std::string_view host, std::string_view cluster) const;
  [[nodiscard]] const std::vector<Grant>& grants() const { return grants_; }
  [[nodiscard]] bool empty() const { return grants_.empty(); }

 private:
  std::vector<Grant> grants_;
};

struct GrantLoadReport {
  size_t files = 0;             // grant files read
  size_t grants = 0;            // grants loaded
  std::vector<Error> rejected;  // files refused (bad YAML, unsafe ownership/permissions)
};

// Thread-safe: the CLI/API/reload threads change it, the pipeline takes snapshots.
class GrantStore {
 public:
  // Adds a grant (from an API call). Checked like a file entry: user, hosts or clusters,
  // from < until, ticket or reason.
  [[nodiscard]] Status add(Grant g);
  // Removes grants that ended more than keep_ended_s before now_s. Returns how many.
  size_t expire(int64_t now_s, int64_t keep_ended_s = 0);
  // Replaces the grants loaded from files with those in `path`: one YAML file, or a directory
  // of *.yaml / *.yml files. A missing path is no grants. Each file (and the directory) must be
  // owned by root (or this process's user) and not writable by group or others: only root
  // issues grants. Files that fail are reported in `rejected` and skipped.
  [[nodiscard]] Result<GrantLoadReport> load(const std::string& path);

  [[nodiscard]] std::shared_ptr<const GrantSet> snapshot() const;
  [[nodiscard]] size_t size() const;

 private:
  void rebuild_locked();
  mutable std::mutex mu_;
  std::vector<Grant> files_, api_;  // the inventory's own grants: Inventory::grants()
  std::shared_ptr<const GrantSet> snapshot_ = std::make_shared<GrantSet>();
};

// Checks one grant as a file entry would be checked; the error says what is missing.
[[nodiscard]] Status validate_grant(const Grant& g);

// Writes one grant as <dir>/<ticket or user>-<from>.yaml (mode 0600, atomically), creating dir
// (0700) when needed. Returns the file path.
[[nodiscard]] Result<std::string> write_grant_file(const std::string& dir, const Grant& g);

// "now", "+2h", "+30m", "+1d", or RFC 3339, relative to now_s.
[[nodiscard]] bool parse_time_arg(std::string_view text, int64_t now_s, int64_t& out);

}  // namespace privwatch::enrich
