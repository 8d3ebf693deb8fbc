// uid/gid → name through NSS (so LDAP, SSSD and friends work), cached: bounded, with a TTL,
// negative entries included, so the hot path asks NSS at most once per id per TTL.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

namespace privwatch::enrich {

enum class LookupResult { kFound, kNotFound, kError };

// Resolves one id into name; the default implementations call getpwuid_r / getgrgid_r.
using IdLookup = std::function<LookupResult(uint32_t id, std::string& name)>;

struct UserDirectoryOptions {
  size_t capacity = 4096;                     // per cache (users, groups)
  uint64_t ttl_ns = 300'000'000'000ull;       // found and not-found entries
  uint64_t error_ttl_ns = 10'000'000'000ull;  // NSS errors (LDAP down): retry sooner
  std::function<uint64_t()> clock;            // ns, monotonic; default CLOCK_BOOTTIME
  IdLookup lookup_user;                       // default: getpwuid_r
  IdLookup lookup_group;                      // default: getgrgid_r
};

[[nodiscard]] LookupResult nss_lookup_user(uint32_t uid, std::string& name);
[[nodiscard]] LookupResult nss_lookup_group(uint32_t gid, std::string& name);

// Not thread-safe: one per pipeline thread.
class UserDirectory {
 public:
  explicit UserDirectory(UserDirectoryOptions opts = {});

  // "" for unknown ids and for 4294967295 (unset). The reference stays valid until the next
  // call to user_name() / group_name() respectively.
  [[nodiscard]] const std::string& user_name(uint32_t uid);
  [[nodiscard]] const std::string& group_name(uint32_t gid);

  [[nodiscard]] uint64_t lookups() const { return lookups_; }  // calls into NSS
  [[nodiscard]] uint64_t evictions() const { return evictions_; }
  [[nodiscard]] size_t users_cached() const { return users_.size(); }
  [[nodiscard]] size_t groups_cached() const { return groups_.size(); }

 private:
  struct Entry {
    std::string name;
    uint64_t fetched_ns = 0;
    uint64_t expires_ns = 0;
  };
  using Cache = std::unordered_map<uint32_t, Entry>;

  const std::string& resolve(Cache& cache, const IdLookup& lookup, uint32_t id);
  void make_room(Cache& cache, uint64_t now);

  UserDirectoryOptions opts_;
  Cache users_, groups_;
  std::vector<std::pair<uint64_t, uint32_t>> scratch_;  // reused by make_room
  uint64_t lookups_ = 0;
  uint64_t evictions_ = 0;
};

}  // namespace privwatch::enrich
