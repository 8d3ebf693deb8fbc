// YAML rule files → RuleSet. See docs/rules.md for the language.
#include <dirent.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <span>
#include <sstream>

#include "detect/rules.hpp"
#include "detect/sigma.hpp"
#include "util/yaml_documents.hpp"

namespace privwatch::detect {

namespace {

constexpr std::string_view kTopKeys[] = {"lists", "macros", "rules"};
constexpr std::string_view kRuleKeys[] = {"name",   "description", "severity",   "mitre",
                                          "tags",   "condition",   "exceptions", "sequence",
                                          "output", "response",    "mode",       "enabled"};
constexpr std::string_view kSequenceKeys[] = {"within", "by", "steps"};
constexpr std::string_view kStepKeys[] = {"name", "condition", "same"};
constexpr std::string_view kSeverities[] = {"info", "low", "medium", "high", "critical"};
constexpr std::string_view kActions[] = {"warn", "freeze", "terminate", "kill"};
constexpr int kMaxDepth = 64;
constexpr size_t kMaxFileBytes = 8u << 20;

std::string join(std::span<const std::string_view> items) {
  std::string out;
  for (const auto& i : items) {
    if (!out.empty()) out += ", ";
    out += i;
  }
  return out;
}

std::string describe(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
      return "an empty value";
    case YAML::NodeType::Scalar: {
      std::string s = n.Scalar();
      if (s.size() > 60) s = s.substr(0, 60) + "...";
      return "'" + s + "'";
    }
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    default:
      return "nothing";
  }
}

std::string_view did_you_mean(std::string_view key, std::span<const std::string_view> known) {
  std::string_view best;
  size_t best_d = SIZE_MAX;
  for (const auto& k : known) {
    const size_t d = edit_distance(key, k);
    if (d < best_d) {
      best_d = d;
      best = k;
    }
  }
  return best_d <= std::max<size_t>(2, key.size() / 3) ? best : std::string_view();
}

// "60s", "5m", "1h", "250ms" or a plain number of seconds → ns.
std::optional<uint64_t> parse_duration(const std::string& s) {
  size_t i = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  if (i == 0 || i > 9) return std::nullopt;
  const uint64_t n = std::stoull(s.substr(0, i));
  const std::string unit = s.substr(i);
  if (unit.empty() || unit == "s") return n * 1'000'000'000ull;
  if (unit == "ms") return n * 1'000'000ull;
  if (unit == "m") return n * 60'000'000'000ull;
  if (unit == "h") return n * 3'600'000'000'000ull;
  return std::nullopt;
}

}  // namespace

struct RuleSetBuilder::Impl {
  RuleSet set;
  std::map<std::string, std::vector<std::string>> lists;
  std::map<std::string, std::pair<YAML::Node, std::string>> macros;  // node, origin
  std::map<std::string, std::string> rule_origins;
  std::vector<std::string> macro_stack;
  const std::string* origin = nullptr;

  std::string where(const YAML::Mark& m) const {
    if (m.is_null()) return *origin;
    return fmt::format("{}:{}:{}", *origin, m.line + 1, m.column + 1);
  }
  Error error(const YAML::Node& at, std::string what, std::string hint) const {
    return error(at.Mark(), std::move(what), std::move(hint));
  }
  Error error(const YAML::Mark& at, std::string what, std::string hint) const {
    return Error{ErrorKind::kInvalidArgument, fmt::format("{}: {}", where(at), what),
                 std::move(hint)};
  }

  Status check_keys(const YAML::Node& map, std::string_view what,
                    std::span<const std::string_view> known) const {
    std::vector<std::string> seen;
    for (const auto& kv : map) {
      const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : std::string();
      if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
        return error(kv.first, fmt::format("duplicate key '{}' in {}", key, what),
                     "remove one of the two; YAML does not merge repeated keys");
      }
      seen.push_back(key);
      if (std::find(known.begin(), known.end(), key) != known.end()) continue;
      const auto best = did_you_mean(key, known);
      return error(kv.first,
                   fmt::format("unknown key '{}' in {} (known: {})", key, what, join(known)),
                   best.empty() ? "remove the key; docs/rules.md lists every key"
                                : fmt::format("did you mean '{}'?", best));
    }
    return {};
  }

  Result<std::string> scalar(const YAML::Node& n, std::string_view what) const {
    if (!n.IsScalar()) {
      return error(n, fmt::format("{}: expected a single value, got {}", what, describe(n)),
                   "write a plain value (quote it if it contains ': ' or starts with '{' or '[')");
    }
    return n.Scalar();
  }

  // Values of an operator: a scalar, or a list of scalars; "$name" items expand a list.
  Result<std::vector<std::string>> values(const YAML::Node& n, std::string_view what) const {
    std::vector<std::string> out;
    auto add = [&](const YAML::Node& item) -> Status {
      if (!item.IsScalar()) {
        return error(item, fmt::format("{}: expected a value, got {}", what, describe(item)),
                     "list plain values only, e.g. [a, b]");
      }
      const std::string& s = item.Scalar();
      if (s.size() > 1 && s[0] == '$') {
        const auto it = lists.find(s.substr(1));
        if (it == lists.end()) {
          return error(item, fmt::format("{}: unknown list '{}'", what, s.substr(1)),
                       "define it under 'lists:' (in this file or one loaded before it), or "
                       "write a literal starting with '$' as a regex or glob");
        }
        out.insert(out.end(), it->second.begin(), it->second.end());
      } else {
        out.push_back(s);
      }
      return {};
    };
    if (n.IsSequence()) {
      for (const auto& item : n) {
        if (auto s = add(item); !s) return s.error();
      }
    } else if (n.IsScalar()) {
      if (auto s = add(n); !s) return s.error();
    } else {
      return error(
          n, fmt::format("{}: expected a value or a list of values, got {}", what, describe(n)),
          "e.g. 'process.name: bash' or 'process.name: [bash, sh]'");
    }
    return out;
  }

  Result<NodePtr> predicate(const FieldDef& f, const YAML::Node& v) {
    const std::string what(f.name);
    auto build = [&](Op op, const std::vector<std::string>& vals, bool nocase,
                     const YAML::Node& at) -> Result<NodePtr> {
      auto n = make_predicate(f, op, vals, nocase);
      if (!n) return error(at, n.error().message, n.error().hint);
      return n;
    };
    auto plain_op = [&](const std::vector<std::string>& vals, bool list) {
      if (f.type == FieldType::kIp &&
          std::any_of(vals.begin(), vals.end(),
                      [](const std::string& s) { return s.find('/') != std::string::npos; })) {
        return Op::kCidr;
      }
      return list ? Op::kIn : Op::kEquals;
    };
    if (v.IsScalar() || v.IsSequence()) {
      auto vals = values(v, what);
      if (!vals) return vals.error();
      return build(plain_op(*vals, v.IsSequence() || vals->size() > 1), *vals, false, v);
    }
    if (!v.IsMap()) {
      return error(
          v, fmt::format("{}: expected a value, a list or operators, got {}", what, describe(v)),
          "e.g. 'process.name: bash', 'process.name: [bash, sh]' or "
          "'process.executable: {startswith: /tmp/}'");
    }
    bool nocase = false;
    for (const auto& kv : v) {
      if (kv.first.Scalar() != "nocase") continue;
      if (!kv.second.IsScalar() ||
          (kv.second.Scalar() != "true" && kv.second.Scalar() != "false")) {
        return error(kv.second, "nocase: expected true or false", "write 'nocase: true'");
      }
      nocase = kv.second.Scalar() == "true";
    }
    std::vector<NodePtr> parts;
    for (const auto& kv : v) {
      const std::string name = kv.first.Scalar();
      if (name == "nocase") continue;
      const auto op = op_from_name(name);
      if (!op) {
        std::vector<std::string_view> names;
        std::string all = known_ops();
        std::string_view rest(all);
        while (!rest.empty()) {
          const size_t comma = rest.find(", ");
          names.push_back(rest.substr(0, comma));
          if (comma == std::string_view::npos) break;
          rest.remove_prefix(comma + 2);
        }
        const auto best = did_you_mean(name, names);
        return error(kv.first,
                     fmt::format("unknown operator '{}' for {} (known: {}, and the option nocase)",
                                 name, what, all),
                     best.empty() ? "see docs/rules.md, Operators"
                                  : fmt::format("did you mean '{}'?", best));
      }
      if (*op == Op::kExists) {
        const YAML::Node& b = kv.second;
        if (!b.IsScalar() || (b.Scalar() != "true" && b.Scalar() != "false")) {
          return error(b, fmt::format("{}: exists takes true or false", what),
                       "write 'exists: true'");
        }
        auto n = build(Op::kExists, {}, false, kv.first);
        if (!n) return n;
        parts.push_back(b.Scalar() == "true" ? std::move(*n) : make_not(std::move(*n)));
        continue;
      }
      auto vals = values(kv.second, fmt::format("{}.{}", what, name));
      if (!vals) return vals.error();
      auto n = build(*op, *vals, nocase, kv.second);
      if (!n) return n;
      parts.push_back(std::move(*n));
    }
    if (parts.empty()) {
      return error(v, fmt::format("{}: no operator given", what), "e.g. {contains: /dev/tcp/}");
    }
    return make_all(std::move(parts));
  }

  Result<NodePtr> condition(const YAML::Node& n, int depth) {
    if (depth > kMaxDepth) {
      return error(n, "condition nested too deeply", "simplify the condition or split the rule");
    }
    if (!n.IsMap()) {
      return error(n, fmt::format("a condition must be a mapping, got {}", describe(n)),
                   n.IsSequence() ? "wrap a list of conditions in 'all:' or 'any:'"
                                  : "e.g. 'condition: {process.name: bash}'");
    }
    if (n.size() == 0) return error(n, "empty condition", "add at least one field test");
    std::vector<NodePtr> parts;
    std::vector<std::pair<std::string, YAML::Mark>> seen;
    for (const auto& kv : n) {
      if (kv.first.IsScalar()) {
        for (const auto& [k, mark] : seen) {
          if (k != kv.first.Scalar()) continue;
          return error(kv.first,
                       fmt::format("duplicate key '{}' in one condition (first at line {})", k,
                                   mark.line + 1),
                       "YAML keeps only one of them: combine them under 'all:' as list entries");
        }
        seen.emplace_back(kv.first.Scalar(), kv.first.Mark());
      }
      if (!kv.first.IsScalar()) {
        return error(kv.first, "a condition key must be a field name or all/any/not/macro",
                     "see docs/rules.md, Conditions");
      }
      const std::string key = kv.first.Scalar();
      const YAML::Node& v = kv.second;
      if (key == "all" || key == "any") {
        if (!v.IsSequence() || v.size() == 0) {
          return error(
              v.IsNull() ? kv.first : v,
              fmt::format("{}: expected a non-empty list of conditions, got {}", key, describe(v)),
              fmt::format("write '{}:' followed by '- field: value' entries", key));
        }
        std::vector<NodePtr> children;
        for (const auto& c : v) {
          auto child = condition(c, depth + 1);
          if (!child) return child;
          children.push_back(std::move(*child));
        }
        parts.push_back(key == "all" ? make_all(std::move(children))
                                     : make_any(std::move(children)));
      } else if (key == "not") {
        auto child = condition(v, depth + 1);
        if (!child) return child;
        parts.push_back(make_not(std::move(*child)));
      } else if (key == "macro") {
        auto name = scalar(v, "macro");
        if (!name) return name.error();
        const auto it = macros.find(*name);
        if (it == macros.end()) {
          return error(v, fmt::format("unknown macro '{}'", *name),
                       "define it under 'macros:' in this file or one loaded before it");
        }
        if (std::find(macro_stack.begin(), macro_stack.end(), *name) != macro_stack.end()) {
          return error(v, fmt::format("macro '{}' refers to itself", *name),
                       "break the cycle between macros");
        }
        macro_stack.push_back(*name);
        const std::string* saved = origin;
        origin = &it->second.second;
        auto child = condition(it->second.first, depth + 1);
        origin = saved;
        macro_stack.pop_back();
        if (!child) return child;
        parts.push_back(std::move(*child));
      } else {
        const FieldDef* f = find_field(key);
        if (f == nullptr) {
          const auto best = closest_field(key);
          return error(kv.first, fmt::format("unknown field '{}'", key),
                       best.empty() ? "see docs/rules.md, Fields, for every field"
                                    : fmt::format("did you mean '{}'?", best));
        }
        if (v.IsNull()) {
          return error(kv.first, fmt::format("{}: no value", key),
                       "give a value, a list, or operators");
        }
        auto p = predicate(*f, v);
        if (!p) return p;
        parts.push_back(std::move(*p));
      }
    }
    return make_all(std::move(parts));
  }

  Result<Template> output_template(const YAML::Node& n) const {
    auto text = scalar(n, "output");
    if (!text) return text.error();
    Template t;
    TemplatePart cur;
    const std::string& s = *text;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '{' && i + 1 < s.size() && s[i + 1] == '{') {
        cur.literal.push_back('{');
        ++i;
        continue;
      }
      if (s[i] == '}' && i + 1 < s.size() && s[i + 1] == '}') {
        cur.literal.push_back('}');
        ++i;
        continue;
      }
      if (s[i] != '{') {
        cur.literal.push_back(s[i]);
        continue;
      }
      const size_t end = s.find('}', i);
      if (end == std::string::npos) {
        return error(n, fmt::format("output: '{{' at offset {} is not closed", i),
                     "close the placeholder with '}' or write '{{' for a literal brace");
      }
      const std::string name = s.substr(i + 1, end - i - 1);
      const FieldDef* f = find_field(name);
      if (f == nullptr) {
        const auto best = closest_field(name);
        return error(n, fmt::format("output: unknown field '{{{}}}'", name),
                     best.empty() ? "placeholders name fields, see docs/rules.md"
                                  : fmt::format("did you mean '{{{}}}'?", best));
      }
      cur.field = f;
      t.push_back(std::move(cur));
      cur = TemplatePart{};
      i = end;
    }
    if (!cur.literal.empty()) t.push_back(std::move(cur));
    return t;
  }

  Status add_lists(const YAML::Node& n) {
    if (!n.IsMap()) {
      return error(n,
                   fmt::format("lists: expected a mapping of name: [values], got {}", describe(n)),
                   "e.g. 'lists: {shells: [/bin/sh, /bin/bash]}'");
    }
    for (const auto& kv : n) {
      const std::string name = kv.first.Scalar();
      if (!kv.second.IsSequence()) {
        return error(kv.second,
                     fmt::format("list '{}': expected a list, got {}", name, describe(kv.second)),
                     "write the values as a YAML list");
      }
      auto vals = values(kv.second, "list " + name);
      if (!vals) return vals.error();
      lists[name] = std::move(*vals);
    }
    return {};
  }

  Status add_macros(const YAML::Node& n) {
    if (!n.IsMap()) {
      return error(
          n, fmt::format("macros: expected a mapping of name: condition, got {}", describe(n)),
          "e.g. 'macros: {root: {user.effective.id: 0}}'");
    }
    for (const auto& kv : n) {
      const std::string name = kv.first.Scalar();
      // Checked now (so an error points at the macro), compiled again at each use.
      macros[name] = {kv.second, *origin};
      macro_stack.push_back(name);
      auto c = condition(kv.second, 0);
      macro_stack.pop_back();
      if (!c) return c.error();
    }
    return {};
  }

  Result<ResponseSpec> response(const YAML::Node* actions, const YAML::Node* mode) const {
    ResponseSpec r;
    if (actions != nullptr) {
      const YAML::Node& a = *actions;
      if (!a.IsSequence()) {
        return error(a, fmt::format("response: expected a list of actions, got {}", describe(a)),
                     fmt::format("e.g. 'response: [warn, freeze]' ({})", join(kActions)));
      }
      for (const auto& item : a) {
        const std::string s = item.IsScalar() ? item.Scalar() : "";
        const auto it = std::find(std::begin(kActions), std::end(kActions), s);
        if (it == std::end(kActions)) {
          return error(item, fmt::format("response: unknown action {}", describe(item)),
                       fmt::format("actions are {}", join(kActions)));
        }
        const auto act = static_cast<ResponseAction>(it - std::begin(kActions));
        if (!r.has(act)) r.actions.push_back(act);
      }
    }
    if (mode != nullptr) {
      const std::string s = mode->IsScalar() ? mode->Scalar() : "";
      if (s != "detect" && s != "enforce") {
        return error(*mode,
                     fmt::format("mode: expected detect or enforce, got {}", describe(*mode)),
                     "enforce lets the response module act in the kernel (kill); detect only "
                     "alerts and runs the listed user-space actions");
      }
      r.mode = s == "enforce" ? RuleMode::kEnforce : RuleMode::kDetect;
    }
    if (r.has(ResponseAction::kKill) && r.mode != RuleMode::kEnforce) {
      return error(actions != nullptr ? actions->Mark() : YAML::Mark::null_mark(),
                   "response: kill needs 'mode: enforce'",
                   "add 'mode: enforce' to the rule, or remove kill");
    }
    return r;
  }

  Result<SequenceSpec> sequence(const YAML::Node& n) {
    if (!n.IsMap()) {
      return error(n, fmt::format("sequence: expected a mapping, got {}", describe(n)),
                   "write within:, by: and steps: under sequence:");
    }
    if (auto s = check_keys(n, "sequence", kSequenceKeys); !s) return s.error();
    SequenceSpec spec;
    spec.window_ns = 60'000'000'000ull;
    if (const auto w = n["within"]) {
      auto text = scalar(w, "sequence.within");
      if (!text) return text.error();
      const auto d = parse_duration(*text);
      if (!d || *d == 0 || *d > 24 * 3'600'000'000'000ull) {
        return error(w, fmt::format("sequence.within: '{}' is not a duration up to 24h", *text),
                     "write e.g. 30s, 5m or 1h");
      }
      spec.window_ns = *d;
    }
    if (const auto b = n["by"]) {
      const std::string s = b.IsScalar() ? b.Scalar() : "";
      if (s != "session" && s != "process_tree") {
        return error(
            b, fmt::format("sequence.by: expected session or process_tree, got {}", describe(b)),
            "session: the steps happen in one login session (falling back to the audit "
            "session, then the process tree); process_tree: under one process subtree");
      }
      spec.by = s == "session" ? SequenceKey::kSession : SequenceKey::kProcessTree;
    }
    const auto steps = n["steps"];
    if (steps && steps.IsSequence() && steps.size() > 16) {
      return error(steps, "sequence.steps: at most 16 steps", "split the sequence into two rules");
    }
    if (!steps || !steps.IsSequence() || steps.size() < 2) {
      return error(steps ? steps.Mark() : n.Mark(),
                   "sequence.steps: expected a list of at least 2 steps",
                   "each step is a mapping with condition: (and optionally name: and same:)");
    }
    for (size_t i = 0; i < steps.size(); ++i) {
      const YAML::Node st = steps[i];
      if (!st.IsMap()) {
        return error(st, fmt::format("sequence.steps[{}]: expected a mapping", i),
                     "write '- condition: {...}'");
      }
      if (auto s = check_keys(st, "a sequence step", kStepKeys); !s) return s.error();
      SequenceStep step;
      step.name =
          st["name"] && st["name"].IsScalar() ? st["name"].Scalar() : fmt::format("step{}", i + 1);
      if (!st["condition"]) {
        return error(st, fmt::format("sequence.steps[{}]: missing condition", i),
                     "every step needs a condition");
      }
      auto c = condition(st["condition"], 0);
      if (!c) return c.error();
      step.condition = std::move(*c);
      if (const auto same = st["same"]) {
        if (i == 0) {
          return error(same,
                       "sequence.steps[0]: 'same' compares with the previous step; the "
                       "first step has none",
                       "move 'same' to a later step");
        }
        if (!same.IsMap()) {
          return error(same, "same: expected a mapping 'this_step_field: previous_step_field'",
                       "e.g. 'same: {process.executable: file.path}'");
        }
        for (const auto& kv : same) {
          const FieldDef* a = find_field(kv.first.Scalar());
          const FieldDef* b = kv.second.IsScalar() ? find_field(kv.second.Scalar()) : nullptr;
          if (a == nullptr || b == nullptr) {
            const YAML::Node& bad = a == nullptr ? kv.first : kv.second;
            const auto best = closest_field(bad.IsScalar() ? bad.Scalar() : "");
            return error(bad, fmt::format("same: unknown field {}", describe(bad)),
                         best.empty() ? "name fields as in conditions"
                                      : fmt::format("did you mean '{}'?", best));
          }
          step.same.emplace_back(a, b);
        }
      }
      spec.steps.push_back(std::move(step));
    }
    return spec;
  }

  Status add_rule(const YAML::Node& n) {
    if (!n.IsMap()) {
      return error(n, fmt::format("a rule must be a mapping, got {}", describe(n)),
                   "start each rule with '- name: ...'");
    }
    if (auto s = check_keys(n, "a rule", kRuleKeys); !s) return s;
    auto rule = std::make_unique<Rule>();
    rule->origin = where(n.Mark());
    const auto name = n["name"];
    if (!name || !name.IsScalar() || name.Scalar().empty()) {
      return error(name ? name.Mark() : n.Mark(), "rule without a name", "add 'name: my-rule'");
    }
    rule->name = name.Scalar();
    for (char c : rule->name) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
        return error(name,
                     fmt::format("rule name '{}' has a character other than letters, "
                                 "digits, '-', '_' and '.'",
                                 rule->name),
                     "rename the rule, e.g. reverse-shell-nc");
      }
    }
    if (const auto it = rule_origins.find(rule->name); it != rule_origins.end()) {
      return error(
          name,
          fmt::format("duplicate rule name '{}' (first defined at {})", rule->name, it->second),
          "rule names must be unique across every loaded file; rename one");
    }
    if (const auto d = n["description"]) {
      auto s = scalar(d, "description");
      if (!s) return s.error();
      rule->description = *s;
    }
    const auto sev = n["severity"];
    if (!sev)
      return error(n, fmt::format("rule '{}' has no severity", rule->name),
                   fmt::format("add 'severity: high' ({})", join(kSeverities)));
    {
      const std::string s = sev.IsScalar() ? sev.Scalar() : "";
      const auto it = std::find(std::begin(kSeverities), std::end(kSeverities), s);
      if (it == std::end(kSeverities)) {
        return error(sev, fmt::format("severity: unknown severity {}", describe(sev)),
                     fmt::format("use one of {}", join(kSeverities)));
      }
      rule->severity = static_cast<model::Severity>(it - std::begin(kSeverities));
    }
    if (const auto m = n["mitre"]) {
      auto vals = values(m, "mitre");
      if (!vals) return vals.error();
      for (const auto& t : *vals) {
        if (t.size() < 5 || t[0] != 'T' || !std::all_of(t.begin() + 1, t.end(), [](char c) {
              return std::isdigit(c) || c == '.';
            })) {
          return error(m, fmt::format("mitre: '{}' is not an ATT&CK technique id", t),
                       "write e.g. T1059.004");
        }
        if (!rule->mitre.empty()) rule->mitre += ",";
        rule->mitre += t;
      }
    }
    if (const auto t = n["tags"]) {
      auto vals = values(t, "tags");
      if (!vals) return vals.error();
      rule->tags = std::move(*vals);
    }
    const auto cond = n["condition"];
    const auto seq = n["sequence"];
    if (cond && seq) {
      return error(seq, "a rule has either condition: or sequence:, not both",
                   "move the condition into the first sequence step");
    }
    if (!cond && !seq) {
      return error(n, fmt::format("rule '{}' has no condition", rule->name),
                   "add 'condition:' (or 'sequence:' for an ordered series of events)");
    }
    if (cond) {
      auto c = condition(cond, 0);
      if (!c) return c.error();
      rule->condition = std::move(*c);
      rule->kinds = rule->condition->kinds;
    } else {
      auto s = sequence(seq);
      if (!s) return s.error();
      rule->kinds = 0;
      for (const auto& st : s->steps) rule->kinds |= st.condition->kinds;
      rule->sequence = std::move(*s);
    }
    if (const auto ex = n["exceptions"]) {
      std::vector<NodePtr> any;
      if (ex.IsSequence()) {
        for (const auto& e : ex) {
          auto c = condition(e, 0);
          if (!c) return c.error();
          any.push_back(std::move(*c));
        }
      } else {
        auto c = condition(ex, 0);
        if (!c) return c.error();
        any.push_back(std::move(*c));
      }
      if (!any.empty()) rule->exception = make_any(std::move(any));
    }
    if (const auto o = n["output"]) {
      auto t = output_template(o);
      if (!t) return t.error();
      rule->output = std::move(*t);
    } else {
      rule->output.push_back({rule->description.empty() ? rule->name : rule->description, nullptr});
    }
    const auto resp = n["response"];
    const auto mode = n["mode"];
    auto r = response(resp ? &resp : nullptr, mode ? &mode : nullptr);
    if (!r) return r.error();
    rule->response = std::move(*r);
    bool enabled = true;
    if (const auto e = n["enabled"]) {
      if (!e.IsScalar() || (e.Scalar() != "true" && e.Scalar() != "false")) {
        return error(e, "enabled: expected true or false",
                     "write 'enabled: false' to switch a rule off");
      }
      enabled = e.Scalar() == "true";
    }
    rule_origins[rule->name] = rule->origin;
    if (enabled) set.rules.push_back(std::move(rule));
    return {};
  }

  Status add_document(const YAML::Node& doc) {
    if (!doc || doc.IsNull()) return {};
    if (is_sigma_document(doc)) {
      auto r = import_sigma(doc, *origin);
      if (!r) {
        set.skipped.push_back(r.error().message);
        return {};
      }
      if (const auto it = rule_origins.find((*r)->name); it != rule_origins.end()) {
        set.skipped.push_back(fmt::format("{}: duplicate rule name '{}' (first defined at {})",
                                          (*r)->origin, (*r)->name, it->second));
        return {};
      }
      rule_origins[(*r)->name] = (*r)->origin;
      set.rules.push_back(std::move(*r));
      return {};
    }
    if (!doc.IsMap()) {
      return error(doc,
                   fmt::format("a rule file must be a mapping with lists:, macros:, rules:, "
                               "got {}",
                               describe(doc)),
                   "see docs/rules.md for the file layout");
    }
    if (auto s = check_keys(doc, "a rule file", kTopKeys); !s) return s;
    // Lists, then macros, then rules, whatever their order in the file.
    if (const auto l = doc["lists"]) {
      if (auto s = add_lists(l); !s) return s;
    }
    if (const auto m = doc["macros"]) {
      if (auto s = add_macros(m); !s) return s;
    }
    if (const auto r = doc["rules"]) {
      if (!r.IsSequence()) {
        return error(r, fmt::format("rules: expected a list of rules, got {}", describe(r)),
                     "write each rule as a list entry starting with '- name:'");
      }
      for (const auto& rule : r) {
        if (auto s = add_rule(rule); !s) return s;
      }
    }
    return {};
  }
};

RuleSetBuilder::RuleSetBuilder() : impl_(std::make_unique<Impl>()) {}
RuleSetBuilder::~RuleSetBuilder() = default;
RuleSetBuilder::RuleSetBuilder(RuleSetBuilder&&) noexcept = default;
RuleSetBuilder& RuleSetBuilder::operator=(RuleSetBuilder&&) noexcept = default;

Status RuleSetBuilder::add_text(const std::string& text, const std::string& origin) {
  impl_->origin = &origin;
  try {
    const std::vector<YAML::Node> docs = load_yaml_documents(text);
    for (const auto& d : docs) {
      if (auto s = impl_->add_document(d); !s) return s;
    }
  } catch (const YAML::Exception& e) {
    const std::string where =
        e.mark.is_null() ? origin
                         : fmt::format("{}:{}:{}", origin, e.mark.line + 1, e.mark.column + 1);
    return Error{ErrorKind::kInvalidArgument,
                 fmt::format("{}: YAML syntax error: {}", where, e.msg),
                 "fix the YAML at that position: indent with spaces, put a space after ':' and "
                 "'-', quote values that contain ': ', '#', '{' or '['"};
  } catch (const std::exception& e) {
    return Error{ErrorKind::kInternal, fmt::format("{}: cannot load rules: {}", origin, e.what()),
                 "report this as a bug, with the rule file"};
  }
  impl_->set.sources.push_back(origin);
  return {};
}

Status RuleSetBuilder::add_path(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return Error{ErrorKind::kNotFound,
                 fmt::format("rules: cannot read '{}': {}", path, std::strerror(errno)),
                 "fix detect.rules in the configuration, or pass an existing file or directory"};
  }
  std::vector<std::string> files;
  if (S_ISDIR(st.st_mode)) {
    DIR* d = ::opendir(path.c_str());
    if (d == nullptr) {
      return Error{ErrorKind::kIo,
                   fmt::format("rules: cannot list '{}': {}", path, std::strerror(errno)), ""};
    }
    while (const dirent* e = ::readdir(d)) {
      const std::string n = e->d_name;
      if (n.empty() || n[0] == '.') continue;
      if ((n.size() > 5 && n.ends_with(".yaml")) || (n.size() > 4 && n.ends_with(".yml"))) {
        files.push_back(path + (path.ends_with("/") ? "" : "/") + n);
      }
    }
    ::closedir(d);
    std::sort(files.begin(), files.end());
  } else {
    files.push_back(path);
  }
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) {
      return Error{ErrorKind::kIo,
                   fmt::format("rules: cannot read '{}': {}", f, std::strerror(errno)),
                   "check the file's permissions"};
    }
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    if (text.size() > kMaxFileBytes) {
      return Error{ErrorKind::kInvalidArgument, fmt::format("rules: '{}' is larger than 8 MiB", f),
                   "split the rule file"};
    }
    if (auto s = add_text(text, f); !s) return s;
  }
  return {};
}

RuleSet RuleSetBuilder::finish() && { return std::move(impl_->set); }

}  // namespace privwatch::detect
