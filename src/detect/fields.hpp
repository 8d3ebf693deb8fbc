// Event fields by ECS-style dotted name (process.executable, user.name, destination.ip, ...).
// A rule names fields as text once, at load time; the name resolves to a FieldDef whose accessor
// reads the value straight out of model::Event (and its Attribution). No lookup per event.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/event.hpp"

namespace privwatch::detect {

enum class FieldType : uint8_t { kString, kStringList, kInt, kBool, kIp };
[[nodiscard]] std::string_view to_string(FieldType t);

// An IPv4 or IPv6 address (IPv4 kept as 4 bytes, IPv4-mapped IPv6 folded to IPv4).
struct IpValue {
  uint8_t family = 0;  // 4, 6, or 0 when absent
  std::array<uint8_t, 16> addr{};
};

struct FieldDef;

// Per-event evaluation state: the event, and values computed at most once per event.
struct EvalCtx {
  const model::Event* ev = nullptr;
  uint32_t self_pid = 0;  // the agent's own pid (privwatch.target.self)
  // Lazily joined command lines (process.command_line, process.parent.command_line).
  std::string cmdline, parent_cmdline;
  bool cmdline_done = false, parent_cmdline_done = false;
  // Lazily lower-cased string fields (case-insensitive contains / glob), by field index; an
  // entry is valid when its epoch is the current one. The buffers keep their capacity.
  uint32_t epoch = 1;
  std::vector<uint32_t> lower_epoch;
  std::vector<std::string> lower;

  void reset(const model::Event& e) {
    ev = &e;
    cmdline_done = parent_cmdline_done = false;
    if (++epoch == 0) {  // wrapped: forget every cached value
      std::fill(lower_epoch.begin(), lower_epoch.end(), 0u);
      epoch = 1;
    }
  }
};

using StrFn = std::string_view (*)(EvalCtx&);                  // "" = absent
using ListFn = const std::vector<std::string>* (*)(EvalCtx&);  // nullptr = absent
using IntFn = std::optional<int64_t> (*)(EvalCtx&);
using BoolFn = std::optional<bool> (*)(EvalCtx&);
using IpFn = IpValue (*)(EvalCtx&);

// Bit i set = event kind i (model::EventKind) can carry the field / match the rule.
using KindMask = uint32_t;
inline constexpr KindMask kAllKinds = ((1u << model::kEventKindCount) - 1) & ~1u;
[[nodiscard]] constexpr KindMask kind_bit(model::EventKind k) {
  return 1u << static_cast<unsigned>(k);
}

struct FieldDef {
  std::string_view name;
  FieldType type;
  StrFn str = nullptr;
  ListFn list = nullptr;
  IntFn num = nullptr;
  BoolFn flag = nullptr;
  IpFn ip = nullptr;
  std::string_view doc;
};

// Every field, in documentation order.
[[nodiscard]] std::span<const FieldDef> all_fields();
// The position of `f` in all_fields().
[[nodiscard]] size_t field_index(const FieldDef& f);
// The value of string field `f` lower-cased (ASCII), computed at most once per event.
[[nodiscard]] std::string_view lowered_value(const FieldDef& f, EvalCtx& c);
// nullptr when unknown.
[[nodiscard]] const FieldDef* find_field(std::string_view name);
// The closest known name (for "did you mean"), "" when nothing is close.
[[nodiscard]] std::string_view closest_field(std::string_view name);

// The value of a field as text (for output templates and explanations); lists are joined by
// spaces, absent values are "".
[[nodiscard]] std::string field_text(const FieldDef& f, EvalCtx& ctx);

// The event kinds an event.action value (model::event_action) belongs to.
[[nodiscard]] KindMask kinds_of_action(std::string_view action);   // 0 when unknown
[[nodiscard]] KindMask kinds_of_kind_name(std::string_view kind);  // 0 when unknown

// Parse "10.0.0.1" / "::1"; nullopt when not an address.
[[nodiscard]] std::optional<IpValue> parse_ip(std::string_view text);

size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace privwatch::detect
