// The kernel source: privwatch's eBPF capture, decoded into typed events.
#pragma once

#include <memory>

#include "config/config.hpp"
#include "source/event_source.hpp"

namespace privwatch::source {

class KernelSource : public EventSource {
 public:
  // Loads and attaches the kernel programs. Fails with a clear message when a requirement
  // (privileges, BTF, kernel features) is missing.
  [[nodiscard]] static Result<std::unique_ptr<KernelSource>> start(const config::Config& cfg);
  ~KernelSource() override;

  Result<size_t> poll(EventSink& sink, int timeout_ms) override;
  SourceStats stats() const override;
  // respond: from now on, the kernel kills any monitored process of this audit session at
  // its next exec or connect (docs/response.md).
  [[nodiscard]] Status quarantine_session(uint32_t audit_session);

 private:
  struct Impl;
  explicit KernelSource(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace privwatch::source
