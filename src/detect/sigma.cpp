// Sigma → engine rules. Supported: logsource product linux with category process_creation,
// file_event or network_connection; detection maps and lists of maps; modifiers contains,
// startswith, endswith, all, re, cidr, gt, gte, lt, lte, exists, cased; wildcards * and ?;
// conditions with and / or / not / parentheses / "1 of x*" / "all of x*" / "1 of them" /
// "all of them". Everything else is reported as unsupported with the reason.
#include "detect/sigma.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>

namespace privwatch::detect {

namespace {

struct Mapped {
  std::string_view sigma;
  std::string_view ours;
};

constexpr Mapped kCommonFields[] = {
    {"Image", "process.executable"},
    {"CommandLine", "process.command_line"},
    {"ParentImage", "process.parent.executable"},
    {"ParentCommandLine", "process.parent.command_line"},
    {"User", "user.name"},
    {"CurrentDirectory", "process.working_directory"},
    {"ProcessId", "process.pid"},
    {"ParentProcessId", "process.parent.pid"},
    {"LogonId", "user.audit.id"},
};
constexpr Mapped kFileFields[] = {{"TargetFilename", "file.path"}};
constexpr Mapped kNetFields[] = {
    {"DestinationIp", "destination.ip"}, {"DestinationPort", "destination.port"},
    {"SourceIp", "source.ip"},           {"SourcePort", "source.port"},
    {"Protocol", "network.transport"},
};
constexpr std::string_view kUnmappable[] = {"DestinationHostname",
                                            "SourceHostname",
                                            "OriginalFileName",
                                            "Hashes",
                                            "Company",
                                            "Product",
                                            "Description",
                                            "IntegrityLevel",
                                            "ParentUser",
                                            "Signature",
                                            "Imphash",
                                            "TerminalSessionId"};

enum class Category { kProcess, kFile, kNet };

std::string lowercase(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string slug(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    } else if (!out.empty() && out.back() != '-') {
      out.push_back('-');
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  if (out.size() > 72) out.resize(72);
  return out;
}

class Importer {
 public:
  Importer(const YAML::Node& doc, const std::string& origin) : doc_(doc), origin_(origin) {}

  Result<std::unique_ptr<Rule>> run() {
    auto rule = std::make_unique<Rule>();
    rule->source = "sigma";
    rule->origin = where(doc_.Mark());
    const auto title = doc_["title"];
    title_ = title && title.IsScalar() ? title.Scalar() : "";
    if (title_.empty()) return fail(doc_, "no title", "");
    rule->name = "sigma." + slug(title_);
    rule->description = title_;
    if (const auto d = doc_["description"]; d && d.IsScalar()) rule->description = d.Scalar();
    if (const auto a = doc_["action"]; a && a.IsScalar()) {
      return fail(a, fmt::format("'action: {}' rule collections are not supported", a.Scalar()),
                  "");
    }
    // logsource
    const auto ls = doc_["logsource"];
    if (!ls.IsMap()) return fail(ls, "logsource is not a mapping", "");
    const std::string product =
        ls["product"] && ls["product"].IsScalar() ? ls["product"].Scalar() : "";
    const std::string category =
        ls["category"] && ls["category"].IsScalar() ? ls["category"].Scalar() : "";
    if (product != "linux") {
      return fail(ls, fmt::format("logsource product '{}' is not supported (only linux)", product),
                  "");
    }
    if (ls["service"]) {
      return fail(ls["service"],
                  fmt::format("logsource service '{}' is not supported (privwatch observes "
                              "syscalls, not {} logs)",
                              ls["service"].Scalar(), ls["service"].Scalar()),
                  "");
    }
    if (category == "process_creation") {
      cat_ = Category::kProcess;
    } else if (category == "file_event") {
      cat_ = Category::kFile;
    } else if (category == "network_connection") {
      cat_ = Category::kNet;
    } else {
      return fail(ls,
                  fmt::format("logsource category '{}' is not supported (process_creation, "
                              "file_event, network_connection are)",
                              category.empty() ? "(none)" : category),
                  "");
    }
    // level, tags
    if (const auto l = doc_["level"]; l && l.IsScalar()) {
      static const std::map<std::string, model::Severity> kLevels = {
          {"informational", model::Severity::kInfo},
          {"low", model::Severity::kLow},
          {"medium", model::Severity::kMedium},
          {"high", model::Severity::kHigh},
          {"critical", model::Severity::kCritical}};
      const auto it = kLevels.find(l.Scalar());
      if (it == kLevels.end()) return fail(l, fmt::format("unknown level '{}'", l.Scalar()), "");
      rule->severity = it->second;
    }
    if (const auto t = doc_["tags"]; t && t.IsSequence()) {
      for (const auto& tag : t) {
        if (!tag.IsScalar()) continue;
        const std::string s = tag.Scalar();
        rule->tags.push_back(s);
        if (s.size() > 8 && s.rfind("attack.t", 0) == 0 &&
            std::isdigit(static_cast<unsigned char>(s[8]))) {
          if (!rule->mitre.empty()) rule->mitre += ",";
          std::string id = s.substr(7);
          id[0] = 'T';
          rule->mitre += id;
        }
      }
    }
    // detection
    const auto det = doc_["detection"];
    if (!det.IsMap()) return fail(det, "detection is not a mapping", "");
    for (const auto& kv : det) {
      const std::string key = kv.first.Scalar();
      if (key == "condition" || key == "timeframe") continue;
      ids_.push_back(key);
      items_[key] = kv.second;
    }
    if (det["timeframe"])
      return fail(det["timeframe"], "timeframe (aggregation) is not supported", "");
    const auto cond = det["condition"];
    if (!cond) return fail(det, "detection has no condition", "");
    NodePtr body;
    if (cond.IsSequence()) {
      std::vector<NodePtr> any;
      for (const auto& c : cond) {
        auto n = parse_condition(c);
        if (!n) return n.error();
        any.push_back(std::move(*n));
      }
      body = make_any(std::move(any));
    } else {
      auto n = parse_condition(cond);
      if (!n) return n.error();
      body = std::move(*n);
    }
    std::vector<NodePtr> all;
    if (auto s = add_logsource(all); !s) return s.error();
    all.push_back(std::move(body));
    rule->condition = make_all(std::move(all));
    rule->kinds = rule->condition->kinds;
    std::string out = "Sigma: " + title_;
    const FieldDef* exe = find_field("process.executable");
    const FieldDef* user = find_field("user.name");
    rule->output.push_back({out + " (", exe});
    rule->output.push_back({" by ", user});
    const FieldDef* detail = cat_ == Category::kProcess ? find_field("process.command_line")
                             : cat_ == Category::kFile  ? find_field("file.path")
                                                        : find_field("destination.ip");
    rule->output.push_back({": ", detail});
    rule->output.push_back({")", nullptr});
    return rule;
  }

 private:
  std::string where(const YAML::Mark& m) const {
    if (m.is_null()) return origin_;
    return fmt::format("{}:{}:{}", origin_, m.line + 1, m.column + 1);
  }
  Error fail(const YAML::Node& at, const std::string& why, const std::string& hint) const {
    return Error{ErrorKind::kUnsupported,
                 fmt::format("{}: {}{}", where(at ? at.Mark() : doc_.Mark()),
                             title_.empty() ? "" : "'" + title_ + "': ", why),
                 hint};
  }

  Status add_logsource(std::vector<NodePtr>& all) const {
    auto pred = [&](std::string_view field, Op op, std::vector<std::string> vals) -> NodePtr {
      auto n = make_predicate(*find_field(field), op, vals, false);
      return std::move(*n);
    };
    switch (cat_) {
      case Category::kProcess:
        all.push_back(pred("event.action", Op::kEquals, {"exec"}));
        all.push_back(pred("event.outcome", Op::kEquals, {"success"}));
        break;
      case Category::kFile:
        all.push_back(pred("privwatch.kind", Op::kEquals, {"file"}));
        all.push_back(pred("file.write", Op::kEquals, {"true"}));
        all.push_back(pred("event.outcome", Op::kEquals, {"success"}));
        break;
      case Category::kNet:
        all.push_back(pred("event.action", Op::kIn, {"connect", "accept"}));
        break;
    }
    return {};
  }

  Result<const FieldDef*> map_field(const std::string& name, const YAML::Node& at) const {
    auto lookup = [&](std::span<const Mapped> table) -> const FieldDef* {
      for (const auto& m : table) {
        if (m.sigma == name) return find_field(m.ours);
      }
      return nullptr;
    };
    const FieldDef* f = lookup(kCommonFields);
    if (f == nullptr && cat_ == Category::kFile) f = lookup(kFileFields);
    if (f == nullptr && cat_ == Category::kNet) f = lookup(kNetFields);
    if (f == nullptr && name.find('.') != std::string::npos) f = find_field(name);  // ours
    if (f != nullptr) return f;
    if (std::find(std::begin(kUnmappable), std::end(kUnmappable), name) != std::end(kUnmappable)) {
      return fail(at, fmt::format("field '{}' has no privwatch equivalent", name), "");
    }
    return fail(at, fmt::format("unknown Sigma field '{}' for this logsource", name), "");
  }

  // Sigma value with wildcards → (glob pattern or literal, is_glob).
  static std::pair<std::string, bool> sigma_value(const std::string& v) {
    std::string out;
    bool glob = false;
    for (size_t i = 0; i < v.size(); ++i) {
      const char c = v[i];
      if (c == '\\' && i + 1 < v.size() &&
          (v[i + 1] == '*' || v[i + 1] == '?' || v[i + 1] == '\\')) {
        out.push_back('\\');
        out.push_back(v[i + 1]);
        ++i;
        continue;
      }
      if (c == '*' || c == '?') {
        glob = true;
        out.push_back(c);
        continue;
      }
      if (c == '[' || c == ']' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    if (glob) return {out, true};
    // No wildcard: undo the escaping for a literal.
    std::string lit;
    for (size_t i = 0; i < out.size(); ++i) {
      if (out[i] == '\\' && i + 1 < out.size()) ++i;
      lit.push_back(out[i]);
    }
    return {lit, false};
  }

  Result<NodePtr> field_item(const std::string& key, const YAML::Node& value,
                             const YAML::Node& at) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (true) {
      const size_t bar = key.find('|', start);
      parts.push_back(key.substr(start, bar - start));
      if (bar == std::string::npos) break;
      start = bar + 1;
    }
    if (parts[0] == "Initiated" && cat_ == Category::kNet && parts.size() == 1 &&
        value.IsScalar()) {
      const std::string v = lowercase(value.Scalar());
      if (v != "true" && v != "false") return fail(at, "Initiated takes 'true' or 'false'", "");
      return make_predicate(*find_field("event.action"), Op::kEquals,
                            {v == "true" ? "connect" : "accept"}, false);
    }
    auto f = map_field(parts[0], at);
    if (!f) return f.error();
    std::string op = "equals";
    bool all = false, cased = false;
    for (size_t i = 1; i < parts.size(); ++i) {
      const std::string& m = parts[i];
      if (m == "contains" || m == "startswith" || m == "endswith" || m == "re" || m == "cidr" ||
          m == "gt" || m == "gte" || m == "lt" || m == "lte" || m == "exists") {
        op = m;
      } else if (m == "all") {
        all = true;
      } else if (m == "cased") {
        cased = true;
      } else if (m == "i" || m == "m" || m == "s") {
        if (op != "re") return fail(at, fmt::format("modifier '{}' without re", m), "");
        if (m != "i") return fail(at, fmt::format("regex flag '{}' is not supported", m), "");
      } else {
        return fail(at, fmt::format("modifier '{}' is not supported", m), "");
      }
    }
    std::vector<std::string> vals;
    bool has_null = false;
    auto collect = [&](const YAML::Node& v) -> Status {
      if (v.IsNull()) {
        has_null = true;
        return {};
      }
      if (!v.IsScalar()) return fail(v, "a value that is not a plain value", "");
      vals.push_back(v.Scalar());
      return {};
    };
    if (value.IsSequence()) {
      for (const auto& v : value) {
        if (auto s = collect(v); !s) return s.error();
      }
    } else if (auto s = collect(value); !s) {
      return s.error();
    }
    const FieldDef& fd = **f;
    if (op == "exists") {
      if (vals.size() != 1 || (vals[0] != "true" && vals[0] != "false")) {
        return fail(at, "exists takes true or false", "");
      }
      auto n = make_predicate(fd, Op::kExists, {}, false);
      return vals[0] == "true" ? std::move(*n) : make_not(std::move(*n));
    }
    if (has_null && vals.empty()) {  // "Field: null": the field is absent
      auto n = make_predicate(fd, Op::kExists, {}, false);
      return make_not(std::move(*n));
    }
    if (has_null) return fail(at, "null mixed with values is not supported", "");
    if (vals.empty()) return fail(at, "empty value list", "");
    const bool nocase = !cased;
    auto one = [&](const std::vector<std::string>& vs) -> Result<NodePtr> {
      Op o = Op::kEquals;
      std::vector<std::string> args;
      bool any_glob = false;
      if (fd.type == FieldType::kInt || fd.type == FieldType::kIp || op == "re" || op == "cidr" ||
          op == "gt" || op == "gte" || op == "lt" || op == "lte") {
        args = vs;
        o = op == "re"      ? Op::kRegex
            : op == "cidr"  ? Op::kCidr
            : op == "gt"    ? Op::kGt
            : op == "gte"   ? Op::kGte
            : op == "lt"    ? Op::kLt
            : op == "lte"   ? Op::kLte
            : vs.size() > 1 ? Op::kIn
                            : Op::kEquals;
        if (fd.type == FieldType::kIp && o == Op::kEquals && vs[0].find('/') != std::string::npos) {
          o = Op::kCidr;
        }
      } else {
        std::vector<std::pair<std::string, bool>> conv;
        for (const auto& v : vs) {
          auto c = sigma_value(v);
          any_glob = any_glob || c.second;
          conv.push_back(std::move(c));
        }
        if (any_glob) {
          o = Op::kGlob;
          for (auto& [p, g] : conv) {
            if (!g) {  // literal → escaped glob
              std::string e;
              for (char ch : p) {
                if (ch == '*' || ch == '?' || ch == '[' || ch == ']' || ch == '\\')
                  e.push_back('\\');
                e.push_back(ch);
              }
              p = e;
            }
            args.push_back(op == "contains"     ? "*" + p + "*"
                           : op == "startswith" ? p + "*"
                           : op == "endswith"   ? "*" + p
                                                : p);
          }
        } else {
          for (auto& [p, g] : conv) args.push_back(p);
          o = op == "contains"     ? Op::kContains
              : op == "startswith" ? Op::kStartsWith
              : op == "endswith"   ? Op::kEndsWith
              : args.size() > 1    ? Op::kIn
                                   : Op::kEquals;
        }
      }
      auto n = make_predicate(
          fd, o, args,
          fd.type == FieldType::kString || fd.type == FieldType::kStringList ? nocase : false);
      if (!n) return fail(at, n.error().message, n.error().hint);
      return n;
    };
    if (all) {
      std::vector<NodePtr> each;
      for (const auto& v : vals) {
        auto n = one({v});
        if (!n) return n;
        each.push_back(std::move(*n));
      }
      return make_all(std::move(each));
    }
    return one(vals);
  }

  Result<NodePtr> map_item(const YAML::Node& m) {
    std::vector<NodePtr> parts;
    for (const auto& kv : m) {
      auto n = field_item(kv.first.Scalar(), kv.second, kv.first);
      if (!n) return n;
      parts.push_back(std::move(*n));
    }
    if (parts.empty()) return fail(m, "empty selection", "");
    return make_all(std::move(parts));
  }

  Result<NodePtr> selection(const std::string& id) {
    const auto it = items_.find(id);
    if (it == items_.end()) {
      return fail(doc_["detection"]["condition"],
                  fmt::format("condition names '{}', which detection does not define", id), "");
    }
    const YAML::Node& n = it->second;
    if (n.IsMap()) return map_item(n);
    if (n.IsSequence()) {
      std::vector<NodePtr> any;
      for (const auto& item : n) {
        if (!item.IsMap()) {
          return fail(item, "keyword searches (values without a field) are not supported", "");
        }
        auto c = map_item(item);
        if (!c) return c;
        any.push_back(std::move(*c));
      }
      if (any.empty()) return fail(n, "empty selection", "");
      return make_any(std::move(any));
    }
    return fail(n, fmt::format("selection '{}' is neither a mapping nor a list", id), "");
  }

  // --- condition expression ---
  std::vector<std::string> toks_;
  size_t pos_ = 0;
  const YAML::Node* cond_node_ = nullptr;

  Result<NodePtr> parse_condition(const YAML::Node& c) {
    if (!c.IsScalar()) return fail(c, "condition is not a string", "");
    const std::string& s = c.Scalar();
    cond_node_ = &c;
    if (s.find('|') != std::string::npos) {
      return fail(c, "aggregations ('| count() by ...') are not supported", "");
    }
    toks_.clear();
    pos_ = 0;
    for (size_t i = 0; i < s.size();) {
      if (std::isspace(static_cast<unsigned char>(s[i]))) {
        ++i;
      } else if (s[i] == '(' || s[i] == ')') {
        toks_.emplace_back(1, s[i++]);
      } else {
        size_t j = i;
        while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j])) && s[j] != '(' &&
               s[j] != ')') {
          ++j;
        }
        toks_.push_back(s.substr(i, j - i));
        i = j;
      }
    }
    auto n = parse_or();
    if (!n) return n;
    if (pos_ != toks_.size()) {
      return fail(c, fmt::format("unexpected '{}' in condition", toks_[pos_]), "");
    }
    return n;
  }
  bool peek(std::string_view t) const { return pos_ < toks_.size() && toks_[pos_] == t; }
  Result<NodePtr> parse_or() {
    std::vector<NodePtr> any;
    auto first = parse_and();
    if (!first) return first;
    any.push_back(std::move(*first));
    while (peek("or")) {
      ++pos_;
      auto n = parse_and();
      if (!n) return n;
      any.push_back(std::move(*n));
    }
    return make_any(std::move(any));
  }
  Result<NodePtr> parse_and() {
    std::vector<NodePtr> all;
    auto first = parse_not();
    if (!first) return first;
    all.push_back(std::move(*first));
    while (peek("and")) {
      ++pos_;
      auto n = parse_not();
      if (!n) return n;
      all.push_back(std::move(*n));
    }
    return make_all(std::move(all));
  }
  Result<NodePtr> parse_not() {
    if (peek("not")) {
      ++pos_;
      auto n = parse_not();
      if (!n) return n;
      return make_not(std::move(*n));
    }
    return parse_atom();
  }
  Result<NodePtr> parse_atom() {
    if (pos_ >= toks_.size()) return fail(*cond_node_, "condition ends too early", "");
    const std::string t = toks_[pos_++];
    if (t == "(") {
      auto n = parse_or();
      if (!n) return n;
      if (!peek(")")) return fail(*cond_node_, "missing ')' in condition", "");
      ++pos_;
      return n;
    }
    if (t == "1" || t == "all" || t == "any") {
      if (!peek("of")) return fail(*cond_node_, fmt::format("expected 'of' after '{}'", t), "");
      ++pos_;
      if (pos_ >= toks_.size()) return fail(*cond_node_, "expected a pattern after 'of'", "");
      const std::string pat = toks_[pos_++];
      std::vector<NodePtr> parts;
      for (const auto& id : ids_) {
        const bool match = pat == "them"        ? id.rfind('_', 0) != 0
                           : pat.ends_with("*") ? id.rfind(pat.substr(0, pat.size() - 1), 0) == 0
                                                : id == pat;
        if (!match) continue;
        auto n = selection(id);
        if (!n) return n;
        parts.push_back(std::move(*n));
      }
      if (parts.empty()) {
        return fail(*cond_node_, fmt::format("'{} of {}' matches no selection", t, pat), "");
      }
      return t == "all" ? make_all(std::move(parts)) : make_any(std::move(parts));
    }
    if (t == "and" || t == "or" || t == ")") {
      return fail(*cond_node_, fmt::format("unexpected '{}' in condition", t), "");
    }
    if (t.find_first_of("0123456789") == 0) {
      return fail(*cond_node_, fmt::format("'{} of' (counts other than 1) is not supported", t),
                  "");
    }
    return selection(t);
  }

  const YAML::Node& doc_;
  const std::string& origin_;
  std::string title_;
  Category cat_ = Category::kProcess;
  std::vector<std::string> ids_;
  std::map<std::string, YAML::Node> items_;
};

}  // namespace

bool is_sigma_document(const YAML::Node& doc) {
  return doc.IsMap() && doc["detection"] && doc["logsource"];
}

Result<std::unique_ptr<Rule>> import_sigma(const YAML::Node& doc, const std::string& origin) {
  try {
    return Importer(doc, origin).run();
  } catch (const YAML::Exception& e) {
    return Error{ErrorKind::kInvalidArgument,
                 fmt::format("{}: malformed Sigma rule: {}", origin, e.what()), ""};
  }
}

}  // namespace privwatch::detect
