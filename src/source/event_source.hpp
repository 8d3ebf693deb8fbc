// EventSource: where typed events come from (today the kernel; later a recorded file).
// Everything after the source is identical whichever one feeds it.
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "model/event.hpp"
#include "source/decode.hpp"
#include "util/result.hpp"

namespace privwatch::source {

class EventSink {
 public:
  virtual ~EventSink() = default;
  // `ev` is only valid during the call; the source reuses it.
  virtual void on_event(model::Event& ev) = 0;
};

// Loss and volume accounting, by event kind (index = EventKind value) and cause.
struct SourceStats {
  std::array<uint64_t, model::kEventKindCount> received{};        // decoded and delivered
  std::array<uint64_t, model::kEventKindCount> kernel_emitted{};  // written by the kernel
  std::array<uint64_t, model::kEventKindCount> kernel_lost{};     // ring buffer full / no scratch
  std::array<uint64_t, model::kEventKindCount> kernel_truncated{};
  std::array<uint64_t, model::kEventKindCount> kernel_read_fail{};
  std::array<uint64_t, model::kEventKindCount> kernel_killed{};  // SIGKILL sent (respond.kill)
  std::array<uint64_t, kDecodeStatusCount> decode_errors{};      // by DecodeStatus
  uint64_t ring_size_bytes = 0;
  uint64_t ring_used_bytes = 0;       // not yet consumed, sampled by stats()
  uint64_t ring_peak_used_bytes = 0;  // highest backlog found before a drain, since start

  [[nodiscard]] uint64_t total_received() const;
  [[nodiscard]] uint64_t total_lost() const;  // kernel losses + decode errors
};

class EventSource {
 public:
  virtual ~EventSource() = default;
  // Delivers what is pending, waiting at most timeout_ms for more. Returns events delivered.
  [[nodiscard]] virtual Result<size_t> poll(EventSink& sink, int timeout_ms) = 0;
  [[nodiscard]] virtual SourceStats stats() const = 0;
  // True when the source has nothing more to give (a replayed file at its end).
  [[nodiscard]] virtual bool exhausted() const { return false; }
};

}  // namespace privwatch::source
