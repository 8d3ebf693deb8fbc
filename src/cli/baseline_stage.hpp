// The baselines stage of a pipeline (agent or import): ueba::Engine per event, alerts out to
// the JSON lines output and every sink's on_alert, analyst feedback folded in and snapshots
// written on tick(), a final snapshot on close().
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "config/config.hpp"
#include "model/alert.hpp"
#include "model/event.hpp"
#include "ueba/engine.hpp"
#include "util/result.hpp"

namespace privwatch::cli {

class BaselineStage {
 public:
  using AlertFn = std::function<void(const model::Alert&)>;
  // Null (and no error) when baselines.enabled is false.
  [[nodiscard]] static Result<std::unique_ptr<BaselineStage>> create(
      const config::BaselinesConfig& cfg, const std::string& host, AlertFn emit);
  void on_event(const model::Event& ev) {
    if (auto a = engine_->process(ev)) emit_(*a);
  }
  // Once a second or so: feedback file, periodic snapshot. Problems are logged once each.
  void tick();
  // Final snapshot.
  void close();
  [[nodiscard]] ueba::Engine& engine() { return *engine_; }

 private:
  BaselineStage(std::unique_ptr<ueba::Engine> e, AlertFn emit)
      : engine_(std::move(e)), emit_(std::move(emit)) {}
  std::unique_ptr<ueba::Engine> engine_;
  AlertFn emit_;
  bool feedback_warned_ = false, save_warned_ = false;
};

// Local time offset for the time-of-week feature (this host's zone, now).
[[nodiscard]] int64_t local_utc_offset_s();

}  // namespace privwatch::cli
