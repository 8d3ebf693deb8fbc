#include "source/kernel_source.hpp"

#include <algorithm>

#include "capture/capture.hpp"

namespace privwatch::source {

struct KernelSource::Impl : capture::RecordHandler {
  std::unique_ptr<capture::Capture> capture;
  DecodeOptions opts;
  model::Event ev;  // reused: no allocation per event in steady state
  EventSink* sink = nullptr;
  SourceStats stats;

  void on_record(std::span<const uint8_t> rec) override {
    const DecodeStatus st = decode_record(rec, opts, ev);
    if (st != DecodeStatus::kOk) {
      stats.decode_errors[static_cast<size_t>(st)]++;
      return;
    }
    stats.received[static_cast<size_t>(ev.kind)]++;
    if (sink != nullptr) sink->on_event(ev);
  }
};

KernelSource::KernelSource(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KernelSource::~KernelSource() = default;

Result<std::unique_ptr<KernelSource>> KernelSource::start(const config::Config& cfg) {
  auto impl = std::make_unique<Impl>();
  impl->opts.max_args = cfg.capture.max_args;
  auto cap = capture::Capture::start(cfg, *impl);
  if (!cap) return cap.error();
  impl->capture = std::move(*cap);
  impl->stats.ring_size_bytes = impl->capture->ring_size_bytes();
  return std::unique_ptr<KernelSource>(new KernelSource(std::move(impl)));
}

Result<size_t> KernelSource::poll(EventSink& sink, int timeout_ms) {
  impl_->sink = &sink;
  // The backlog the kernel built up while the agent was busy: the fill level that matters.
  impl_->stats.ring_peak_used_bytes =
      std::max(impl_->stats.ring_peak_used_bytes, impl_->capture->ring_used_bytes());
  auto n = impl_->capture->poll(timeout_ms);
  impl_->sink = nullptr;
  if (!n) return n.error();
  return static_cast<size_t>(*n);
}

Status KernelSource::quarantine_session(uint32_t audit_session) {
  return impl_->capture->quarantine_session(audit_session);
}

SourceStats KernelSource::stats() const {
  SourceStats s = impl_->stats;
  s.ring_used_bytes = impl_->capture->ring_used_bytes();
  const capture::Counters c = impl_->capture->read_counters();
  for (size_t t = 1; t < model::kEventKindCount; ++t) {
    s.kernel_emitted[t] = c.v[t][PW_CNT_EMITTED];
    s.kernel_lost[t] = c.v[t][PW_CNT_RINGBUF_FULL] + c.v[t][PW_CNT_SCRATCH_FAIL];
    s.kernel_truncated[t] = c.v[t][PW_CNT_TRUNCATED];
    s.kernel_read_fail[t] = c.v[t][PW_CNT_READ_FAIL];
    s.kernel_killed[t] = c.v[t][PW_CNT_KILLED];
  }
  return s;
}

}  // namespace privwatch::source
