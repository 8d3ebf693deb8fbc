// Kernel capture: the privwatch BPF skeleton (RAII), configuration of its filters,
// attachment, ring-buffer consumption and drop accounting. Only the source layer uses this,
// and no libbpf type leaks out of this header.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "events.h"
#include "util/result.hpp"

namespace privwatch::capture {

// Kernel-side counters summed over CPUs: [event type][cause] (PW_CNT_*).
struct Counters {
  std::array<std::array<uint64_t, PW_CNT_MAX>, PW_EV_MAX> v{};
  [[nodiscard]] uint64_t total(int cause) const {
    uint64_t t = 0;
    for (const auto& row : v) t += row[cause];
    return t;
  }
};

// Called once per ring-buffer record, on the polling thread.
class RecordHandler {
 public:
  virtual ~RecordHandler() = default;
  virtual void on_record(std::span<const uint8_t> record) = 0;
};

class Capture {
 public:
  // Opens the skeleton, writes the configuration into its read-only data and maps,
  // loads (verifier), registers the syscall family programs and attaches.
  // Errors say what is missing and what to do.
  [[nodiscard]] static Result<std::unique_ptr<Capture>> start(const config::Config& cfg,
                                                              RecordHandler& handler);
  ~Capture();
  Capture(const Capture&) = delete;
  Capture& operator=(const Capture&) = delete;

  // Waits up to timeout_ms for a wakeup, then consumes pending records, at most ~2048 per call
  // and none written after the call began, so that it returns even while the kernel keeps
  // producing (the next call does not wait while records remain). timeout_ms == 0 is a drain:
  // every record written before the call, however many. Returns the number of records handled.
  [[nodiscard]] Result<int> poll(int timeout_ms);
  [[nodiscard]] Counters read_counters() const;
  [[nodiscard]] uint64_t ring_size_bytes() const;
  // Bytes written by the kernel and not yet consumed (0 when unknown).
  [[nodiscard]] uint64_t ring_used_bytes() const;
  // Adds an audit session to the kernel's kill map (respond "kill"): its monitored processes
  // are killed at their next exec or connect. Bounded (1024 sessions).
  [[nodiscard]] Status quarantine_session(uint32_t audit_session);

 private:
  struct Impl;
  explicit Capture(std::unique_ptr<Impl> impl);
  void begin_pass(int max);
  // Consumes records written before begin_pass, at most its max (RingPass).
  void consume_pass();
  std::unique_ptr<Impl> impl_;
};

// Checks the requirements the agent cannot run without (privileges, BTF, kernel features).
// Used by the agent before loading, so that it fails with a clear message.
[[nodiscard]] Status check_requirements();

}  // namespace privwatch::capture
