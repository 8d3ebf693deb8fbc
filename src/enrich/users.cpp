#include "enrich/users.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <utility>
#include <vector>

#include "model/event.hpp"

namespace privwatch::enrich {

namespace {

const std::string kEmpty;

uint64_t boottime_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// getpwuid_r / getgrgid_r with a buffer that grows on ERANGE.
template <typename Rec, typename Fn, typename Name>
LookupResult nss_lookup(uint32_t id, std::string& name, long size_hint, Fn fn, Name get_name) {
  std::vector<char> buf(size_hint > 0 ? static_cast<size_t>(size_hint) : 16384);
  for (;;) {
    Rec rec{};
    Rec* out = nullptr;
    const int rc = fn(id, &rec, buf.data(), buf.size(), &out);
    if (rc == ERANGE && buf.size() < (1u << 20)) {
      buf.resize(buf.size() * 2);
      continue;
    }
    if (rc == EINTR) continue;
    if (out != nullptr) {
      name.assign(get_name(*out));
      return LookupResult::kFound;
    }
    // 0 (and, per POSIX, ENOENT/ESRCH/EBADF/EPERM on some implementations) mean "no entry".
    if (rc == 0 || rc == ENOENT || rc == ESRCH || rc == EBADF || rc == EPERM) {
      return LookupResult::kNotFound;
    }
    return LookupResult::kError;
  }
}

}  // namespace

LookupResult nss_lookup_user(uint32_t uid, std::string& name) {
  return nss_lookup<passwd>(
      uid, name, ::sysconf(_SC_GETPW_R_SIZE_MAX),
      [](uint32_t id, passwd* rec, char* b, size_t n, passwd** out) {
        return ::getpwuid_r(id, rec, b, n, out);
      },
      [](const passwd& p) { return p.pw_name != nullptr ? p.pw_name : ""; });
}

LookupResult nss_lookup_group(uint32_t gid, std::string& name) {
  return nss_lookup<group>(
      gid, name, ::sysconf(_SC_GETGR_R_SIZE_MAX),
      [](uint32_t id, group* rec, char* b, size_t n, group** out) {
        return ::getgrgid_r(id, rec, b, n, out);
      },
      [](const group& g) { return g.gr_name != nullptr ? g.gr_name : ""; });
}

UserDirectory::UserDirectory(UserDirectoryOptions opts) : opts_(std::move(opts)) {
  opts_.capacity = std::max<size_t>(opts_.capacity, 1);
  if (!opts_.clock) opts_.clock = boottime_ns;
  if (!opts_.lookup_user) opts_.lookup_user = nss_lookup_user;
  if (!opts_.lookup_group) opts_.lookup_group = nss_lookup_group;
}

const std::string& UserDirectory::user_name(uint32_t uid) {
  return resolve(users_, opts_.lookup_user, uid);
}

const std::string& UserDirectory::group_name(uint32_t gid) {
  return resolve(groups_, opts_.lookup_group, gid);
}

const std::string& UserDirectory::resolve(Cache& cache, const IdLookup& lookup, uint32_t id) {
  if (id == model::kUnsetId) return kEmpty;
  const uint64_t now = opts_.clock();
  auto it = cache.find(id);
  if (it != cache.end() && now < it->second.expires_ns) return it->second.name;
  if (it == cache.end()) {
    if (cache.size() >= opts_.capacity) make_room(cache, now);
    it = cache.try_emplace(id).first;
  }
  Entry& e = it->second;
  ++lookups_;
  const LookupResult r = lookup(id, e.name);
  if (r != LookupResult::kFound) e.name.clear();  // negative cache
  e.fetched_ns = now;
  e.expires_ns = now + (r == LookupResult::kError ? opts_.error_ttl_ns : opts_.ttl_ns);
  return e.name;
}

// Drops expired entries; if that frees less than 1/8 of the cache, drops the oldest 1/8 too,
// so the O(n) pass runs at most once per capacity/8 inserts.
void UserDirectory::make_room(Cache& cache, uint64_t now) {
  const size_t before = cache.size();
  std::erase_if(cache, [now](const auto& kv) { return now >= kv.second.expires_ns; });
  const size_t batch = std::max<size_t>(opts_.capacity / 8, 1);
  if (cache.size() + batch > opts_.capacity) {
    scratch_.clear();
    for (const auto& [id, e] : cache) scratch_.emplace_back(e.fetched_ns, id);
    const size_t n = std::min(scratch_.size(), cache.size() + batch - opts_.capacity);
    std::nth_element(scratch_.begin(), scratch_.begin() + static_cast<ptrdiff_t>(n),
                     scratch_.end());
    for (size_t i = 0; i < n; ++i) cache.erase(scratch_[i].second);
  }
  evictions_ += before - cache.size();
}

}  // namespace privwatch::enrich
