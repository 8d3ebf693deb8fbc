#include "detect/engine.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <deque>
#include <random>

#include "detect/embedded_rules.hpp"
#include "detect/literal_matcher.hpp"
#include "util/json_sink.hpp"

namespace privwatch::detect {

namespace {

constexpr size_t kMaxInstancesPerKey = 16;
constexpr size_t kMaxDedupEntries = 8192;
constexpr uint64_t kMinuteNs = 60'000'000'000ull;

uint64_t realtime_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

bool is_dir(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string self_exe_dir() {
  char buf[PATH_MAX] = {};
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return {};
  std::string p(buf, static_cast<size_t>(n));
  const size_t slash = p.rfind('/');
  return slash == std::string::npos ? std::string() : p.substr(0, slash);
}

}  // namespace

struct Engine::Impl {
  struct Instance {
    size_t next = 1;  // index of the step to match next
    uint64_t start_ns = 0;
    std::vector<std::string> captured;  // values for steps[next].same (right-hand fields)
    std::vector<uint64_t> seqs;
    std::string evidence;
  };
  struct RuleState {
    std::unordered_map<std::string, std::vector<Instance>> by_key;
    uint32_t pending_steps = 0;  // bit i: some instance waits for step i (a superset)
  };
  struct Dedup {
    uint64_t first_ns = 0;
    uint32_t suppressed = 0;
  };
  struct Bucket {
    double tokens = 0;
    uint64_t last_ns = 0;
    bool init = false;
  };

  // Single-event rules per kind: those without a necessary condition are always evaluated; the
  // others only when the event meets one of their needs (Node::necessary): an exact key (exe
  // basename, process name, destination port, file.write) or a literal the literal matcher of
  // that field finds in the event.
  static constexpr std::string_view kKeyFields[] = {"process.executable", "process.name",
                                                    "destination.port", "file.write"};
  struct LiteralIndex {
    const FieldDef* field = nullptr;
    LiteralMatcher matcher;  // payload: rule index
  };
  struct KindIndex {
    std::vector<size_t> unguarded;
    std::array<std::unordered_map<std::string, std::vector<size_t>>, 4> by;
    std::vector<LiteralIndex> literals;
    bool any = false;
  };
  std::array<KindIndex, model::kEventKindCount> single_by_kind;
  std::vector<size_t> candidates;
  std::vector<uint32_t> stamp;  // by rule index: == stamp_epoch when already a candidate
  uint32_t stamp_epoch = 0;
  std::string key_buf;
  IndexInfo index_info;  // counts of (kind, rule) pairs
  const FieldDef* exe_field = find_field("process.executable");
  const FieldDef* file_write_field = find_field("file.write");
  std::array<std::vector<size_t>, model::kEventKindCount> seq_by_kind;
  std::vector<RuleState> seq_state;  // by rule index
  std::vector<Bucket> buckets;       // by rule index
  std::unordered_map<std::string, Dedup> dedup;
  std::unordered_map<uint32_t, uint32_t> tree_root;  // pid → root pid of its subtree
  uint64_t last_sweep_ns = 0;
  EvalCtx ctx;
  std::mt19937_64 rng{std::random_device{}()};
  uint64_t id_prefix = 0;
  uint64_t id_counter = 0;
};

Engine::Engine(RuleSet rules, EngineOptions opts)
    : rules_(std::move(rules)), opts_(std::move(opts)), impl_(std::make_unique<Impl>()) {
  if (opts_.self_pid == 0) opts_.self_pid = static_cast<uint32_t>(::getpid());
  impl_->ctx.self_pid = opts_.self_pid;
  impl_->id_prefix = impl_->rng();
  const size_t n = rules_.rules.size();
  impl_->seq_state.resize(n);
  impl_->buckets.resize(n);
  alerts_by_rule_.assign(n, 0);
  impl_->stamp.assign(n, 0);
  // Needs with a larger score (a share of the events) are not worth an index lookup.
  constexpr double kMaxNeedScore = 1.0;
  for (size_t i = 0; i < n; ++i) {
    const Rule& r = *rules_.rules[i];
    for (size_t k = 1; k < model::kEventKindCount; ++k) {
      if ((r.kinds & (1u << k)) == 0) continue;
      if (r.sequence) {
        impl_->seq_by_kind[k].push_back(i);
        continue;
      }
      auto& ki = impl_->single_by_kind[k];
      Needs needs;
      const bool guarded = opts_.rule_index != RuleIndex::kNone &&
                           r.condition->necessary(k, opts_.rule_index == RuleIndex::kFull, needs) &&
                           need_score(needs) < kMaxNeedScore;
      if (!guarded) {
        ki.unguarded.push_back(i);
        ++impl_->index_info.unguarded;
        continue;
      }
      const bool by_literal = std::any_of(
          needs.begin(), needs.end(), [](const Need& x) { return x.type == Need::Type::kLiteral; });
      ++(by_literal ? impl_->index_info.by_literal : impl_->index_info.by_key);
      ki.any = true;  // (no needs at all: the rule is never true for this kind)
      for (const auto& need : needs) {
        if (need.type == Need::Type::kKey) {
          size_t g = 0;
          while (Impl::kKeyFields[g] != need.field->name) ++g;
          auto& v = ki.by[g][need.value];
          if (v.empty() || v.back() != i) v.push_back(i);
          continue;
        }
        auto it = std::find_if(ki.literals.begin(), ki.literals.end(),
                               [&](const Impl::LiteralIndex& l) { return l.field == need.field; });
        if (it == ki.literals.end()) {
          ki.literals.emplace_back();
          it = std::prev(ki.literals.end());
          it->field = need.field;
        }
        it->matcher.add(need.value, static_cast<uint32_t>(i));
      }
    }
  }
  for (auto& ki : impl_->single_by_kind) {
    for (auto& l : ki.literals) l.matcher.build();
  }
}

Engine::IndexInfo Engine::index_info() const {
  IndexInfo info = impl_->index_info;
  for (const auto& ki : impl_->single_by_kind) {
    for (const auto& l : ki.literals) {
      info.literals += l.matcher.literals();
      info.automaton_bytes += l.matcher.memory_bytes();
    }
  }
  return info;
}

Engine::~Engine() = default;

const Rule* Engine::rule(std::string_view name) const {
  for (const auto& r : rules_.rules) {
    if (r->name == name) return r.get();
  }
  return nullptr;
}

void Engine::take_state_from(Engine& old) {
  const uint64_t states = stats_.sequence_states;
  stats_ = old.stats_;
  stats_.sequence_states = states;
  impl_->dedup = std::move(old.impl_->dedup);
  impl_->tree_root = std::move(old.impl_->tree_root);
  for (size_t i = 0; i < rules_.rules.size(); ++i) {
    for (size_t j = 0; j < old.rules_.rules.size(); ++j) {
      if (old.rules_.rules[j]->name != rules_.rules[i]->name) continue;
      alerts_by_rule_[i] = old.alerts_by_rule_[j];
      impl_->buckets[i] = old.impl_->buckets[j];
      // A sequence with the same steps keeps its partial matches.
      const auto& a = rules_.rules[i]->sequence;
      const auto& b = old.rules_.rules[j]->sequence;
      if (a && b && a->steps.size() == b->steps.size() &&
          rules_.rules[i]->origin == old.rules_.rules[j]->origin) {
        for (auto& [k, v] : old.impl_->seq_state[j].by_key) stats_.sequence_states += v.size();
        impl_->seq_state[i] = std::move(old.impl_->seq_state[j]);
      }
    }
  }
}

std::string Engine::stats_json() const {
  const EngineStats& s = stats_;
  return fmt::format(
      "{{\"rules\":{},\"events\":{},\"rule_evaluations\":{},\"matches\":{},\"excepted\":{},"
      "\"alerts\":{},\"deduplicated\":{},\"rate_limited\":{},\"dedup_evictions\":{},"
      "\"sequence_started\":{},\"sequence_completed\":{},\"sequence_expired\":{},"
      "\"sequence_evicted\":{},\"sequence_states\":{},\"tree_evictions\":{}}}",
      rules_.rules.size(), s.events, s.rule_evaluations, s.matches, s.excepted, s.alerts,
      s.deduplicated, s.rate_limited, s.dedup_evictions, s.sequence_started, s.sequence_completed,
      s.sequence_expired, s.sequence_evicted, s.sequence_states, s.tree_evictions);
}

void Engine::evaluate(const model::Event& ev, std::vector<model::Alert>& out) {
  Impl& m = *impl_;
  ++stats_.events;
  const size_t kind = static_cast<size_t>(ev.kind);
  if (kind == 0 || kind >= model::kEventKindCount) return;
  EvalCtx& c = m.ctx;
  c.reset(ev);

  // Process-tree roots (the sequence key when no session is known).
  if (ev.kind == model::EventKind::kFork) {
    if (const auto* f = std::get_if<model::ForkData>(&ev.data)) {
      const uint32_t parent = ev.proc.pid;
      uint32_t root = f->child_pid;
      if (parent > 2) {
        const auto it = m.tree_root.find(parent);
        root = it == m.tree_root.end() ? parent : it->second;
      }
      if (m.tree_root.size() >= opts_.max_tree_entries) {
        m.tree_root.erase(m.tree_root.begin());
        ++stats_.tree_evictions;
      }
      m.tree_root[f->child_pid] = root;
    }
  }

  auto make_alert = [&](size_t idx, std::string explanation, std::vector<uint64_t> seqs,
                        const std::string& seq_key) {
    const Rule& r = *rules_.rules[idx];
    std::string title = render(r.output, c);
    // Dedup: the same rule, message and session within the window fold into one alert.
    std::string key;
    key.reserve(r.name.size() + title.size() + 64);
    key += r.name;
    key.push_back('\0');
    key += title;
    key.push_back('\0');
    key += ev.attr.session ? ev.attr.session->id : std::to_string(ev.proc.sessionid);
    uint32_t folded = 0;
    if (opts_.dedup_window_ns > 0) {
      auto it = m.dedup.find(key);
      if (it != m.dedup.end() && ev.ts_ns - it->second.first_ns < opts_.dedup_window_ns &&
          ev.ts_ns >= it->second.first_ns) {
        ++it->second.suppressed;
        ++stats_.deduplicated;
        return;
      }
      if (it != m.dedup.end()) {
        folded = it->second.suppressed;
        it->second = {ev.ts_ns, 0};
      } else {
        if (m.dedup.size() >= kMaxDedupEntries) {
          for (auto d = m.dedup.begin(); d != m.dedup.end();) {
            d = ev.ts_ns - d->second.first_ns >= opts_.dedup_window_ns ? m.dedup.erase(d)
                                                                       : std::next(d);
          }
          if (m.dedup.size() >= kMaxDedupEntries) {
            stats_.dedup_evictions += m.dedup.size();
            m.dedup.clear();
          }
        }
        m.dedup.emplace(key, Impl::Dedup{ev.ts_ns, 0});
      }
    }
    // Rate limit: a token bucket per rule, refilled per minute of event time.
    if (opts_.rate_limit_per_minute > 0) {
      Impl::Bucket& b = m.buckets[idx];
      const double cap = opts_.rate_limit_per_minute;
      if (!b.init) {
        b = {cap, ev.ts_ns, true};
      } else if (ev.ts_ns > b.last_ns) {
        b.tokens = std::min(cap, b.tokens + cap * static_cast<double>(ev.ts_ns - b.last_ns) /
                                                static_cast<double>(kMinuteNs));
        b.last_ns = ev.ts_ns;
      }
      if (b.tokens < 1.0) {
        ++stats_.rate_limited;
        return;
      }
      b.tokens -= 1.0;
    }
    model::Alert a;
    a.id = fmt::format("{:016x}-{:08x}", m.id_prefix, ++m.id_counter);
    a.wall_ns = ev.wall_time_ns != 0 ? ev.wall_time_ns : realtime_ns();
    a.severity = r.severity;
    a.source = "rule";
    a.rule = r.name;
    a.mitre = r.mitre;
    a.title = std::move(title);
    a.explanation = std::move(explanation);
    a.host = ev.attr.host.empty() ? opts_.host : ev.attr.host;
    a.cluster = ev.attr.cluster;
    a.user = !ev.user_name.empty() ? ev.user_name : std::to_string(ev.proc.uid);
    a.human = !ev.attr.human.empty() ? ev.attr.human : ev.login_user_name;
    if (ev.attr.session) a.session_id = ev.attr.session->id;
    a.roles = ev.attr.roles;
    for (uint64_t s : seqs) a.event_ids.push_back(std::to_string(s));
    a.count = 1 + folded;
    // details: what the response module and an analyst need without the events at hand. Every
    // string goes through util::append_json_string, which turns invalid UTF-8 into U+FFFD: the
    // document must parse (respond reads "response" from it, record_json embeds it), and an
    // executable named with invalid UTF-8 must not make it unreadable.
    std::string& d = a.details_json;
    d += "{\"rule\":{\"origin\":";
    util::append_json_string(d, r.origin);
    d += ",\"source\":";
    util::append_json_string(d, r.source);
    if (!r.description.empty()) {
      d += ",\"description\":";
      util::append_json_string(d, r.description);
    }
    if (!r.tags.empty()) {
      d += ",\"tags\":[";
      for (size_t i = 0; i < r.tags.size(); ++i) {
        if (i) d.push_back(',');
        util::append_json_string(d, r.tags[i]);
      }
      d += "]";
    }
    d += "},\"response\":{\"actions\":[";
    for (size_t i = 0; i < r.response.actions.size(); ++i) {
      if (i) d.push_back(',');
      util::append_json_string(d, to_string(r.response.actions[i]));
    }
    d += fmt::format("],\"mode\":\"{}\"}}", to_string(r.response.mode));
    d += fmt::format(
        ",\"process\":{{\"pid\":{},\"tid\":{},\"start_ticks\":{},\"ppid\":{},\"uid\":{},"
        "\"euid\":{},\"audit_session_id\":{},\"executable\":",
        ev.proc.pid, ev.proc.tid, model::ns_to_ticks(ev.proc.start_ns), ev.proc.ppid, ev.proc.uid,
        ev.proc.euid, ev.proc.sessionid);
    util::append_json_string(d, m.exe_field->str(c));
    d += ",\"name\":";
    util::append_json_string(d, ev.proc.comm);
    d += fmt::format("}},\"event\":{{\"seq\":{},\"ts_ns\":{},\"kind\":\"{}\",\"action\":\"{}\"}}",
                     ev.seq, ev.ts_ns, model::to_string(ev.kind), model::event_action(ev));
    if (!seq_key.empty()) {
      d += ",\"sequence_key\":";
      util::append_json_string(d, seq_key);
    }
    d += "}";
    ++stats_.alerts;
    ++alerts_by_rule_[idx];
    out.push_back(std::move(a));
  };

  // Single-event rules: the unguarded ones, and the guarded ones whose needs the event meets.
  const Impl::KindIndex& ki = m.single_by_kind[kind];
  const std::vector<size_t>* rules_now = &ki.unguarded;
  if (ki.any) {
    m.candidates.assign(ki.unguarded.begin(), ki.unguarded.end());
    if (++m.stamp_epoch == 0) {
      std::fill(m.stamp.begin(), m.stamp.end(), 0u);
      m.stamp_epoch = 1;
    }
    auto hit = [&m](size_t idx) {
      if (m.stamp[idx] == m.stamp_epoch) return;
      m.stamp[idx] = m.stamp_epoch;
      m.candidates.push_back(idx);
    };
    auto add = [&](const std::unordered_map<std::string, std::vector<size_t>>& map,
                   std::string_view value, bool lower) {
      if (map.empty() || value.empty()) return;
      m.key_buf.assign(value);
      if (lower) {
        for (char& ch : m.key_buf) ch = (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch + 32) : ch;
      }
      const auto it = map.find(m.key_buf);
      if (it != map.end()) {
        for (const size_t idx : it->second) hit(idx);
      }
    };
    if (!ki.by[0].empty()) {
      std::string_view exe = m.exe_field->str(c);
      add(ki.by[0], exe.substr(exe.rfind('/') + 1), true);
    }
    add(ki.by[1], ev.proc.comm, true);
    if (!ki.by[2].empty()) {
      if (const auto* n = std::get_if<model::NetData>(&ev.data)) {
        char buf[8];
        const auto [end, ec] = std::to_chars(
            buf, buf + sizeof buf, n->op == model::NetOp::kAccept ? n->local_port : n->remote_port);
        (void)ec;
        add(ki.by[2], std::string_view(buf, static_cast<size_t>(end - buf)), false);
      }
    }
    if (!ki.by[3].empty()) {
      const auto w = m.file_write_field->flag(c);
      if (w) add(ki.by[3], *w ? "true" : "false", false);
    }
    // The literal prefilter: one pass per field over the event's value.
    for (const auto& l : ki.literals) {
      const std::string_view v = l.field->str(c);
      if (!v.empty()) l.matcher.scan(v, hit);
    }
    if (m.candidates.size() != ki.unguarded.size()) {
      std::sort(m.candidates.begin(), m.candidates.end());  // rule order: alerts in load order
    }
    rules_now = &m.candidates;
  }
  for (const size_t idx : *rules_now) {
    const Rule& r = *rules_.rules[idx];
    ++stats_.rule_evaluations;
    if (!r.condition->eval(c)) continue;
    ++stats_.matches;
    if (r.exception && r.exception->eval(c)) {
      ++stats_.excepted;
      continue;
    }
    std::string why;
    r.condition->explain(c, why);
    make_alert(idx, std::move(why), {ev.seq}, {});
  }

  // Sequence rules.
  const auto& seqs = m.seq_by_kind[kind];
  if (seqs.empty()) return;
  if (ev.ts_ns - m.last_sweep_ns > 1'000'000'000ull || ev.ts_ns < m.last_sweep_ns) {
    m.last_sweep_ns = ev.ts_ns;
    for (size_t i = 0; i < rules_.rules.size(); ++i) {
      const auto& r = *rules_.rules[i];
      if (!r.sequence) continue;
      auto& bk = m.seq_state[i].by_key;
      uint32_t pending = 0;
      for (auto it = bk.begin(); it != bk.end();) {
        auto& v = it->second;
        const size_t before = v.size();
        std::erase_if(v, [&](const Impl::Instance& in) {
          return ev.ts_ns > in.start_ns && ev.ts_ns - in.start_ns > r.sequence->window_ns;
        });
        stats_.sequence_expired += before - v.size();
        stats_.sequence_states -= before - v.size();
        for (const auto& in : v) pending |= 1u << in.next;
        it = v.empty() ? bk.erase(it) : std::next(it);
      }
      m.seq_state[i].pending_steps = pending;
    }
  }
  std::string session_key, tree_key;
  auto key_for = [&](SequenceKey by) -> const std::string& {
    if (tree_key.empty()) {
      const auto it = m.tree_root.find(ev.proc.pid);
      tree_key = fmt::format("tree:{}", it == m.tree_root.end() ? ev.proc.pid : it->second);
    }
    if (by == SequenceKey::kProcessTree) return tree_key;
    if (session_key.empty()) {
      if (ev.attr.session) {
        session_key = "session:" + ev.attr.session->id;
      } else if (ev.proc.sessionid != model::kUnsetId) {
        session_key = fmt::format("audit:{}", ev.proc.sessionid);
      } else {
        session_key = tree_key;
      }
    }
    return session_key;
  };
  for (const size_t idx : seqs) {
    const Rule& r = *rules_.rules[idx];
    const SequenceSpec& spec = *r.sequence;
    ++stats_.rule_evaluations;
    auto& state = m.seq_state[idx];
    // Fast path: no key, no hashing, unless the event matches the first step or a step some
    // partial match waits for.
    const uint32_t kbit = 1u << kind;
    const SequenceStep& first = spec.steps[0];
    const bool first_match = (first.condition->kinds & kbit) != 0 && first.condition->eval(c);
    bool next_match = false;
    for (uint32_t p = state.pending_steps; p != 0 && !next_match; p &= p - 1) {
      const auto& st = spec.steps[static_cast<size_t>(__builtin_ctz(p))];
      next_match = (st.condition->kinds & kbit) != 0 && st.condition->eval(c);
    }
    if (!first_match && !next_match) continue;
    const std::string& key = key_for(spec.by);
    auto found = state.by_key.find(key);
    bool advanced_any = false;
    if (next_match && found != state.by_key.end()) {
      auto& insts = found->second;
      for (size_t i = 0; i < insts.size();) {
        Impl::Instance& in = insts[i];
        if (ev.ts_ns > in.start_ns && ev.ts_ns - in.start_ns > spec.window_ns) {
          insts.erase(insts.begin() + static_cast<std::ptrdiff_t>(i));
          ++stats_.sequence_expired;
          --stats_.sequence_states;
          continue;
        }
        const SequenceStep& step = spec.steps[in.next];
        bool ok = (step.condition->kinds & (1u << kind)) != 0 && step.condition->eval(c);
        for (size_t s = 0; ok && s < step.same.size(); ++s) {
          ok = field_text(*step.same[s].first, c) == in.captured[s];
        }
        if (!ok) {
          ++i;
          continue;
        }
        advanced_any = true;
        std::string why;
        step.condition->explain(c, why);
        in.evidence += fmt::format("{}{} (event {}): {}", in.evidence.empty() ? "" : " → ",
                                   step.name, ev.seq, why);
        in.seqs.push_back(ev.seq);
        ++in.next;
        if (in.next == spec.steps.size()) {
          ++stats_.sequence_completed;
          --stats_.sequence_states;
          Impl::Instance done = std::move(in);
          insts.erase(insts.begin() + static_cast<std::ptrdiff_t>(i));
          if (r.exception && r.exception->eval(c)) {
            ++stats_.excepted;
          } else {
            ++stats_.matches;
            make_alert(idx, std::move(done.evidence), std::move(done.seqs), key);
          }
          continue;
        }
        state.pending_steps |= 1u << in.next;
        in.captured.clear();
        for (const auto& [mine, prev] : spec.steps[in.next].same) {
          (void)mine;
          in.captured.push_back(field_text(*prev, c));
        }
        ++i;
      }
      if (insts.empty()) state.by_key.erase(found);
    }
    (void)advanced_any;
    if (!first_match) continue;
    state.pending_steps |= 1u << 1;
    Impl::Instance in;
    in.start_ns = ev.ts_ns;
    for (const auto& [mine, prev] : spec.steps[1].same) {
      (void)mine;
      in.captured.push_back(field_text(*prev, c));
    }
    auto& insts = state.by_key[key];
    // The same first step again (another write of the same file): restart its window.
    bool merged = false;
    for (auto& other : insts) {
      if (other.next == 1 && other.captured == in.captured) {
        other.start_ns = ev.ts_ns;
        other.seqs = {ev.seq};
        other.evidence.clear();
        merged = true;
        break;
      }
    }
    if (merged) continue;
    std::string why;
    first.condition->explain(c, why);
    in.evidence = fmt::format("{} (event {}): {}", first.name, ev.seq, why);
    in.seqs.push_back(ev.seq);
    if (insts.size() >= kMaxInstancesPerKey) {
      insts.erase(insts.begin());
      ++stats_.sequence_evicted;
      --stats_.sequence_states;
    }
    if (stats_.sequence_states >= opts_.max_sequence_states) {
      // Evict the oldest partial match of any rule.
      Impl::RuleState* oldest_rule = nullptr;
      std::string oldest_key;
      uint64_t oldest = UINT64_MAX;
      for (auto& st : m.seq_state) {
        for (auto& [k, v] : st.by_key) {
          for (auto& x : v) {
            if (x.start_ns < oldest) {
              oldest = x.start_ns;
              oldest_rule = &st;
              oldest_key = k;
            }
          }
        }
      }
      if (oldest_rule != nullptr) {
        auto& v = oldest_rule->by_key[oldest_key];
        auto it = std::min_element(v.begin(), v.end(), [](const auto& a, const auto& b) {
          return a.start_ns < b.start_ns;
        });
        if (it != v.end()) {
          v.erase(it);
          ++stats_.sequence_evicted;
          --stats_.sequence_states;
        }
        if (v.empty() && !(oldest_rule == &state && oldest_key == key)) {
          oldest_rule->by_key.erase(oldest_key);
        }
      }
    }
    state.by_key[key].push_back(std::move(in));
    ++stats_.sequence_started;
    ++stats_.sequence_states;
  }
}

// --- rule sources ------------------------------------------------------------------------

Status add_default_rules(RuleSetBuilder& b, std::string* where) {
  const std::string exe_dir = self_exe_dir();
  std::string dir;
#ifdef PRIVWATCH_BUILD_DIR
  // Running from the build tree: the source tree's rules, so edits apply without a rebuild.
  const std::string build = PRIVWATCH_BUILD_DIR;
  if (!exe_dir.empty() && (exe_dir == build || exe_dir.rfind(build + "/", 0) == 0) &&
      is_dir(PRIVWATCH_SOURCE_RULES_DIR)) {
    dir = PRIVWATCH_SOURCE_RULES_DIR;
  }
#endif
  if (dir.empty() && !exe_dir.empty()) {
    const std::string installed = exe_dir + "/../share/privwatch/rules";
    if (is_dir(installed)) {
      char buf[PATH_MAX] = {};
      dir = ::realpath(installed.c_str(), buf) != nullptr ? std::string(buf) : installed;
    }
  }
  if (!dir.empty()) {
    if (where != nullptr) *where = dir;
    return b.add_path(dir);
  }
  if (where != nullptr) *where = "<embedded default>";
  for (size_t i = 0; i < kEmbeddedRuleFileCount; ++i) {
    const std::string origin = std::string("<embedded>/") + kEmbeddedRuleFiles[i].name;
    if (auto s = b.add_text(kEmbeddedRuleFiles[i].text, origin); !s) return s;
  }
  return {};
}

Result<RuleSet> load_rules(bool default_rules, const std::vector<std::string>& paths,
                           std::string* default_where) {
  RuleSetBuilder b;
  if (default_rules) {
    if (auto s = add_default_rules(b, default_where); !s) return s.error();
  }
  for (const auto& p : paths) {
    if (auto s = b.add_path(p); !s) return s.error();
  }
  return std::move(b).finish();
}

}  // namespace privwatch::detect
