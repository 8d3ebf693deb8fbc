// libFuzzer target for the kernel record decoder: every byte from the ring buffer is
// outside input as far as user space is concerned (a kernel bug, a mismatched object).
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "events.h"
#include "source/decode.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace privwatch;
  model::Event ev;
  source::DecodeOptions opts;
  opts.max_args = 8;

  // Mode 1: the raw bytes as a record.
  (void)source::decode_record({data, size}, opts, ev);

  // Mode 2: a well-formed header around fuzzed payload bytes, so the per-type decoders
  // (string references, argv splitting, path normalisation) are reached.
  if (size >= 1) {
    std::vector<uint8_t> rec(sizeof(pw_event_hdr) + size - 1 + 512, 0);
    pw_event_hdr h{};
    h.type = static_cast<uint16_t>(1 + data[0] % (PW_EV_MAX - 1));
    h.version = PRIVWATCH_EVENTS_SCHEMA_VERSION;
    const size_t total = sizeof(pw_event_hdr) + (size - 1) + (data[0] & 0x80 ? 512 : 0);
    rec.resize(total);
    h.size = static_cast<uint32_t>(total);
    std::memcpy(rec.data(), &h, sizeof(h));
    std::memcpy(rec.data() + sizeof(h), data + 1, size - 1);
    (void)source::decode_record(rec, opts, ev);
  }
  return 0;
}
