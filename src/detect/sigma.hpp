// Sigma rules (https://sigmahq.io) for Linux imported into the engine: logsource product linux,
// categories process_creation, file_event, network_connection. Sigma field names map onto ours
// (Image → process.executable, CommandLine → process.command_line, ...; docs/rules.md).
#pragma once

#include <yaml-cpp/yaml.h>

#include <memory>
#include <string>

#include "detect/rules.hpp"

namespace privwatch::detect {

// A YAML document is a Sigma rule when it has `detection:` and `logsource:` at the top.
[[nodiscard]] bool is_sigma_document(const YAML::Node& doc);

// Converts one Sigma document. The error says why the rule cannot be imported (unsupported
// logsource, modifier, field or condition), with file:line:column.
[[nodiscard]] Result<std::unique_ptr<Rule>> import_sigma(const YAML::Node& doc,
                                                         const std::string& origin);

}  // namespace privwatch::detect
