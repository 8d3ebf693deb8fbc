// The 200 Sigma-style rules of the detect benchmark (bench/RESULTS.md §6), shared with the
// prefilter differential test (tests/unit/detect/prefilter_test.cpp): process_creation,
// file_event and network_connection shapes with contains / endswith / startswith / wildcard /
// cidr selections and filters.
#pragma once

#include <fmt/format.h>

#include <string>

namespace privwatch::bench {

inline std::string sigma_rule(int i) {
  switch (i % 4) {
    case 0:
      return fmt::format(R"(title: Bench Process Rule {0}
logsource: {{product: linux, category: process_creation}}
detection:
  selection_img:
    Image|endswith: ['/tool{0}', '/helper{0}', '/agent{0}x']
  selection_cli:
    CommandLine|contains: ['--payload{0}', ' -enc{0} ', 'stage{0}.sh']
  filter:
    ParentImage|startswith: '/opt/vendor{0}/'
  condition: all of selection_* and not filter
level: medium
)",
                         i);
    case 1:
      return fmt::format(R"(title: Bench Wildcard Rule {0}
logsource: {{product: linux, category: process_creation}}
detection:
  selection:
    CommandLine|contains|all: ['curl{0}', '*|*sh{0}']
  selection2:
    Image: '/usr/bin/dropper{0}'
  condition: 1 of selection*
level: high
)",
                         i);
    case 2:
      return fmt::format(R"(title: Bench File Rule {0}
logsource: {{product: linux, category: file_event}}
detection:
  selection:
    TargetFilename|startswith: ['/etc/bench{0}/', '/var/lib/bench{0}/']
  selection2:
    TargetFilename|endswith: '.bench{0}'
  condition: selection or selection2
level: low
)",
                         i);
    default:
      return fmt::format(R"(title: Bench Network Rule {0}
logsource: {{product: linux, category: network_connection}}
detection:
  selection:
    Initiated: 'true'
    DestinationPort: [{1}, {2}]
  filter:
    DestinationIp|cidr: ['10.0.0.0/8', '192.168.0.0/16']
  condition: selection and not filter
level: medium
)",
                         i, 20000 + i, 30000 + i);
  }
}

}  // namespace privwatch::bench
