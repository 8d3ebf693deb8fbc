// Behavioural baselines (UEBA) per user, role and cluster: streaming, bounded-memory, decayed
// statistics per entity and feature; a calibrated rarity per dimension; an alert when
// deviations coincide in several dimensions, weighted by how sensitive the action is.
// docs/baselines.md explains the model, the scores and every knob.
//
// Wiring: the pipeline calls process() for every event after enrichment and attribution
// (host, cluster, human, roles, session, escalated), on one thread. The engine keeps no
// locks; it is not thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"
#include "model/alert.hpp"
#include "model/event.hpp"
#include "ueba/features.hpp"
#include "ueba/geoip.hpp"
#include "ueba/table.hpp"
#include "util/result.hpp"

namespace privwatch::ueba {

struct EngineStats {
  uint64_t events = 0;            // events seen
  uint64_t observations = 0;      // features extracted
  uint64_t unattributed = 0;      // events with no user identity (not learned, not scored)
  uint64_t learned = 0;           // events learned as normal
  uint64_t alerts = 0;            // alerts raised
  uint64_t duplicates = 0;        // repeats folded into an earlier alert (not learned either)
  uint64_t rollouts = 0;          // alert candidates learned as a fleet-wide change instead
  uint64_t recurrences = 0;       // alert candidates learned as a user's recurring new normal
  uint64_t feedback_applied = 0;  // benign verdicts folded into the baselines
  uint64_t feedback_unknown = 0;  // verdicts for alerts this engine does not remember
  uint64_t feedback_invalid = 0;  // unreadable feedback lines
  uint64_t entity_evictions = 0;
  uint64_t value_evictions = 0;
  std::array<uint64_t, kDimCount> entities{};  // by dimension
  std::array<uint64_t, kDimCount> mature{};    // maturity 1.0, by dimension
  size_t memory_bytes = 0;                     // tables, entities and names
};

// One entity as `privwatch baseline status` shows it.
struct EntityInfo {
  Dim dim;
  std::string name;
  double maturity = 0;
  uint64_t events = 0;
  uint64_t first_seen_ns = 0, last_seen_ns = 0;
  size_t values = 0;
};

class Engine {
 public:
  // `default_host`: the host name used when events carry no attribution (a lone agent).
  // `utc_offset_s`: local time for the time-of-week feature.
  [[nodiscard]] static Result<std::unique_ptr<Engine>> create(const config::BaselinesConfig& cfg,
                                                              std::string default_host,
                                                              int64_t utc_offset_s);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Scores `ev` against what is known, then learns it unless it raised (or repeated) an alert.
  [[nodiscard]] std::optional<model::Alert> process(const model::Event& ev);

  // Analyst verdict: the alert's observations are learned as normal (with extra weight), so
  // the same behaviour no longer alerts. False when the alert is not remembered (too old,
  // or raised by another engine).
  bool mark_benign(const std::string& alert_id);
  // Reads verdicts appended to the feedback file since the last call (the position survives
  // restarts in the snapshot). Returns how many were applied.
  Result<size_t> apply_feedback_file();

  // Snapshot: written to path.tmp, fsynced, renamed over path.
  [[nodiscard]] Status save(const std::string& path) const;
  [[nodiscard]] Status load(const std::string& path);
  // Saves to state_file when snapshot_interval_s passed since the last save (monotonic clock).
  [[nodiscard]] Status maybe_save();

  [[nodiscard]] EngineStats stats() const;
  [[nodiscard]] std::vector<EntityInfo> entities() const;
  [[nodiscard]] double maturity(Dim d, const std::string& name) const;
  [[nodiscard]] const config::BaselinesConfig& config() const { return cfg_; }

 private:
  struct Entity;
  struct Pending;
  struct Scored;
  Engine(const config::BaselinesConfig& cfg, std::string host, int64_t utc_offset_s);

  Entity* find(Dim d, const std::string& name) const;
  Entity* get(Dim d, const std::string& name, uint64_t now);
  [[nodiscard]] double maturity_of(const Entity& e, uint64_t now) const;
  void advance_time(uint64_t now);
  void learn(Entity& e, const Observation& o, float w, uint64_t now);
  [[nodiscard]] model::Alert make_alert(const model::Event& ev, const std::string& user,
                                        const Scored& s, uint64_t now);

  config::BaselinesConfig cfg_;
  std::string host_;
  int64_t utc_offset_s_;
  Networks nets_;
  std::unique_ptr<GeoIp> geo_;
  Extractor extractor_;
  double half_life_ns_;
  uint64_t landmark_ns_ = 0;  // forward-decay landmark (0 until the first event)
  uint64_t last_ns_ = 0;      // latest event time seen
  std::unordered_map<uint64_t, std::unique_ptr<Entity>> entities_;
  std::unordered_map<uint64_t, uint64_t> recent_alerts_;  // dedup key → last alert time
  struct Rollout {
    uint64_t first_ns = 0;
    std::vector<uint64_t> users;
  };
  std::unordered_map<uint64_t, Rollout> rollouts_;
  struct Recurrence {
    uint64_t last_day = 0;
    uint32_t days = 0;
  };
  std::unordered_map<uint64_t, Recurrence> recurrences_;  // dedup key → days it alerted
  std::deque<Pending> pending_;  // alerts that feedback can still fold back
  uint64_t feedback_offset_ = 0;
  std::string alert_prefix_;
  uint64_t alert_counter_ = 0;
  mutable EngineStats stats_;
  uint64_t last_save_mono_ns_ = 0;
  std::array<Observation, kFeatureCount> obs_;  // reused per event
};

// Appends one verdict to a feedback file (one JSON object per line, O_APPEND, fsynced):
// {"alert_id": ..., "verdict": "benign", "time": ..., "analyst": ...}.
[[nodiscard]] Status append_feedback(const std::string& path, const std::string& alert_id,
                                     const std::string& verdict, const std::string& analyst);

}  // namespace privwatch::ueba
