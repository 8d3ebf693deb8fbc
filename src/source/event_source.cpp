#include "source/event_source.hpp"

namespace privwatch::source {

uint64_t SourceStats::total_received() const {
  uint64_t t = 0;
  for (uint64_t v : received) t += v;
  return t;
}

uint64_t SourceStats::total_lost() const {
  uint64_t t = 0;
  for (uint64_t v : kernel_lost) t += v;
  for (size_t i = 1; i < decode_errors.size(); ++i) t += decode_errors[i];
  return t;
}

}  // namespace privwatch::source
