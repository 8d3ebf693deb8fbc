// Drift: an event of a service account compared with its declared profile, and privileged
// activity of a human compared with the access grants. Pure functions (no I/O, no state).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "enrich/grants.hpp"
#include "enrich/inventory.hpp"
#include "model/event.hpp"

namespace privwatch::enrich {

// Shells whose interactive use the profile's interactive_shell governs.
[[nodiscard]] bool is_shell(std::string_view exe_path);

// Read areas every process needs (the dynamic loader, libraries, locale, NSS files, /proc/self,
// /dev/null...): never drift. Listed in docs/inventory.md.
[[nodiscard]] bool is_runtime_read_area(std::string_view path);

// Whether a file event modifies (write-open, create, truncate, unlink, rename, chmod, chown,
// mkdir, rmdir, link, symlink) rather than reads.
[[nodiscard]] bool is_file_write(const model::FileData& f);

// kDrift{Executable,File,Destination,Shell} flags for `ev` against sa's profile; appends a
// reason per flag to `reason` ("; "-separated): what was declared, what happened.
uint32_t profile_drift(const model::Event& ev, const ServiceAccount& sa, std::string& reason);

// Privileged: uid or euid 0, or running escalated (attr.escalated).
[[nodiscard]] bool is_privileged(const model::Event& ev);

// kDriftNoGrant when `human` did privileged activity on (host, cluster) at now_s without an
// active grant; `grants` are the grants for this host (others are ignored). Appends the reason.
uint32_t grant_drift(const model::Event& ev, std::string_view human, std::string_view host,
                     std::string_view cluster, int64_t now_s, const GrantSet& grants,
                     std::string& reason);

}  // namespace privwatch::enrich
