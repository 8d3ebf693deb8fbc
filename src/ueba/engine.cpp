#include "ueba/engine.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "util/fd.hpp"
#include "util/file.hpp"

namespace privwatch::ueba {

namespace {

constexpr uint64_t kDayNs = 86400ull * 1'000'000'000ull;
constexpr double kMaxSurprise = 5.0;         // -log10 of the smallest tail we distinguish
constexpr double kMinMaturityToCount = 0.2;  // an entity this young cannot deviate yet
constexpr double kKnownCount = 3.0;          // decayed observations that make a value known
constexpr double kFeedbackWeight = 10.0;     // a benign verdict counts as ten observations
constexpr size_t kMaxPending = 4096;
constexpr size_t kMaxRoles = 4;
constexpr double kRescaleExponent = 40.0;  // landmark moves when weights reach 2^40

uint64_t entity_key(Dim d, std::string_view name) {
  uint64_t h = 1469598103934665603ull ^ (static_cast<uint64_t>(d) + 1) * 0x9E3779B97F4A7C15ull;
  for (unsigned char c : name) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

uint64_t mix64(uint64_t a, uint64_t b) {
  uint64_t h = a ^ (b + 0x9E3779B97F4A7C15ull + (a << 6) + (a >> 2));
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

uint64_t mono_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

// "14,302"
std::string grouped(double v) {
  const auto n = static_cast<uint64_t>(std::llround(std::max(0.0, v)));
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

std::string percent(double share) { return fmt::format("{:.1f}%", share * 100.0); }

std::string_view noun(Feature f) {
  switch (f) {
    case Feature::kParentChild:
      return "process starts";
    case Feature::kCommand:
      return "commands";
    case Feature::kFileArea:
      return "file accesses";
    case Feature::kDestination:
    case Feature::kCountry:
      return "connections";
    case Feature::kAction:
      return "kernel-level actions";
    default:
      return "executions";
  }
}

const std::string& user_identity(const model::Event& ev) {
  const model::Attribution& a = ev.attr;
  if (!a.service_account.empty()) return a.service_account;
  if (!a.human.empty()) return a.human;
  if (!ev.login_user_name.empty()) return ev.login_user_name;
  return ev.user_name;
}

}  // namespace

struct Engine::Entity {
  std::string name;
  Dim dim = Dim::kUser;
  uint64_t first_ns = 0, last_ns = 0;
  uint64_t events = 0;
  std::array<DecayedTable, kFeatureCount> tables;

  [[nodiscard]] size_t memory_bytes() const {
    size_t m = sizeof(*this) + name.capacity() + 48;  // + hash node
    for (const auto& t : tables) m += t.memory_bytes() - sizeof(DecayedTable);
    return m;
  }
};

struct Engine::Pending {
  std::string id;
  uint64_t wall_ns = 0;
  struct Obs {
    Dim dim;
    std::string entity;
    Feature feature;
    uint32_t key;
  };
  std::vector<Obs> obs;
};

// The evidence for one (feature, dimension) pair.
struct Evidence {
  bool present = false;  // the entity exists and the feature applies
  bool deviates = false;
  double count = 0;     // decayed count of this value
  double total = 0;     // decayed count of all values
  double tail = 1;      // share of history at most as rare (calibrated rarity)
  double surprise = 0;  // -log10(tail)
  double maturity = 0;
  double age_days = 0;
  const std::string* entity = nullptr;
};

struct Engine::Scored {
  // [observation][dim]
  std::array<std::array<Evidence, kDimCount>, kFeatureCount> ev{};
  size_t n = 0;
  std::array<double, kDimCount> dim_score{};
  std::array<int, kDimCount> dim_feature{-1, -1, -1};
  int dims = 0;
  double sensitivity = 0;
  double score = 0;
  int primary = -1;  // observation index behind the rule name
};

Engine::Engine(const config::BaselinesConfig& cfg, std::string host, int64_t utc_offset_s)
    : cfg_(cfg),
      host_(std::move(host)),
      utc_offset_s_(utc_offset_s),
      extractor_(nets_, nullptr, utc_offset_s),
      half_life_ns_(static_cast<double>(cfg.half_life_days) * static_cast<double>(kDayNs)) {
  std::random_device rd;
  alert_prefix_ = fmt::format("bl-{:08x}{:08x}-", rd(), rd());
}

Engine::~Engine() = default;

Result<std::unique_ptr<Engine>> Engine::create(const config::BaselinesConfig& cfg,
                                               std::string default_host, int64_t utc_offset_s) {
  std::unique_ptr<Engine> e(new Engine(cfg, std::move(default_host), utc_offset_s));
  for (const auto& cidr : cfg.internal_networks) {
    if (!e->nets_.add(cidr)) {
      return Error{ErrorKind::kInvalidArgument,
                   fmt::format("baselines.internal_networks: '{}' is not a CIDR", cidr),
                   "write networks as address/prefix, e.g. 10.20.0.0/16"};
    }
  }
  if (!cfg.geoip_database.empty()) {
    auto g = GeoIp::open(cfg.geoip_database);
    if (!g) return g.error();
    e->geo_ = std::move(*g);
    e->extractor_ = Extractor(e->nets_, e->geo_.get(), utc_offset_s);
  }
  if (!cfg.state_file.empty()) {
    struct stat st {};
    if (::stat(cfg.state_file.c_str(), &st) == 0) {
      if (auto s = e->load(cfg.state_file); !s) return s.error();
    }
  }
  e->last_save_mono_ns_ = mono_ns();
  return e;
}

// --- entities and time -------------------------------------------------------------------------

Engine::Entity* Engine::find(Dim d, const std::string& name) const {
  auto it = entities_.find(entity_key(d, name));
  return it == entities_.end() ? nullptr : it->second.get();
}

Engine::Entity* Engine::get(Dim d, const std::string& name, uint64_t now) {
  const uint64_t k = entity_key(d, name);
  auto it = entities_.find(k);
  if (it != entities_.end()) return it->second.get();
  if (entities_.size() >= cfg_.max_entities) {
    // The least recently seen entity leaves (rare: only when a new one arrives at the bound).
    auto victim = entities_.begin();
    for (auto i = entities_.begin(); i != entities_.end(); ++i) {
      if (i->second->last_ns < victim->second->last_ns) victim = i;
    }
    entities_.erase(victim);
    ++stats_.entity_evictions;
  }
  auto e = std::make_unique<Entity>();
  e->name = name;
  e->dim = d;
  e->first_ns = e->last_ns = now;
  Entity* raw = e.get();
  entities_.emplace(k, std::move(e));
  return raw;
}

double Engine::maturity_of(const Entity& e, uint64_t now) const {
  double m = 1.0;
  if (cfg_.learning_days > 0) {
    const double age = static_cast<double>(now > e.first_ns ? now - e.first_ns : 0) / kDayNs;
    m *= std::min(1.0, age / cfg_.learning_days);
  }
  if (cfg_.min_events > 0) {
    m *= std::min(1.0, static_cast<double>(e.events) / cfg_.min_events);
  }
  return m;
}

void Engine::advance_time(uint64_t now) {
  if (landmark_ns_ == 0) landmark_ns_ = now;
  if (now > last_ns_) last_ns_ = now;
  const double exponent =
      static_cast<double>(static_cast<int64_t>(now - landmark_ns_)) / half_life_ns_;
  if (exponent > kRescaleExponent) {
    const double shift = std::floor(exponent) - 1;
    const double factor = std::exp2(-shift);
    for (auto& [k, e] : entities_) {
      for (auto& t : e->tables) t.scale(factor);
    }
    landmark_ns_ += static_cast<uint64_t>(shift * half_life_ns_);
  }
}

void Engine::learn(Entity& e, const Observation& o, float w, uint64_t now) {
  (void)now;
  const uint32_t max_values = e.dim == Dim::kUser ? cfg_.max_values_user : cfg_.max_values_group;
  auto& t = e.tables[static_cast<size_t>(o.feature)];
  const uint64_t before = t.evictions();
  t.add(o.key, w, max_values);
  stats_.value_evictions += t.evictions() - before;
}

// --- scoring -------------------------------------------------------------------------------------

std::optional<model::Alert> Engine::process(const model::Event& ev) {
  ++stats_.events;
  const uint64_t now = ev.wall_time_ns != 0 ? ev.wall_time_ns : last_ns_;
  if (now == 0) return std::nullopt;  // no clock at all: nothing to place in time
  const std::string& user = user_identity(ev);
  if (user.empty()) {
    ++stats_.unattributed;
    return std::nullopt;
  }
  const size_t n = extractor_.extract(ev, obs_);
  if (n == 0) return std::nullopt;
  stats_.observations += n;
  advance_time(now);
  const double norm =
      std::exp2(-static_cast<double>(static_cast<int64_t>(now - landmark_ns_)) / half_life_ns_);
  const auto w = static_cast<float>(1.0 / norm);

  // The entities of the three dimensions.
  Entity* user_e = get(Dim::kUser, user, now);
  std::array<Entity*, kMaxRoles> roles{};
  size_t n_roles = 0;
  for (const auto& r : ev.attr.roles) {
    if (n_roles == kMaxRoles) break;
    if (!r.empty()) roles[n_roles++] = get(Dim::kRole, r, now);
  }
  const std::string& cluster_name = !ev.attr.cluster.empty() ? ev.attr.cluster
                                    : !ev.attr.host.empty()  ? ev.attr.host
                                                             : host_;
  Entity* cluster_e = cluster_name.empty() ? nullptr : get(Dim::kCluster, cluster_name, now);

  // Maturity and age once per entity and event.
  struct Judged {
    Entity* e;
    double maturity, age_days;
  };
  auto judged = [&](Entity* e) {
    return Judged{e, maturity_of(*e, now),
                  static_cast<double>(now > e->first_ns ? now - e->first_ns : 0) / kDayNs};
  };
  const Judged user_j = judged(user_e);
  std::array<Judged, kMaxRoles> roles_j{};
  for (size_t r = 0; r < n_roles; ++r) roles_j[r] = judged(roles[r]);
  const Judged cluster_j = cluster_e != nullptr ? judged(cluster_e) : Judged{nullptr, 0, 0};

  auto evidence = [&](const Judged& j, const Observation& o) {
    Entity& e = *j.e;
    Evidence x;
    x.present = true;
    x.entity = &e.name;
    x.maturity = j.maturity;
    x.age_days = j.age_days;
    const DecayedTable& t = e.tables[static_cast<size_t>(o.feature)];
    const double total = t.total();
    x.total = total * norm;
    const float wv = t.weight(o.key);
    x.count = wv * norm;
    if (x.total < 1.0) return x;  // nothing learned for this feature yet: no judgement
    const double share = wv / total;
    if (wv > 0 && (share > cfg_.rarity || x.count >= kKnownCount)) {
      x.tail = share;  // known: no need for the exact tail
    } else if (wv == 0) {
      // Never seen: as rare as the entity's own rate of new values (Good-Turing style).
      x.tail = (t.novel() * norm + 1.0) / (x.total + 1.0);
    } else {
      x.tail = std::min(1.0, (t.mass_at_most(wv) + t.novel()) * norm / (x.total + 1.0));
    }
    if (x.tail <= cfg_.rarity)
      x.surprise = std::min(kMaxSurprise, -std::log10(std::max(x.tail, 1e-12)));
    // A value seen a few times is known, however large the entity's history: rarity alone in a
    // big, diverse cluster is not a deviation.
    x.deviates =
        x.tail <= cfg_.rarity && x.count < kKnownCount && x.maturity >= kMinMaturityToCount;
    return x;
  };

  Scored s;
  s.n = n;
  double best_feature_sum = 0;
  std::array<double, kFeatureCount> feature_sum{};
  for (size_t i = 0; i < n; ++i) {
    const Observation& o = obs_[i];
    auto& row = s.ev[i];
    if (applies(o.feature, Dim::kUser)) row[0] = evidence(user_j, o);
    if (applies(o.feature, Dim::kRole) && n_roles > 0) {
      // Several roles: judged by the role for which this is most usual.
      for (size_t r = 0; r < n_roles; ++r) {
        Evidence x = evidence(roles_j[r], o);
        if (!row[1].present || x.tail > row[1].tail) row[1] = x;
      }
    }
    if (applies(o.feature, Dim::kCluster) && cluster_e != nullptr) row[2] = evidence(cluster_j, o);
    double sum = 0;
    for (size_t d = 0; d < kDimCount; ++d) {
      const Evidence& x = row[d];
      if (!x.deviates) continue;
      const double contribution = x.surprise * x.maturity;
      sum += contribution;
      s.sensitivity = std::max(s.sensitivity, weight(o.sensitivity));
      if (contribution > s.dim_score[d]) {
        s.dim_score[d] = contribution;
        s.dim_feature[d] = static_cast<int>(i);
      }
    }
    feature_sum[i] = sum;
    best_feature_sum = std::max(best_feature_sum, sum);
  }
  // The rule is named after the first feature (in extraction order: executable before its
  // derivatives) that carries nearly the whole evidence.
  for (size_t i = 0; i < n && best_feature_sum > 0; ++i) {
    if (feature_sum[i] >= 0.9 * best_feature_sum) {
      s.primary = static_cast<int>(i);
      break;
    }
  }
  for (size_t d = 0; d < kDimCount; ++d) {
    if (s.dim_feature[d] >= 0) ++s.dims;
    s.score += s.dim_score[d];
  }
  s.score *= s.sensitivity;
  const uint32_t required =
      s.sensitivity >= 2.0 ? cfg_.min_dimensions_critical : cfg_.min_dimensions;
  bool alert =
      s.primary >= 0 && s.dims >= static_cast<int>(required) && s.score >= cfg_.score_threshold;

  std::optional<model::Alert> out;
  if (alert) {
    const Observation& p = obs_[static_cast<size_t>(s.primary)];
    const uint64_t user_k = entity_key(Dim::kUser, user);
    const uint64_t dedup_k = mix64(user_k, (static_cast<uint64_t>(p.feature) << 32) | p.key);
    // A value new to several users of the same cluster at once is a rollout, not misuse.
    bool rollout = false;
    if (cfg_.rollout_users >= 2 && cluster_e != nullptr) {
      const uint64_t rk = mix64(entity_key(Dim::kCluster, cluster_e->name),
                                (static_cast<uint64_t>(p.feature) << 32) | p.key);
      Rollout& r = rollouts_[rk];
      if (r.first_ns == 0 || now - r.first_ns > 7 * kDayNs) r = Rollout{now, {}};
      if (std::find(r.users.begin(), r.users.end(), user_k) == r.users.end()) {
        r.users.push_back(user_k);
      }
      if (r.users.size() >= cfg_.rollout_users) rollout = true;
      if (rollouts_.size() > 65536) {
        for (auto it = rollouts_.begin(); it != rollouts_.end();) {
          it = now - it->second.first_ns > 7 * kDayNs ? rollouts_.erase(it) : std::next(it);
        }
      }
    }
    // The same user doing the same unusual thing on several different days: their new normal
    // (a role change, a new duty). It alerted on the first days.
    bool recurring = false;
    if (!rollout && cfg_.recurrence_days >= 2) {
      Recurrence& r = recurrences_[dedup_k];
      const uint64_t day = now / kDayNs;
      if (r.days == 0 || day > r.last_day + 14) r = Recurrence{day, 0};
      if (r.days == 0 || day != r.last_day) {
        ++r.days;
        r.last_day = day;
      }
      recurring = r.days >= cfg_.recurrence_days;
      if (recurrences_.size() > 65536) {
        for (auto it = recurrences_.begin(); it != recurrences_.end();) {
          it = it->second.last_day + 14 < day ? recurrences_.erase(it) : std::next(it);
        }
      }
    }
    if (rollout || recurring) {
      ++(rollout ? stats_.rollouts : stats_.recurrences);
      alert = false;
    } else {
      auto it = recent_alerts_.find(dedup_k);
      const uint64_t window = static_cast<uint64_t>(cfg_.dedup_window_s) * 1'000'000'000ull;
      if (it != recent_alerts_.end() && now >= it->second && now - it->second < window) {
        ++stats_.duplicates;
        return std::nullopt;  // folded into the earlier alert; not learned either
      }
      if (recent_alerts_.size() > 65536) {
        for (auto i = recent_alerts_.begin(); i != recent_alerts_.end();) {
          i = now - i->second >= window ? recent_alerts_.erase(i) : std::next(i);
        }
      }
      recent_alerts_[dedup_k] = now;
      out = make_alert(ev, user, s, now);
      ++stats_.alerts;
      // Remember what to learn if an analyst calls it benign.
      Pending pend{out->id, now, {}};
      for (size_t i = 0; i < n; ++i) {
        const Observation& o = obs_[i];
        if (applies(o.feature, Dim::kUser))
          pend.obs.push_back({Dim::kUser, user, o.feature, o.key});
        for (size_t r = 0; r < n_roles && applies(o.feature, Dim::kRole); ++r) {
          pend.obs.push_back({Dim::kRole, roles[r]->name, o.feature, o.key});
        }
        if (cluster_e != nullptr && applies(o.feature, Dim::kCluster)) {
          pend.obs.push_back({Dim::kCluster, cluster_e->name, o.feature, o.key});
        }
      }
      pending_.push_back(std::move(pend));
      if (pending_.size() > kMaxPending) pending_.pop_front();
    }
  }

  // Entities saw activity, whatever the verdict.
  user_e->last_ns = now;
  for (size_t r = 0; r < n_roles; ++r) roles[r]->last_ns = now;
  if (cluster_e != nullptr) cluster_e->last_ns = now;
  if (alert) return out;  // what raised an alert is not learned as normal

  ++stats_.learned;
  ++user_e->events;
  for (size_t r = 0; r < n_roles; ++r) ++roles[r]->events;
  if (cluster_e != nullptr) ++cluster_e->events;
  for (size_t i = 0; i < n; ++i) {
    const Observation& o = obs_[i];
    if (applies(o.feature, Dim::kUser)) learn(*user_e, o, w, now);
    for (size_t r = 0; r < n_roles && applies(o.feature, Dim::kRole); ++r) {
      learn(*roles[r], o, w, now);
    }
    if (cluster_e != nullptr && applies(o.feature, Dim::kCluster)) learn(*cluster_e, o, w, now);
  }
  return std::nullopt;
}

// --- alerts and explanations --------------------------------------------------------------------

model::Alert Engine::make_alert(const model::Event& ev, const std::string& user, const Scored& s,
                                uint64_t now) {
  model::Alert a;
  a.id = alert_prefix_ + std::to_string(++alert_counter_);
  a.wall_ns = now;
  a.source = "baseline";
  const Observation& p = obs_[static_cast<size_t>(s.primary)];
  a.rule = fmt::format("baseline:{}", to_string(p.feature));
  const bool critical = s.sensitivity >= 2.0;
  a.severity = s.dims >= 3 && critical                           ? model::Severity::kHigh
               : critical || s.score >= 2 * cfg_.score_threshold ? model::Severity::kMedium
                                                                 : model::Severity::kLow;
  a.host = !ev.attr.host.empty() ? ev.attr.host : host_;
  a.cluster = ev.attr.cluster;
  a.user = ev.user_name;
  a.human = user;
  a.roles = ev.attr.roles;
  if (ev.attr.session) a.session_id = ev.attr.session->id;
  if (ev.seq != 0) a.event_ids.push_back(std::to_string(ev.seq));

  // One clause per deviating feature, the primary first:
  // "nc: 0 of 14,302 executions by alice in 30 days; 0.0% for role dba; never on cluster x".
  auto clause = [&](size_t i) {
    const Observation& o = obs_[i];
    std::string c;
    const auto& row = s.ev[i];
    const bool hour = o.feature == Feature::kHour;
    for (size_t d = 0; d < kDimCount; ++d) {
      const Evidence& x = row[d];
      if (!x.present) continue;
      const double share = x.total > 0 ? x.count / x.total : 0;
      if (!c.empty()) c += "; ";
      switch (static_cast<Dim>(d)) {
        case Dim::kUser:
          if (hour) {
            c += fmt::format("{}: {} is active {} of the time in this hour", o.value, user,
                             percent(share));
          } else {
            c += fmt::format("{}: {} of {} {} by {} in {} days", o.value, grouped(x.count),
                             grouped(x.total), noun(o.feature), user,
                             std::max<int64_t>(
                                 1, std::llround(std::min(x.age_days, cfg_.half_life_days * 1.0))));
          }
          if (x.maturity < 1.0) c += fmt::format(" (still learning: maturity {:.2f})", x.maturity);
          break;
        case Dim::kRole:
          if (c.empty() || (row[0].present == false)) c += fmt::format("{}: ", o.value);
          c += fmt::format("{} for role {}", percent(share), *x.entity);
          break;
        case Dim::kCluster:
          if (!row[0].present && !row[1].present) c += fmt::format("{}: ", o.value);
          c += x.count < 0.5 ? fmt::format("never on cluster {}", *x.entity)
                             : fmt::format("{} on cluster {}", percent(share), *x.entity);
          break;
      }
    }
    return c;
  };
  std::string expl = clause(static_cast<size_t>(s.primary));
  std::string also;
  for (size_t i = 0; i < s.n; ++i) {
    if (static_cast<int>(i) == s.primary) continue;
    bool dev = false;
    for (const auto& x : s.ev[i]) dev = dev || x.deviates;
    if (!dev) continue;
    also += also.empty() ? "" : " | ";
    also += clause(i);
  }
  if (!also.empty()) expl += " | also unusual: " + also;
  a.explanation = std::move(expl);

  std::string dims;
  for (size_t d = 0; d < kDimCount; ++d) {
    if (s.dim_feature[d] < 0) continue;
    if (!dims.empty()) dims += ", ";
    dims += to_string(static_cast<Dim>(d));
    if (d == 1)
      dims += " " + (s.ev[static_cast<size_t>(s.dim_feature[d])][d].entity
                         ? *s.ev[static_cast<size_t>(s.dim_feature[d])][d].entity
                         : std::string());
    if (d == 2) dims += " " + *s.ev[static_cast<size_t>(s.dim_feature[d])][d].entity;
  }
  a.title = fmt::format("{} on {}: unusual {} ({}) for {}", user, a.host, to_string(p.feature),
                        p.value, dims);

  nlohmann::json j;
  j["score"] = std::round(s.score * 100) / 100;
  j["threshold"] = cfg_.score_threshold;
  j["sensitivity"] = s.sensitivity;
  j["dimensions_deviating"] = s.dims;
  j["rarity_threshold"] = cfg_.rarity;
  j["half_life_days"] = cfg_.half_life_days;
  nlohmann::json feats = nlohmann::json::array();
  for (size_t i = 0; i < s.n; ++i) {
    const Observation& o = obs_[i];
    nlohmann::json f;
    f["feature"] = to_string(o.feature);
    f["value"] = o.value;
    f["sensitivity"] = to_string(o.sensitivity);
    nlohmann::json dj = nlohmann::json::array();
    for (size_t d = 0; d < kDimCount; ++d) {
      const Evidence& x = s.ev[i][d];
      if (!x.present) continue;
      dj.push_back(
          {{"dimension", to_string(static_cast<Dim>(d))},
           {"entity", *x.entity},
           {"count", std::round(x.count * 100) / 100},
           {"total", std::round(x.total * 100) / 100},
           {"rarity", x.tail},
           {"surprise",
            std::round(std::min(kMaxSurprise, -std::log10(std::max(x.tail, 1e-12))) * 1000) / 1000},
           {"maturity", std::round(x.maturity * 1000) / 1000},
           {"deviates", x.deviates}});
    }
    f["dimensions"] = std::move(dj);
    feats.push_back(std::move(f));
  }
  j["features"] = std::move(feats);
  a.details_json = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return a;
}

// --- feedback ---------------------------------------------------------------------------------

bool Engine::mark_benign(const std::string& alert_id) {
  auto it = std::find_if(pending_.begin(), pending_.end(),
                         [&](const Pending& p) { return p.id == alert_id; });
  if (it == pending_.end()) {
    ++stats_.feedback_unknown;
    return false;
  }
  const uint64_t now = std::max(last_ns_, it->wall_ns);
  advance_time(now);
  const double norm =
      std::exp2(-static_cast<double>(static_cast<int64_t>(now - landmark_ns_)) / half_life_ns_);
  const auto w = static_cast<float>(kFeedbackWeight / norm);
  for (const auto& o : it->obs) {
    Entity* e = get(o.dim, o.entity, now);
    Observation ob;
    ob.feature = o.feature;
    ob.key = o.key;
    learn(*e, ob, w, now);
  }
  pending_.erase(it);
  ++stats_.feedback_applied;
  return true;
}

Result<size_t> Engine::apply_feedback_file() {
  if (cfg_.feedback_file.empty()) return size_t{0};
  std::ifstream f(cfg_.feedback_file, std::ios::binary);
  if (!f) {
    if (errno == ENOENT) return size_t{0};  // nobody gave feedback yet
    return Error{ErrorKind::kIo,
                 fmt::format("cannot read the feedback file '{}': {}", cfg_.feedback_file,
                             std::strerror(errno)),
                 "check baselines.feedback_file and its permissions"};
  }
  f.seekg(0, std::ios::end);
  const auto size = static_cast<uint64_t>(f.tellg());
  if (size < feedback_offset_) feedback_offset_ = 0;  // truncated or replaced: start over
  f.seekg(static_cast<std::streamoff>(feedback_offset_));
  size_t applied = 0;
  std::string line;
  uint64_t pos = feedback_offset_;
  while (std::getline(f, line)) {
    if (f.eof()) break;  // a line still being written: read it next time
    pos += line.size() + 1;
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("alert_id") ||
        !j["alert_id"].is_string()) {
      ++stats_.feedback_invalid;
      continue;
    }
    const std::string verdict = j.value("verdict", "");
    if (verdict != "benign") continue;
    if (mark_benign(j["alert_id"].get<std::string>())) ++applied;
  }
  feedback_offset_ = pos;
  return applied;
}

Status append_feedback(const std::string& path, const std::string& alert_id,
                       const std::string& verdict, const std::string& analyst) {
  nlohmann::json j;
  j["alert_id"] = alert_id;
  j["verdict"] = verdict;
  j["time_ns"] = std::chrono::duration_cast<std::chrono::nanoseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
  j["analyst"] = analyst;
  const std::string line = j.dump() + "\n";
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
  if (fd.get() < 0) {
    return Error{ErrorKind::kIo,
                 fmt::format("cannot open the feedback file '{}': {}", path, std::strerror(errno)),
                 "check baselines.feedback_file in the agent configuration (its directory must "
                 "exist and be writable)"};
  }
  // One write() of one line with O_APPEND: concurrent analysts never interleave.
  const ssize_t n = ::write(fd.get(), line.data(), line.size());
  if (n != static_cast<ssize_t>(line.size()) || ::fsync(fd.get()) != 0) {
    return Error{ErrorKind::kIo,
                 fmt::format("cannot write the feedback file '{}': {}", path, std::strerror(errno)),
                 "check free space and permissions"};
  }
  return {};
}

// --- snapshot -----------------------------------------------------------------------------------

namespace {

constexpr char kMagic[8] = {'P', 'W', 'U', 'E', 'B', 'A', '0', '1'};
constexpr uint32_t kSnapshotVersion = 1;

class Writer {
 public:
  template <typename T>
  void pod(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    buf.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  void str(const std::string& s) {
    pod(static_cast<uint32_t>(s.size()));
    buf.append(s);
  }
  std::string buf;
};

class Reader {
 public:
  Reader(const char* p, size_t n) : p_(p), end_(p + n) {}
  template <typename T>
  bool pod(T& v) {
    if (static_cast<size_t>(end_ - p_) < sizeof v) return false;
    std::memcpy(&v, p_, sizeof v);
    p_ += sizeof v;
    return true;
  }
  bool str(std::string& s, size_t max = 1 << 20) {
    uint32_t n = 0;
    if (!pod(n) || n > max || static_cast<size_t>(end_ - p_) < n) return false;
    s.assign(p_, n);
    p_ += n;
    return true;
  }
  bool bytes(void* out, size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) return false;
    std::memcpy(out, p_, n);
    p_ += n;
    return true;
  }
  [[nodiscard]] bool done() const { return p_ == end_; }

 private:
  const char* p_;
  const char* end_;
};

uint64_t checksum(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace

Status Engine::save(const std::string& path) const {
  Writer w;
  w.buf.append(kMagic, sizeof kMagic);
  w.pod(kSnapshotVersion);
  w.pod(cfg_.half_life_days);
  w.pod(landmark_ns_);
  w.pod(last_ns_);
  w.pod(feedback_offset_);
  w.pod(static_cast<uint64_t>(entities_.size()));
  for (const auto& [k, e] : entities_) {
    w.str(e->name);
    w.pod(static_cast<uint8_t>(e->dim));
    w.pod(e->first_ns);
    w.pod(e->last_ns);
    w.pod(e->events);
    uint8_t used = 0;
    for (const auto& t : e->tables) used += t.total() > 0 ? 1 : 0;
    w.pod(used);
    for (size_t f = 0; f < kFeatureCount; ++f) {
      const DecayedTable& t = e->tables[f];
      if (t.total() <= 0) continue;
      w.pod(static_cast<uint8_t>(f));
      w.pod(t.total());
      w.pod(t.novel());
      w.pod(t.size());
      for (uint32_t i = 0; i < t.capacity(); ++i) {
        if (t.slots()[i].key != 0) w.pod(t.slots()[i]);
      }
    }
  }
  w.pod(static_cast<uint32_t>(pending_.size()));
  for (const auto& p : pending_) {
    w.str(p.id);
    w.pod(p.wall_ns);
    w.pod(static_cast<uint32_t>(p.obs.size()));
    for (const auto& o : p.obs) {
      w.pod(static_cast<uint8_t>(o.dim));
      w.str(o.entity);
      w.pod(static_cast<uint8_t>(o.feature));
      w.pod(o.key);
    }
  }
  w.pod(checksum(w.buf));

  if (auto s = util::write_file_atomic(
          path, w.buf, 0600,
          "check baselines.state_file: its directory must exist and be writable");
      !s) {
    Error e = s.error();
    e.message = "cannot save the baseline snapshot: " + e.message;
    return e;
  }
  return {};
}

Status Engine::load(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    return Error{
        ErrorKind::kIo,
        fmt::format("cannot read the baseline snapshot '{}': {}", path, std::strerror(errno)),
        "check baselines.state_file and its permissions"};
  }
  const std::string data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto corrupt = [&](std::string_view why) {
    return Error{ErrorKind::kCorrupt,
                 fmt::format("baseline snapshot '{}' is unusable: {}", path, why),
                 "move the file away to start learning afresh (or restore a backup); the agent "
                 "does not overwrite it while it cannot be read"};
  };
  if (data.size() < sizeof kMagic + 8 || std::memcmp(data.data(), kMagic, sizeof kMagic) != 0) {
    return corrupt("not a privwatch baseline snapshot");
  }
  uint64_t stored = 0;
  std::memcpy(&stored, data.data() + data.size() - 8, 8);
  if (checksum(std::string_view(data.data(), data.size() - 8)) != stored) {
    return corrupt("checksum mismatch (truncated or modified)");
  }
  Reader r(data.data() + sizeof kMagic, data.size() - sizeof kMagic - 8);
  uint32_t version = 0, half_life = 0;
  if (!r.pod(version) || version != kSnapshotVersion) {
    return corrupt(
        fmt::format("format version {} (this agent reads {})", version, kSnapshotVersion));
  }
  decltype(entities_) loaded;
  uint64_t landmark = 0, last = 0, fb = 0, count = 0;
  if (!r.pod(half_life) || !r.pod(landmark) || !r.pod(last) || !r.pod(fb) || !r.pod(count)) {
    return corrupt("truncated header");
  }
  std::vector<DecayedTable::Slot> slots;
  for (uint64_t i = 0; i < count; ++i) {
    auto e = std::make_unique<Entity>();
    uint8_t dim = 0, used = 0;
    if (!r.str(e->name, 4096) || !r.pod(dim) || dim >= kDimCount || !r.pod(e->first_ns) ||
        !r.pod(e->last_ns) || !r.pod(e->events) || !r.pod(used)) {
      return corrupt("truncated entity");
    }
    e->dim = static_cast<Dim>(dim);
    for (uint8_t u = 0; u < used; ++u) {
      uint8_t feat = 0;
      double total = 0, novel = 0;
      uint32_t size = 0;
      if (!r.pod(feat) || feat >= kFeatureCount || !r.pod(total) || !r.pod(novel) || !r.pod(size) ||
          size > (1u << 20)) {
        return corrupt("truncated feature table");
      }
      slots.resize(size);
      if (!r.bytes(slots.data(), size * sizeof(DecayedTable::Slot))) {
        return corrupt("truncated feature values");
      }
      const uint32_t max_values =
          e->dim == Dim::kUser ? cfg_.max_values_user : cfg_.max_values_group;
      e->tables[feat].restore(total, novel, slots.data(), size, max_values);
    }
    loaded.emplace(entity_key(e->dim, e->name), std::move(e));
  }
  std::deque<Pending> pending;
  uint32_t n_pending = 0;
  if (!r.pod(n_pending) || n_pending > kMaxPending) return corrupt("truncated alert list");
  for (uint32_t i = 0; i < n_pending; ++i) {
    Pending p;
    uint32_t n_obs = 0;
    if (!r.str(p.id, 256) || !r.pod(p.wall_ns) || !r.pod(n_obs) || n_obs > 1024) {
      return corrupt("truncated alert");
    }
    for (uint32_t k = 0; k < n_obs; ++k) {
      Pending::Obs o{};
      uint8_t dim = 0, feat = 0;
      if (!r.pod(dim) || dim >= kDimCount || !r.str(o.entity, 4096) || !r.pod(feat) ||
          feat >= kFeatureCount || !r.pod(o.key)) {
        return corrupt("truncated alert observation");
      }
      o.dim = static_cast<Dim>(dim);
      o.feature = static_cast<Feature>(feat);
      p.obs.push_back(std::move(o));
    }
    pending.push_back(std::move(p));
  }
  if (!r.done()) return corrupt("trailing bytes");
  if (half_life != cfg_.half_life_days && half_life != 0 && last > landmark) {
    // Weights are relative to the landmark in units of the old half-life: bring them to
    // decayed counts as of the last event, which is where the new half-life starts from.
    const double factor = std::exp2(-static_cast<double>(last - landmark) /
                                    (static_cast<double>(half_life) * kDayNs));
    for (auto& [k, e] : loaded) {
      for (auto& t : e->tables) t.scale(factor);
    }
    landmark = last;
  }
  entities_ = std::move(loaded);
  pending_ = std::move(pending);
  landmark_ns_ = landmark;
  last_ns_ = last;
  feedback_offset_ = fb;
  return {};
}

Status Engine::maybe_save() {
  if (cfg_.state_file.empty()) return {};
  const uint64_t now = mono_ns();
  if (now - last_save_mono_ns_ <
      static_cast<uint64_t>(cfg_.snapshot_interval_s) * 1'000'000'000ull) {
    return {};
  }
  last_save_mono_ns_ = now;
  return save(cfg_.state_file);
}

// --- introspection -------------------------------------------------------------------------------

EngineStats Engine::stats() const {
  EngineStats s = stats_;
  s.entities = {};
  s.mature = {};
  s.memory_bytes = sizeof(*this);
  for (const auto& [k, e] : entities_) {
    const auto d = static_cast<size_t>(e->dim);
    ++s.entities[d];
    if (maturity_of(*e, last_ns_) >= 1.0) ++s.mature[d];
    s.memory_bytes += e->memory_bytes();
  }
  s.memory_bytes += entities_.bucket_count() * sizeof(void*);
  return s;
}

std::vector<EntityInfo> Engine::entities() const {
  std::vector<EntityInfo> out;
  out.reserve(entities_.size());
  for (const auto& [k, e] : entities_) {
    size_t values = 0;
    for (const auto& t : e->tables) values += t.size();
    out.push_back(
        {e->dim, e->name, maturity_of(*e, last_ns_), e->events, e->first_ns, e->last_ns, values});
  }
  std::sort(out.begin(), out.end(), [](const EntityInfo& a, const EntityInfo& b) {
    return a.dim != b.dim ? a.dim < b.dim : a.name < b.name;
  });
  return out;
}

double Engine::maturity(Dim d, const std::string& name) const {
  const Entity* e = find(d, name);
  return e == nullptr ? 0.0 : maturity_of(*e, last_ns_);
}

}  // namespace privwatch::ueba
