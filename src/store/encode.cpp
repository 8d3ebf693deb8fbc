#include "store/encode.hpp"

#include <variant>

#include "export/action_json.hpp"
#include "export/ecs_json.hpp"
#include "export/record_json.hpp"

namespace privwatch::store {

namespace {

void add_text(std::string& t, std::string_view s) {
  if (s.empty()) return;
  if (!t.empty()) t += ' ';
  t.append(s.data(), s.size());
}

void common(Record& r) {
  r.name.clear();
  r.host.clear();
  r.user.clear();
  r.human.clear();
  r.session.clear();
  r.cluster.clear();
  r.roles.clear();
  r.ref.clear();
  r.severity = -1;
  r.flags = 0;
  r.text.clear();
  r.body.clear();
  r.data.clear();
  r.tags.clear();
  r.packed.clear();
  r.has_digest = false;
  r.seq = 0;
}

// What an event adds to the full-text index (commands, arguments, paths, addresses) and its
// kRecFailed flag.
uint32_t event_text(const model::Event& ev, std::string& text) {
  uint32_t flags = 0;
  std::visit(
      [&](const auto& d) {
        using T = std::decay_t<decltype(d)>;
        if constexpr (std::is_same_v<T, model::ExecData>) {
          add_text(text, d.exe_path.empty() ? d.filename : d.exe_path);
          for (const auto& arg : d.args) add_text(text, arg);
          if (d.result < 0) flags |= kRecFailed;
        } else if constexpr (std::is_same_v<T, model::FileData>) {
          add_text(text, d.path.empty() ? d.requested_path : d.path);
          add_text(text, d.target_path.empty() ? d.requested_target : d.target_path);
          if (d.result < 0) flags |= kRecFailed;
        } else if constexpr (std::is_same_v<T, model::NetData>) {
          add_text(text, d.remote_ip());
          add_text(text, d.unix_path);
          if (d.result < 0) flags |= kRecFailed;
        } else if constexpr (std::is_same_v<T, model::ModuleData>) {
          add_text(text, d.name);
        } else if constexpr (std::is_same_v<T, model::MountData>) {
          add_text(text, d.source);
          add_text(text, d.target);
        } else if constexpr (std::is_same_v<T, model::BpfData>) {
          add_text(text, d.prog_name);
        }
      },
      ev.data);
  if (!text.empty() && ev.kind != model::EventKind::kExec) add_text(text, ev.proc.comm);
  return flags;
}

uint32_t event_flags(const model::Event& ev) {
  uint32_t flags = 0;
  if (ev.attr.escalated) flags |= kRecEscalated;
  if (ev.attr.drift != 0) flags |= kRecDrift;
  if ((ev.flags & model::kFlagSensitive) != 0) flags |= kRecSensitive;
  return flags;
}

std::string_view event_host(const model::Event& ev, std::string_view hostname) {
  return ev.attr.host.empty() ? hostname : std::string_view(ev.attr.host);
}
std::string_view event_user(const model::Event& ev) {
  return ev.effective_user_name.empty() ? ev.user_name : ev.effective_user_name;
}
std::string_view event_human(const model::Event& ev) {
  return ev.attr.human.empty() ? ev.login_user_name : ev.attr.human;
}

}  // namespace

void encode_event(const model::Event& ev, std::string_view hostname, Record& r,
                  std::string_view rendered) {
  common(r);
  r.kind = RecordKind::kEvent;
  r.wall_ns = ev.wall_time_ns;
  r.name = model::to_string(ev.kind);
  const auto& a = ev.attr;
  r.host = event_host(ev, hostname);
  r.user = event_user(ev);
  r.human = event_human(ev);
  if (a.session) r.session = a.session->id;
  r.roles = a.roles;
  r.cluster = a.cluster;
  // No ref for events: the pipeline's event id is in the body (event.sequence); the ref index
  // serves sessions and alerts.
  r.flags = event_flags(ev) | event_text(ev, r.text);
  if (!rendered.empty()) {
    r.body.assign(rendered.data(), rendered.size());
  } else {
    exporter::append_ecs_json(ev, r.body, r.host);
  }
}

void pack_event(const model::Event& ev, std::string_view hostname, std::string_view rendered,
                PackedEvent& out) {
  out.wall_ns = ev.wall_time_ns;
  out.kind = ev.kind;
  std::string& b = out.buf;
  b.clear();
  const std::string_view host = event_host(ev, hostname);
  if (!rendered.empty()) {
    b.reserve(rendered.size() + 256);
    b.append(rendered);
  } else {
    exporter::append_ecs_json(ev, b, host);
  }
  out.end[PackedEvent::kBody] = static_cast<uint32_t>(b.size());
  thread_local std::string text;  // the pipeline thread's; keeps its capacity
  text.clear();
  out.flags = event_flags(ev) | event_text(ev, text);
  auto put = [&](PackedEvent::Part p, std::string_view s) {
    b.append(s);
    out.end[p] = static_cast<uint32_t>(b.size());
  };
  put(PackedEvent::kText, text);
  put(PackedEvent::kHost, host);
  put(PackedEvent::kUser, event_user(ev));
  put(PackedEvent::kHuman, event_human(ev));
  put(PackedEvent::kSession, ev.attr.session ? std::string_view(ev.attr.session->id) : "");
  put(PackedEvent::kCluster, ev.attr.cluster);
  append_roles(b, ev.attr.roles);
  out.end[PackedEvent::kRoles] = static_cast<uint32_t>(b.size());
}

void unpack_event_fields(const PackedEvent& p, Record& r) {
  common(r);
  r.kind = RecordKind::kEvent;
  r.wall_ns = p.wall_ns;
  r.name = model::to_string(p.kind);
  r.flags = p.flags;
  r.text = p.part(PackedEvent::kText);
  r.host = p.part(PackedEvent::kHost);
  r.user = p.part(PackedEvent::kUser);
  r.human = p.part(PackedEvent::kHuman);
  r.session = p.part(PackedEvent::kSession);
  r.cluster = p.part(PackedEvent::kCluster);
  std::string_view roles = p.part(PackedEvent::kRoles);
  while (!roles.empty()) {
    const size_t comma = roles.find(',');
    r.roles.emplace_back(roles.substr(0, comma));
    roles = comma == std::string_view::npos ? std::string_view{} : roles.substr(comma + 1);
  }
}

void encode_alert(const model::Alert& a, std::string_view hostname, Record& r) {
  common(r);
  r.kind = RecordKind::kAlert;
  r.wall_ns = a.wall_ns;
  r.name = a.rule;
  r.host = a.host.empty() ? std::string(hostname) : a.host;
  r.user = a.user;
  r.human = a.human;
  r.session = a.session_id;
  r.roles = a.roles;
  r.cluster = a.cluster;
  r.ref = a.id;
  r.severity = static_cast<int32_t>(a.severity);
  add_text(r.text, a.title);
  add_text(r.text, a.explanation);
  r.body = exporter::alert_json(a);
}

void encode_escalation(const model::Escalation& e, std::string_view hostname, Record& r) {
  common(r);
  r.kind = RecordKind::kEscalation;
  r.wall_ns = e.wall_ns;
  r.name = model::to_string(e.method);
  r.host = e.host.empty() ? std::string(hostname) : e.host;
  r.user = e.to_user;
  r.human = e.human.empty() ? e.from_user : e.human;
  r.session = e.session_id;
  if (!e.success) r.flags |= kRecFailed;
  add_text(r.text, e.tool);
  for (const auto& arg : e.tool_args) add_text(r.text, arg);
  add_text(r.text, e.command);
  for (const auto& arg : e.command_args) add_text(r.text, arg);
  r.body = exporter::escalation_json(e);
}

void encode_session(const model::Session& s, std::string_view hostname, uint64_t now_ns,
                    Record& r) {
  common(r);
  r.kind = RecordKind::kSession;
  // The time of the change (the event behind it: an import keeps the recorded times), else now.
  r.wall_ns = s.end_wall_ns != 0       ? s.end_wall_ns
              : s.changed_wall_ns != 0 ? s.changed_wall_ns
              : now_ns != 0            ? now_ns
                                       : s.start_wall_ns;
  r.name = model::to_string(s.entry_type);
  r.flags = s.end_wall_ns != 0 ? kRecSessionEnded : kRecSessionActive;
  r.host = s.host.empty() ? std::string(hostname) : s.host;
  r.user = s.user;
  r.human = s.human;
  r.session = s.id;
  r.roles = s.roles;
  r.cluster = s.cluster;
  r.ref = s.id;
  add_text(r.text, s.leader_exe);
  for (const auto& arg : s.leader_args) add_text(r.text, arg);
  add_text(r.text, s.client_ip);
  r.body = exporter::session_json(s);
}

void encode_action(const model::ResponseAction& a, std::string_view hostname, Record& r) {
  common(r);
  r.kind = RecordKind::kResponse;
  r.wall_ns = a.wall_ns;
  r.name = model::to_string(a.action);
  r.host = a.host.empty() ? std::string(hostname) : a.host;
  r.user = a.actor;
  r.session = a.session_id;
  r.ref = a.id;
  if (a.result == model::ActionResult::kFailed || a.result == model::ActionResult::kPartial ||
      a.result == model::ActionResult::kRefused) {
    r.flags |= kRecFailed;
  }
  add_text(r.text, a.reason);
  add_text(r.text, a.rule);
  add_text(r.text, a.alert_id);
  for (const auto& e : a.errors) add_text(r.text, e);
  r.body = exporter::action_json(a);
}

}  // namespace privwatch::store
