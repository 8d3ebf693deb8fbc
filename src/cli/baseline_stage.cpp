#include "cli/baseline_stage.hpp"

#include <ctime>

#include "util/log.hpp"

namespace privwatch::cli {

int64_t local_utc_offset_s() {
  const time_t now = time(nullptr);
  tm local{};
  localtime_r(&now, &local);
  return local.tm_gmtoff;
}

Result<std::unique_ptr<BaselineStage>> BaselineStage::create(const config::BaselinesConfig& cfg,
                                                             const std::string& host,
                                                             AlertFn emit) {
  if (!cfg.enabled) return std::unique_ptr<BaselineStage>();
  auto e = ueba::Engine::create(cfg, host, local_utc_offset_s());
  if (!e) return e.error();
  std::unique_ptr<BaselineStage> s(new BaselineStage(std::move(*e), std::move(emit)));
  const auto st = s->engine_->stats();
  log::info("baselines: {} users, {} roles, {} clusters known{}", st.entities[0], st.entities[1],
            st.entities[2], cfg.state_file.empty() ? " (no state_file: learning is not kept)" : "");
  s->tick();
  return s;
}

void BaselineStage::tick() {
  if (auto n = engine_->apply_feedback_file(); !n) {
    if (!feedback_warned_) log::warn("baselines: {}", n.error().to_string());
    feedback_warned_ = true;
  } else if (*n > 0) {
    log::info("baselines: {} analyst verdict(s) folded into the baselines", *n);
  }
  if (auto s = engine_->maybe_save(); !s) {
    if (!save_warned_) log::warn("baselines: {}", s.error().to_string());
    save_warned_ = true;
  }
}

void BaselineStage::close() {
  (void)engine_->apply_feedback_file();
  const auto& path = engine_->config().state_file;
  if (path.empty()) return;
  if (auto s = engine_->save(path); !s) {
    log::warn("baselines: {}", s.error().to_string());
  }
}

}  // namespace privwatch::cli
