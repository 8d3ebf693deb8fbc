// Compiled condition nodes: predicates over one field, and/or/not.
#include <fmt/format.h>
#include <fnmatch.h>
#include <re2/re2.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <unordered_set>

#include "detect/rules.hpp"

namespace privwatch::detect {

namespace {

constexpr std::pair<std::string_view, Op> kOps[] = {
    {"equals", Op::kEquals},
    {"in", Op::kIn},
    {"startswith", Op::kStartsWith},
    {"endswith", Op::kEndsWith},
    {"contains", Op::kContains},
    {"glob", Op::kGlob},
    {"regex", Op::kRegex},
    {"cidr", Op::kCidr},
    {"gt", Op::kGt},
    {"gte", Op::kGte},
    {"lt", Op::kLt},
    {"lte", Op::kLte},
    {"bits_any", Op::kBitsAny},
    {"bits_all", Op::kBitsAll},
    {"exists", Op::kExists},
};

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

std::string lowered(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

bool ieq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != b[i]) return false;  // b is lowered
  }
  return true;
}

// Case-insensitive search of lowered `needle` in `hay`.
bool icontains(std::string_view hay, std::string_view needle) {
  if (needle.empty()) return true;
  if (hay.size() < needle.size()) return false;
  const char first = needle[0];
  const char first_up = (first >= 'a' && first <= 'z') ? static_cast<char>(first - 32) : first;
  for (size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    if (hay[i] != first && hay[i] != first_up) continue;
    if (ieq(hay.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

// '*' and '?' only (no classes, no escapes); '*' matches '/' too. Iterative with one
// backtrack point: linear in practice.
bool glob_match(std::string_view p, std::string_view s, bool nocase) {
  size_t pi = 0, si = 0, star = std::string_view::npos, mark = 0;
  auto eq = [nocase](char a, char b) { return nocase ? lower(a) == lower(b) : a == b; };
  while (si < s.size()) {
    if (pi < p.size() && (p[pi] == '?' || (p[pi] != '*' && eq(p[pi], s[si])))) {
      ++pi;
      ++si;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = si;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

// The longest run of literal characters of a glob pattern (lower-cased): every string the
// pattern matches contains it. Escapes (\\x) are literal characters; * ? and [...] end a run.
std::string glob_necessary_literal(std::string_view p) {
  std::string best, cur;
  auto end_run = [&] {
    if (cur.size() > best.size()) best = cur;
    cur.clear();
  };
  for (size_t i = 0; i < p.size(); ++i) {
    const char ch = p[i];
    if (ch == '*' || ch == '?') {
      end_run();
    } else if (ch == '[') {
      end_run();
      size_t j = i + 1;
      if (j < p.size() && (p[j] == '!' || p[j] == '^')) ++j;
      if (j < p.size() && p[j] == ']') ++j;
      while (j < p.size() && p[j] != ']') ++j;
      if (j >= p.size()) break;  // unclosed: stop here (what follows is not needed)
      i = j;
    } else if (ch == '\\' && i + 1 < p.size()) {
      cur.push_back(lower(p[++i]));
    } else if (ch == '\\') {
      end_run();
    } else {
      cur.push_back(lower(ch));
    }
  }
  end_run();
  return best;
}

std::string quoted_list(const std::vector<std::string>& v) {
  std::string out;
  for (size_t i = 0; i < v.size() && i < 8; ++i) {
    if (!out.empty()) out += ", ";
    out += v[i];
  }
  if (v.size() > 8) out += fmt::format(", … ({} in all)", v.size());
  return v.size() == 1 ? out : "[" + out + "]";
}

// Parses 123, 0x1f, 0o755, -5.
std::optional<int64_t> parse_int(std::string_view s) {
  bool neg = false;
  if (!s.empty() && s[0] == '-') {
    neg = true;
    s.remove_prefix(1);
  }
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  } else if (s.size() > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'O')) {
    base = 8;
    s.remove_prefix(2);
  }
  if (s.empty()) return std::nullopt;
  int64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return neg ? -v : v;
}

// --- combinators ------------------------------------------------------------------------

class AllNode final : public Node {
 public:
  explicit AllNode(std::vector<NodePtr> c) : children_(std::move(c)) {
    cost = 0;
    for (const auto& n : children_) {
      kinds &= n->kinds;
      cost += n->cost;
    }
    std::stable_sort(children_.begin(), children_.end(),
                     [](const NodePtr& a, const NodePtr& b) { return a->cost < b->cost; });
  }
  bool eval(EvalCtx& c) const override {
    for (const auto& n : children_) {
      if (!n->eval(c)) return false;
    }
    return true;
  }
  void explain(EvalCtx& c, std::string& out) const override {
    for (const auto& n : children_) n->explain(c, out);
  }
  bool necessary(size_t kind, bool literals, Needs& out) const override {
    // The most selective child's needs (any child's are necessary for an and).
    double best = 0;
    bool found = false;
    for (const auto& n : children_) {
      if ((n->kinds & (1u << kind)) == 0) {  // this child, hence the and, is never true
        out.clear();
        return true;
      }
      Needs k;
      if (!n->necessary(kind, literals, k)) continue;
      const double score = need_score(k);
      if (!found || score < best) {
        best = score;
        found = true;
        out = std::move(k);
      }
    }
    return found;
  }

 private:
  std::vector<NodePtr> children_;
};

class AnyNode final : public Node {
 public:
  explicit AnyNode(std::vector<NodePtr> c) : children_(std::move(c)) {
    kinds = 0;
    cost = 0;
    for (const auto& n : children_) {
      kinds |= n->kinds;
      cost += n->cost;
    }
    std::stable_sort(children_.begin(), children_.end(),
                     [](const NodePtr& a, const NodePtr& b) { return a->cost < b->cost; });
  }
  bool eval(EvalCtx& c) const override {
    for (const auto& n : children_) {
      if (n->eval(c)) return true;
    }
    return false;
  }
  void explain(EvalCtx& c, std::string& out) const override {
    for (const auto& n : children_) {
      if (n->eval(c)) {
        n->explain(c, out);
        return;
      }
    }
  }
  bool necessary(size_t kind, bool literals, Needs& out) const override {
    // Every child that can be true for this kind must have needs; the or needs their union.
    Needs all;
    for (const auto& n : children_) {
      if ((n->kinds & (1u << kind)) == 0) continue;
      Needs k;
      if (!n->necessary(kind, literals, k)) return false;
      for (auto& x : k) all.push_back(std::move(x));
    }
    out = std::move(all);
    return true;
  }

 private:
  std::vector<NodePtr> children_;
};

class NotNode final : public Node {
 public:
  explicit NotNode(NodePtr c) : child_(std::move(c)) { cost = child_->cost; }
  bool eval(EvalCtx& c) const override { return !child_->eval(c); }
  void explain(EvalCtx&, std::string&) const override {}  // absence is not evidence

 private:
  NodePtr child_;
};

class ConstNode final : public Node {
 public:
  explicit ConstNode(bool v) : v_(v) {
    if (!v) kinds = 0;
  }
  bool eval(EvalCtx&) const override { return v_; }
  void explain(EvalCtx&, std::string&) const override {}
  bool necessary(size_t, bool, Needs& out) const override {
    if (v_) return false;
    out.clear();  // never true
    return true;
  }

 private:
  bool v_;
};

// --- predicates -------------------------------------------------------------------------

class FieldNode : public Node {
 public:
  FieldNode(const FieldDef& f, Op op, std::vector<std::string> shown, bool nocase)
      : f_(f), op_(op), shown_(std::move(shown)), nocase_(nocase) {}
  void explain(EvalCtx& c, std::string& out) const override {
    if (!out.empty()) out += "; ";
    std::string value = field_text(f_, c);
    if (value.size() > 200) value = value.substr(0, 200) + "…";
    out += fmt::format("{} '{}' {}{} {}", f_.name, value, to_string(op_),
                       nocase_ ? " (nocase)" : "", quoted_list(shown_));
  }

 protected:
  const FieldDef& f_;
  Op op_;
  std::vector<std::string> shown_;
  bool nocase_;
};

class StrNode final : public FieldNode {
 public:
  StrNode(const FieldDef& f, Op op, std::vector<std::string> values, bool nocase)
      : FieldNode(f, op, values, nocase) {
    for (auto& v : values) {
      if (nocase) v = lowered(v);
    }
    if ((op == Op::kEquals || op == Op::kIn) && values.size() <= 8) {
      small_ = std::move(values);
    } else if (op == Op::kEquals || op == Op::kIn) {
      set_.insert(values.begin(), values.end());
    } else {
      patterns_ = std::move(values);
    }
    if (op == Op::kGlob) {
      for (const auto& p : patterns_) {
        // Longest run without wildcards; patterns with classes or escapes go to fnmatch.
        std::string best, cur;
        bool simple = true;
        for (char ch : p) {
          if (ch == '[' || ch == '\\') simple = false;
          if (ch == '*' || ch == '?' || ch == '[' || ch == ']' || ch == '\\') {
            if (cur.size() > best.size()) best = cur;
            cur.clear();
          } else {
            cur.push_back(ch);
          }
        }
        if (cur.size() > best.size()) best = cur;
        glob_literal_.push_back(simple ? best : std::string());
        glob_simple_.push_back(simple);
      }
    }
    cost = op == Op::kEquals || op == Op::kIn             ? 2
           : op == Op::kStartsWith || op == Op::kEndsWith ? 3
           : op == Op::kContains                          ? 6
           : op == Op::kGlob                              ? 8
                                                          : 16;
    if (nocase) cost += 2;
    if (f.name.ends_with("command_line")) cost += 4;
    if (f.type == FieldType::kStringList) cost += 4;
  }
  Status compile_regexes() {
    for (const auto& p : patterns_) {
      RE2::Options o;
      o.set_case_sensitive(!nocase_);
      o.set_log_errors(false);
      auto re = std::make_unique<RE2>(p, o);
      if (!re->ok()) {
        return Error{ErrorKind::kInvalidArgument,
                     fmt::format("invalid regular expression '{}': {}", p, re->error()),
                     "regex uses RE2 syntax (no backreferences or lookaround)"};
      }
      regexes_.push_back(std::move(re));
    }
    return {};
  }
  bool necessary(size_t, bool literals, Needs& out) const override {
    const bool exe = f_.name == "process.executable", name = f_.name == "process.name";
    std::vector<std::string> values;  // equals / in values, or patterns
    values.insert(values.end(), small_.begin(), small_.end());
    values.insert(values.end(), set_.begin(), set_.end());
    const bool equality = op_ == Op::kEquals || op_ == Op::kIn;
    if (!equality) values = patterns_;
    // Exact keys: the executable's basename, the process name.
    if ((exe || name) &&
        (equality || (exe && op_ == Op::kEndsWith &&
                      std::all_of(values.begin(), values.end(), [](const std::string& p) {
                        return p.find('/') != std::string::npos;  // "tool" could end "/x/mytool"
                      })))) {
      out.clear();
      for (const auto& v : values) {
        out.push_back({Need::Type::kKey, &f_,
                       lowered(exe ? std::string_view(v).substr(v.rfind('/') + 1) : v)});
      }
      return !out.empty();
    }
    if (!literals) return false;
    // Literals: each value must occur in the field (a glob: its longest literal run). An element
    // of process.args occurs in process.command_line (the args joined by spaces).
    const FieldDef* lf = &f_;
    if (f_.type == FieldType::kStringList) {
      if (f_.name == "process.args") {
        lf = find_field("process.command_line");
      } else if (f_.name == "process.parent.args") {
        lf = find_field("process.parent.command_line");
      } else {
        return false;
      }
    }
    if (op_ == Op::kRegex || !is_literal_field(*lf)) return false;
    out.clear();
    for (const auto& v : values) {
      std::string lit = op_ == Op::kGlob ? glob_necessary_literal(v) : lowered(v);
      if (lit.empty()) return false;  // nothing that must occur
      out.push_back({Need::Type::kLiteral, lf, std::move(lit)});
    }
    return !out.empty();
  }
  bool eval(EvalCtx& c) const override {
    if (f_.type == FieldType::kStringList) {
      const auto* l = f_.list(c);
      if (l == nullptr) return false;
      for (const auto& s : *l) {
        if (match(s)) return true;
      }
      return false;
    }
    const std::string_view v = f_.str(c);
    if (v.empty()) return false;
    // Case-insensitive searches run on the field lower-cased once per event (shared by every
    // rule that searches the field): a plain memchr/memcmp search instead of folding each byte.
    if (nocase_ && (op_ == Op::kContains || op_ == Op::kGlob)) {
      return match(lowered_value(f_, c), true);
    }
    return match(v);
  }

 private:
  // `folded`: v is lower-cased already (the patterns of a nocase node are).
  bool match(std::string_view v, bool folded = false) const {
    const bool nocase = nocase_ && !folded;
    switch (op_) {
      case Op::kEquals:
      case Op::kIn:
        if (!small_.empty()) {
          for (const auto& p : small_) {
            if (nocase_ ? ieq(v, p) : v == p) return true;
          }
          return false;
        }
        if (nocase_) {
          thread_local std::string tmp;
          tmp.assign(v);
          for (char& ch : tmp) ch = lower(ch);
          return set_.find(std::string_view(tmp)) != set_.end();
        }
        return set_.find(v) != set_.end();
      case Op::kStartsWith:
        for (const auto& p : patterns_) {
          if (v.size() >= p.size() &&
              (nocase_ ? ieq(v.substr(0, p.size()), p) : v.compare(0, p.size(), p) == 0)) {
            return true;
          }
        }
        return false;
      case Op::kEndsWith:
        for (const auto& p : patterns_) {
          if (v.size() >= p.size() &&
              (nocase_ ? ieq(v.substr(v.size() - p.size()), p)
                       : v.compare(v.size() - p.size(), p.size(), p) == 0)) {
            return true;
          }
        }
        return false;
      case Op::kContains:
        for (const auto& p : patterns_) {
          if (nocase ? icontains(v, p) : v.find(p) != std::string_view::npos) return true;
        }
        return false;
      case Op::kGlob:
        for (size_t i = 0; i < patterns_.size(); ++i) {
          // The longest literal run of the pattern must occur first (cheap rejection).
          const std::string& lit = glob_literal_[i];
          if (!lit.empty() &&
              (nocase ? !icontains(v, lit) : v.find(lit) == std::string_view::npos)) {
            continue;
          }
          if (glob_simple_[i] ? glob_match(patterns_[i], v, nocase)
                              : fnmatch(patterns_[i].c_str(), std::string(v).c_str(),
                                        nocase_ ? FNM_CASEFOLD : 0) == 0) {
            return true;
          }
        }
        return false;
      case Op::kRegex:
        for (const auto& re : regexes_) {
          if (RE2::PartialMatch(re2::StringPiece(v.data(), v.size()), *re)) return true;
        }
        return false;
      default:
        return false;
    }
  }

  struct SvHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_set<std::string, SvHash, std::equal_to<>> set_;
  std::vector<std::string> small_;  // equals/in with few values: a scan beats hashing
  std::vector<std::string> glob_literal_;
  std::vector<bool> glob_simple_;
  std::vector<std::string> patterns_;
  std::vector<std::unique_ptr<RE2>> regexes_;
};

class IntNode final : public FieldNode {
 public:
  IntNode(const FieldDef& f, Op op, std::vector<std::string> shown, std::vector<int64_t> values)
      : FieldNode(f, op, std::move(shown), false), values_(std::move(values)) {}
  bool necessary(size_t, bool, Needs& out) const override {
    if (f_.name != "destination.port" || (op_ != Op::kEquals && op_ != Op::kIn)) return false;
    out.clear();
    for (int64_t v : values_) out.push_back({Need::Type::kKey, &f_, std::to_string(v)});
    return true;
  }
  bool eval(EvalCtx& c) const override {
    const auto v = f_.num(c);
    if (!v) return false;
    for (const int64_t x : values_) {
      bool ok = false;
      switch (op_) {
        case Op::kEquals:
        case Op::kIn:
          ok = *v == x;
          break;
        case Op::kGt:
          ok = *v > x;
          break;
        case Op::kGte:
          ok = *v >= x;
          break;
        case Op::kLt:
          ok = *v < x;
          break;
        case Op::kLte:
          ok = *v <= x;
          break;
        case Op::kBitsAny:
          ok = (*v & x) != 0;
          break;
        case Op::kBitsAll:
          ok = (*v & x) == x;
          break;
        default:
          break;
      }
      if (ok) return true;
    }
    return false;
  }

 private:
  std::vector<int64_t> values_;
};

class BoolNode final : public FieldNode {
 public:
  BoolNode(const FieldDef& f, bool want)
      : FieldNode(f, Op::kEquals, {want ? "true" : "false"}, false), want_(want) {}
  bool necessary(size_t, bool, Needs& out) const override {
    if (f_.name != "file.write") return false;
    out = {{Need::Type::kKey, &f_, want_ ? "true" : "false"}};
    return true;
  }
  bool eval(EvalCtx& c) const override {
    const auto v = f_.flag(c);
    return v && *v == want_;
  }

 private:
  bool want_;
};

struct Cidr {
  IpValue net;
  unsigned bits = 0;
};

class IpNode final : public FieldNode {
 public:
  IpNode(const FieldDef& f, Op op, std::vector<std::string> shown, std::vector<Cidr> nets)
      : FieldNode(f, op, std::move(shown), false), nets_(std::move(nets)) {}
  bool eval(EvalCtx& c) const override {
    const IpValue v = f_.ip(c);
    if (v.family == 0) return false;
    for (const auto& n : nets_) {
      if (n.net.family != v.family) continue;
      const unsigned full = n.bits / 8, rest = n.bits % 8;
      if (std::memcmp(v.addr.data(), n.net.addr.data(), full) != 0) continue;
      if (rest != 0) {
        const uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
        if ((v.addr[full] & mask) != (n.net.addr[full] & mask)) continue;
      }
      return true;
    }
    return false;
  }

 private:
  std::vector<Cidr> nets_;
};

class ExistsNode final : public FieldNode {
 public:
  explicit ExistsNode(const FieldDef& f) : FieldNode(f, Op::kExists, {"true"}, false) {}
  bool eval(EvalCtx& c) const override {
    switch (f_.type) {
      case FieldType::kString:
        return !f_.str(c).empty();
      case FieldType::kStringList:
        return f_.list(c) != nullptr;
      case FieldType::kInt:
        return f_.num(c).has_value();
      case FieldType::kBool:
        return f_.flag(c).has_value();
      case FieldType::kIp:
        return f_.ip(c).family != 0;
    }
    return false;
  }
};

std::optional<Cidr> parse_cidr(std::string_view text) {
  Cidr c;
  const size_t slash = text.find('/');
  const auto ip = parse_ip(text.substr(0, slash));
  if (!ip) return std::nullopt;
  c.net = *ip;
  const unsigned max = ip->family == 4 ? 32 : 128;
  c.bits = max;
  if (slash != std::string_view::npos) {
    const auto bits = parse_int(text.substr(slash + 1));
    if (!bits || *bits < 0 || *bits > max) return std::nullopt;
    c.bits = static_cast<unsigned>(*bits);
    // "::ffff:10.0.0.0/104" style is folded to IPv4 by parse_ip; adjust the prefix.
    if (ip->family == 4 && text.find(':') != std::string_view::npos) {
      if (c.bits < 96) return std::nullopt;
      c.bits -= 96;
    }
  }
  return c;
}

KindMask kinds_for_values(const FieldDef& f, Op op, const std::vector<std::string>& values) {
  if (op != Op::kEquals && op != Op::kIn) return kAllKinds;
  KindMask (*fn)(std::string_view) = nullptr;
  if (f.name == "event.action") fn = kinds_of_action;
  if (f.name == "privwatch.kind") fn = kinds_of_kind_name;
  if (fn == nullptr) return kAllKinds;
  KindMask m = 0;
  for (const auto& v : values) {
    const KindMask k = fn(v);
    m |= k == 0 ? kAllKinds : k;
  }
  return m;
}

}  // namespace

bool is_key_field(const FieldDef& f) {
  return f.name == "process.executable" || f.name == "process.name" ||
         f.name == "destination.port" || f.name == "file.write";
}

bool is_literal_field(const FieldDef& f) {
  // Enumerations (a handful of values each: a literal of theirs is met by a large share of the
  // events) take no literal needs; free text does.
  static constexpr std::string_view kEnumerations[] = {
      "event.action",         "event.outcome",
      "privwatch.kind",       "network.type",
      "network.transport",    "session.entry_type",
      "privwatch.escalation", "privwatch.ptrace.request",
      "privwatch.signal.name"};
  if (f.type != FieldType::kString) return false;
  return std::find(std::begin(kEnumerations), std::end(kEnumerations), f.name) ==
         std::end(kEnumerations);
}

double need_score(const Needs& needs) {
  double p = 0;
  for (const auto& n : needs) {
    if (n.type == Need::Type::kKey) {
      p += n.field->name == "file.write" ? (n.value == "true" ? 0.3 : 0.7) : 0.02;
    } else {
      // A literal: the longer, the rarer. (/usr/bin/ is long and common: a rough estimate.)
      static constexpr double kByLength[] = {1.0, 0.6, 0.3, 0.1, 0.04};
      p += n.value.size() < std::size(kByLength) ? kByLength[n.value.size()] : 0.01;
    }
  }
  return p;
}

std::string_view to_string(Op op) {
  for (const auto& [name, o] : kOps) {
    if (o == op) return name;
  }
  return "?";
}

std::optional<Op> op_from_name(std::string_view name) {
  for (const auto& [n, o] : kOps) {
    if (n == name) return o;
  }
  return std::nullopt;
}

std::string known_ops() {
  std::string out;
  for (const auto& [n, o] : kOps) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

Result<NodePtr> make_predicate(const FieldDef& f, Op op, const std::vector<std::string>& values,
                               bool nocase) {
  auto bad_type = [&](std::string_view) -> Error {
    return Error{ErrorKind::kInvalidArgument,
                 fmt::format("operator '{}' does not apply to {}, a {}", to_string(op), f.name,
                             to_string(f.type)),
                 f.type == FieldType::kInt
                     ? "numbers take equals, in, gt, gte, lt, lte, bits_any, bits_all"
                 : f.type == FieldType::kIp ? "IP addresses take equals, in, cidr"
                 : f.type == FieldType::kBool
                     ? "booleans take a plain true or false"
                     : "strings take equals, in, startswith, endswith, contains, glob, regex"};
  };
  if (op == Op::kExists) {
    NodePtr n = std::make_unique<ExistsNode>(f);
    return n;
  }
  if (values.empty()) {
    return Error{ErrorKind::kInvalidArgument,
                 fmt::format("operator '{}' on {} has no value", to_string(op), f.name),
                 "give a value or a non-empty list of values"};
  }
  NodePtr node;
  switch (f.type) {
    case FieldType::kString:
    case FieldType::kStringList: {
      switch (op) {
        case Op::kEquals:
        case Op::kIn:
        case Op::kStartsWith:
        case Op::kEndsWith:
        case Op::kContains:
        case Op::kGlob:
        case Op::kRegex:
          break;
        default:
          return bad_type("a string");
      }
      auto s = std::make_unique<StrNode>(f, op, values, nocase);
      if (op == Op::kRegex) {
        if (auto st = s->compile_regexes(); !st) return st.error();
      }
      node = std::move(s);
      break;
    }
    case FieldType::kInt: {
      switch (op) {
        case Op::kEquals:
        case Op::kIn:
        case Op::kGt:
        case Op::kGte:
        case Op::kLt:
        case Op::kLte:
        case Op::kBitsAny:
        case Op::kBitsAll:
          break;
        default:
          return bad_type("a number");
      }
      std::vector<int64_t> nums;
      for (const auto& v : values) {
        const auto n = parse_int(v);
        if (!n) {
          return Error{ErrorKind::kInvalidArgument,
                       fmt::format("{} is a number; '{}' is not a number", f.name, v),
                       "write a decimal number, 0x.. (hex) or 0o.. (octal), e.g. 0o4000"};
        }
        nums.push_back(*n);
      }
      node = std::make_unique<IntNode>(f, op, values, std::move(nums));
      break;
    }
    case FieldType::kBool: {
      if (op != Op::kEquals || values.size() != 1) return bad_type("a string or number");
      if (values[0] != "true" && values[0] != "false") {
        return Error{ErrorKind::kInvalidArgument,
                     fmt::format("{} is a boolean; '{}' is not true or false", f.name, values[0]),
                     "write true or false"};
      }
      node = std::make_unique<BoolNode>(f, values[0] == "true");
      break;
    }
    case FieldType::kIp: {
      if (op != Op::kEquals && op != Op::kIn && op != Op::kCidr) return bad_type("a string");
      std::vector<Cidr> nets;
      for (const auto& v : values) {
        const bool has_prefix = v.find('/') != std::string::npos;
        if (has_prefix && op != Op::kCidr) {
          return Error{
              ErrorKind::kInvalidArgument,
              fmt::format("'{}' is a network; {} compares single addresses", v, to_string(op)),
              "use the cidr operator for networks: {cidr: [10.0.0.0/8]}"};
        }
        const auto c = parse_cidr(v);
        if (!c) {
          return Error{ErrorKind::kInvalidArgument,
                       fmt::format("'{}' is not an IP address{}", v,
                                   op == Op::kCidr ? " or network (CIDR)" : ""),
                       "write an IPv4 or IPv6 address, or a network such as 10.0.0.0/8 or "
                       "fc00::/7"};
        }
        nets.push_back(*c);
      }
      node = std::make_unique<IpNode>(f, op, values, std::move(nets));
      break;
    }
  }
  node->kinds = kinds_for_values(f, op, values);
  return node;
}

NodePtr make_all(std::vector<NodePtr> children) {
  if (children.size() == 1) return std::move(children[0]);
  return std::make_unique<AllNode>(std::move(children));
}
NodePtr make_any(std::vector<NodePtr> children) {
  if (children.size() == 1) return std::move(children[0]);
  return std::make_unique<AnyNode>(std::move(children));
}
NodePtr make_not(NodePtr child) { return std::make_unique<NotNode>(std::move(child)); }
NodePtr make_const(bool value) { return std::make_unique<ConstNode>(value); }

std::string render(const Template& t, EvalCtx& c) {
  std::string out;
  for (const auto& part : t) {
    out += part.literal;
    if (part.field != nullptr) {
      std::string v = field_text(*part.field, c);
      if (v.size() > 512) v = v.substr(0, 512) + "…";
      out += v;
    }
  }
  return out;
}

std::string_view to_string(ResponseAction a) {
  switch (a) {
    case ResponseAction::kWarn:
      return "warn";
    case ResponseAction::kFreeze:
      return "freeze";
    case ResponseAction::kTerminate:
      return "terminate";
    case ResponseAction::kKill:
      return "kill";
  }
  return "?";
}

std::string_view to_string(RuleMode m) { return m == RuleMode::kEnforce ? "enforce" : "detect"; }

}  // namespace privwatch::detect
