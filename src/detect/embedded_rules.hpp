// The default ruleset (config/rules/*.yaml) compiled into the binary: the fallback when
// neither the source tree's nor an installed copy is found (engine.hpp add_default_rules).
// The definition is generated at build time by cmake/embed_rules.cmake.
#pragma once

#include <cstddef>

namespace privwatch::detect {

struct EmbeddedRuleFile {
  const char* name;  // file name, e.g. "10-execution.yaml"
  const char* text;
};

extern const EmbeddedRuleFile kEmbeddedRuleFiles[];
extern const size_t kEmbeddedRuleFileCount;

}  // namespace privwatch::detect
