// Rules: compiled conditions over event fields, sequence rules, templates, response settings.
// Loaded from YAML rule files (docs/rules.md) or imported from Sigma (sigma.hpp).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "detect/fields.hpp"
#include "model/alert.hpp"
#include "util/result.hpp"

namespace privwatch::detect {

// One way for an event to meet a necessary condition of a node (Node::necessary): the field has
// the exact index key `value` (kKey: process.executable → its lower-cased basename, process.name
// → lower-cased, destination.port → decimal, file.write → true/false), or the string field
// contains the literal `value` (kLiteral: lower-cased, found case-insensitively).
struct Need {
  enum class Type : uint8_t { kKey, kLiteral };
  Type type = Type::kLiteral;
  const FieldDef* field = nullptr;
  std::string value;
};
using Needs = std::vector<Need>;
// The fields kKey needs are made of; the fields that take kLiteral needs (free text, not
// enumerations such as event.action).
[[nodiscard]] bool is_key_field(const FieldDef& f);
[[nodiscard]] bool is_literal_field(const FieldDef& f);
// Rough share of events of the right kind that meet one of `needs` (lower is more selective):
// the prefilter keeps a rule's needs only when this is small.
[[nodiscard]] double need_score(const Needs& needs);

// A compiled condition. Evaluated on the pipeline thread; immutable after load.
class Node {
 public:
  virtual ~Node() = default;
  [[nodiscard]] virtual bool eval(EvalCtx& c) const = 0;
  // Human-checkable evidence for a node that evaluated true ("process.name 'nc' in [nc, ncat]").
  virtual void explain(EvalCtx& c, std::string& out) const = 0;
  // A necessary condition, for the rule prefilter: sets `out` so that the node can be true for an
  // event of kind `kind` only when the event meets one of `out` (an empty `out`: never true).
  // `literals` false: key needs only. False when the node has no such condition.
  virtual bool necessary(size_t kind, bool literals, Needs& out) const {
    (void)kind;
    (void)literals;
    (void)out;
    return false;
  }
  KindMask kinds = kAllKinds;  // event kinds this node can be true for (kind index)
  uint32_t cost = 1;           // rough evaluation cost: and/or evaluate cheap children first
};
using NodePtr = std::unique_ptr<Node>;

enum class Op : uint8_t {
  kEquals,
  kIn,
  kStartsWith,
  kEndsWith,
  kContains,
  kGlob,
  kRegex,
  kCidr,
  kGt,
  kGte,
  kLt,
  kLte,
  kBitsAny,
  kBitsAll,
  kExists,
};
[[nodiscard]] std::string_view to_string(Op op);
[[nodiscard]] std::optional<Op> op_from_name(std::string_view name);
[[nodiscard]] std::string known_ops();

// Builders shared by the YAML loader and the Sigma importer. Errors say what is wrong; the
// caller adds where. `values` are any-of (a list field matches when any element matches).
[[nodiscard]] Result<NodePtr> make_predicate(const FieldDef& f, Op op,
                                             const std::vector<std::string>& values, bool nocase);
[[nodiscard]] NodePtr make_all(std::vector<NodePtr> children);
[[nodiscard]] NodePtr make_any(std::vector<NodePtr> children);
[[nodiscard]] NodePtr make_not(NodePtr child);
[[nodiscard]] NodePtr make_const(bool value);

// Per-rule response settings, parsed and typed here, acted on by the respond module.
enum class ResponseAction : uint8_t { kWarn, kFreeze, kTerminate, kKill };
enum class RuleMode : uint8_t { kDetect, kEnforce };
[[nodiscard]] std::string_view to_string(ResponseAction a);
[[nodiscard]] std::string_view to_string(RuleMode m);
struct ResponseSpec {
  std::vector<ResponseAction> actions;  // in the order written
  RuleMode mode = RuleMode::kDetect;
  [[nodiscard]] bool has(ResponseAction a) const {
    for (auto x : actions) {
      if (x == a) return true;
    }
    return false;
  }
};

// Output template: literal text and {field.name} placeholders, resolved at load.
struct TemplatePart {
  std::string literal;
  const FieldDef* field = nullptr;  // null: literal only
};
using Template = std::vector<TemplatePart>;
[[nodiscard]] std::string render(const Template& t, EvalCtx& c);

enum class SequenceKey : uint8_t { kSession, kProcessTree };

struct SequenceStep {
  std::string name;
  NodePtr condition;
  // this step's field == the previous step's field (values captured when that step matched)
  std::vector<std::pair<const FieldDef*, const FieldDef*>> same;
};

struct SequenceSpec {
  uint64_t window_ns = 0;
  SequenceKey by = SequenceKey::kSession;
  std::vector<SequenceStep> steps;
};

struct Rule {
  std::string name;
  std::string description;
  std::string origin;           // "file:line:col" of the rule
  std::string source = "rule";  // "rule" or "sigma"
  model::Severity severity = model::Severity::kMedium;
  std::string mitre;  // "T1059.004" or "T1003.008,T1552.001"
  std::vector<std::string> tags;
  NodePtr condition;  // single-event rules
  NodePtr exception;  // any exception matching suppresses the alert; may be null
  std::optional<SequenceSpec> sequence;
  Template output;
  ResponseSpec response;
  KindMask kinds = kAllKinds;  // kinds the condition (or any sequence step) can match
};

struct RuleSet {
  std::vector<std::unique_ptr<Rule>> rules;
  std::vector<std::string> sources;  // files (or "<embedded default>") the rules came from
  // Sigma documents that were skipped (unsupported), one "file:line: title: reason" each.
  std::vector<std::string> skipped;
};

// Parses one YAML text (our rule format, or a Sigma rule) into `into`. Lists and macros are
// shared across every text added to the same RuleSetBuilder, in load order.
class RuleSetBuilder {
 public:
  RuleSetBuilder();
  ~RuleSetBuilder();
  RuleSetBuilder(RuleSetBuilder&&) noexcept;
  RuleSetBuilder& operator=(RuleSetBuilder&&) noexcept;

  // Errors name origin:line:column, what is wrong and what to do.
  [[nodiscard]] Status add_text(const std::string& text, const std::string& origin);
  // A file, or a directory whose *.yaml / *.yml files are added in name order.
  [[nodiscard]] Status add_path(const std::string& path);
  [[nodiscard]] RuleSet finish() &&;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace privwatch::detect
