// Sessions that ended while privwatch was not running. The store keeps the newest version of
// every session; one that was active when the agent stopped (or crashed) stays "active" there
// unless something closes it. At start the agent asks which of the stored active sessions of
// this host are still alive and closes the others with one more version: ended at some time
// before now (the end itself was not observed), and incomplete.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "store/record.hpp"
#include "store/store.hpp"
#include "util/result.hpp"

namespace privwatch::store {

// The closing versions to append (kind session, flagged ended): one per session of `host` whose
// newest stored version is active and for which `alive(id)` is false. At most `limit` sessions.
[[nodiscard]] Result<std::vector<Record>> close_unobserved_sessions(
    const Store& store, const std::string& host, uint64_t now_ns,
    const std::function<bool(const std::string& id)>& alive, size_t limit = 100000);

}  // namespace privwatch::store
