// Tolerant access to JSON documents read back from files and the store (nlohmann::json):
// documents come from several producers and versions, so a missing member or a wrong type is
// "absent", never an exception.
#pragma once

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>

namespace privwatch::util {

// The member at `path` (object keys, outermost first), or nullptr.
inline const nlohmann::json* json_at(const nlohmann::json& j,
                                     std::initializer_list<const char*> path) {
  const nlohmann::json* p = &j;
  for (const char* k : path) {
    if (!p->is_object()) return nullptr;
    auto it = p->find(k);
    if (it == p->end()) return nullptr;
    p = &*it;
  }
  return p;
}

// The string at `path`, or "" when absent or not a string.
inline std::string json_str(const nlohmann::json& j, std::initializer_list<const char*> path) {
  const nlohmann::json* p = json_at(j, path);
  return p != nullptr && p->is_string() ? p->get<std::string>() : std::string();
}

}  // namespace privwatch::util
