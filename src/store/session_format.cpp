#include "store/session_format.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "export/ecs_json.hpp"
#include "util/time.hpp"

namespace privwatch::store {

namespace {

using json = nlohmann::ordered_json;  // fields in a readable order

constexpr size_t kTextRows = 200;  // per section in text output (JSON has everything read)
constexpr size_t kMaxCommand = 160;

std::string rfc3339(uint64_t ns) {
  if (ns == 0) return {};
  std::string s;
  util::append_rfc3339_ns(s, ns);
  return s;
}

std::string utc_seconds(uint64_t ns) {
  if (ns == 0) return "-";
  return util::format_rfc3339({static_cast<int64_t>(ns / 1'000'000'000ull), 0});
}

std::string clock_ms(uint64_t ns) {  // 04:50:01.810
  if (ns == 0) return "--:--:--.---";
  const time_t t = static_cast<time_t>(ns / 1'000'000'000ull);
  tm tmv{};
  gmtime_r(&t, &tmv);
  return fmt::format("{:02}:{:02}:{:02}.{:03}", tmv.tm_hour, tmv.tm_min, tmv.tm_sec,
                     (ns / 1'000'000ull) % 1000);
}

// "+1.234s", "+12m03s" from the session start.
std::string offset(uint64_t ns, uint64_t start) {
  if (ns == 0 || start == 0) return "?";
  if (ns < start) return "-" + format_duration(start - ns);
  const uint64_t d = ns - start;
  if (d < 60'000'000'000ull) {
    return fmt::format("+{}.{:03}s", d / 1'000'000'000ull, (d / 1'000'000ull) % 1000);
  }
  return "+" + format_duration(d);
}

std::string short_duration(uint64_t ns) {  // sub-second precision for short processes
  if (ns < 1'000'000ull) return fmt::format("{}us", ns / 1000);
  if (ns < 1'000'000'000ull) return fmt::format("{}ms", ns / 1'000'000ull);
  if (ns < 60'000'000'000ull) {
    return fmt::format("{}.{:01}s", ns / 1'000'000'000ull, (ns / 100'000'000ull) % 10);
  }
  return format_duration(ns);
}

size_t display_width(std::string_view s) {  // code points (UTF-8 continuation bytes skipped)
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string clip(std::string s, size_t n) {
  if (display_width(s) <= n) return s;
  // Cut at a code point boundary.
  size_t w = 0, i = 0;
  for (; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (w == n - 1) break;
      ++w;
    }
  }
  s.resize(i);
  return s + "…";
}

std::string join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

// A table with columns sized to their content.
std::string table(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> w(header.size(), 0);
  for (size_t c = 0; c < header.size(); ++c) w[c] = display_width(header[c]);
  for (const auto& r : rows) {
    for (size_t c = 0; c < r.size() && c < w.size(); ++c) {
      w[c] = std::max(w[c], display_width(r[c]));
    }
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& r) {
    std::string l;
    for (size_t c = 0; c < r.size(); ++c) {
      l += r[c];
      if (c + 1 < r.size()) l += std::string(w[c] - display_width(r[c]) + 2, ' ');
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    out += l + "\n";
  };
  line(header);
  for (const auto& r : rows) line(r);
  return out;
}

std::string user_column(const SessionSummary& s) {
  std::string u = s.user.empty() ? "?" : printable(s.user);
  std::vector<std::string> to;
  for (const auto& t : s.counts.escalated_to) {
    if (t != s.user) to.push_back(printable(t));
  }
  if (!to.empty()) u += "→" + join(to, ",");
  return u;
}

std::string state_text(const SessionSummary& s) {
  if (s.active) return "active";
  if (s.end_ns == 0 || s.start_ns == 0 || s.end_ns < s.start_ns) return "ended";
  return short_duration(s.end_ns - s.start_ns);
}

json summary_json(const SessionSummary& s, bool with_counts) {
  json j;
  j["id"] = s.id;
  j["type"] = s.type;
  if (!s.parent_id.empty()) j["parent_id"] = s.parent_id;
  j["active"] = s.active;
  j["start"] = rfc3339(s.start_ns);
  if (s.end_ns != 0) {
    j["end"] = rfc3339(s.end_ns);
    if (s.end_ns >= s.start_ns && s.start_ns != 0) {
      j["duration_s"] = static_cast<double>(s.end_ns - s.start_ns) / 1e9;
    }
  }
  j["interactive"] = s.interactive;
  j["incomplete"] = s.incomplete;
  if (s.incomplete) j["lost_events"] = s.lost_events;
  if (!s.end_observed) j["end_observed"] = false;
  if (!s.user.empty()) j["user"] = s.user;
  if (!s.human.empty()) j["human"] = s.human;
  if (!s.host.empty()) j["host"] = s.host;
  j["roles"] = s.roles;
  if (!s.cluster.empty()) j["cluster"] = s.cluster;
  if (!s.service_account.empty()) j["service_account"] = s.service_account;
  json el;
  el["pid"] = s.leader_pid;
  el["entity_id"] = fmt::format("{}-{}", s.leader_pid, s.leader_start_ticks);
  if (!s.leader_exe.empty()) el["executable"] = s.leader_exe;
  if (!s.leader_args.empty()) el["args"] = s.leader_args;
  if (!s.user.empty()) el["user"] = s.user;
  if (!s.tty.empty()) el["tty"] = s.tty;
  j["entry_leader"] = el;
  if (!s.client_ip.empty()) j["client"] = {{"ip", s.client_ip}, {"port", s.client_port}};
  if (s.login_uid >= 0 || s.audit_session >= 0) {
    json a = json::object();
    if (s.login_uid >= 0) a["login_uid"] = s.login_uid;
    if (s.audit_session >= 0) a["session_id"] = s.audit_session;
    j["audit"] = a;
  }
  if (!s.container_id.empty() || !s.pod_uid.empty()) {
    json c = json::object();
    if (!s.container_id.empty()) c["id"] = s.container_id;
    if (!s.container_name.empty()) c["name"] = s.container_name;
    if (!s.container_image.empty()) c["image"] = s.container_image;
    if (!s.pod_uid.empty()) c["pod_uid"] = s.pod_uid;
    if (!s.pod_name.empty()) c["pod_name"] = s.pod_name;
    if (!s.k8s_namespace.empty()) c["namespace"] = s.k8s_namespace;
    j["container"] = c;
  }
  j["version"] = s.version;
  j["seq"] = s.seq;
  if (with_counts) {
    const auto& c = s.counts;
    j["counts"] = {{"commands", c.commands},
                   {"failed_execs", c.failed_execs},
                   {"alerts", c.alerts},
                   {"escalations", c.escalations},
                   {"failed_escalations", c.failed_escalations},
                   {"records", c.records},
                   {"capped", c.capped}};
    j["escalated_to"] = c.escalated_to;
  }
  return j;
}

json exec_json(const ExecStep& e) {
  json j;
  j["time"] = rfc3339(e.wall_ns);
  j["executable"] = e.executable;
  j["args"] = e.args;
  j["command_line"] = join(e.args, " ");
  if (!e.cwd.empty()) j["working_directory"] = e.cwd;
  if (!e.user.empty()) j["user"] = e.user;
  if (!e.real_user.empty()) j["real_user"] = e.real_user;
  if (!e.human.empty()) j["human"] = e.human;
  j["escalated"] = e.escalated;
  j["outcome"] = e.failed ? "failure" : "success";
  if (!e.error.empty()) j["error"] = e.error;
  return j;
}

json node_json(const ProcessNode& n) {
  json j;
  j["entity_id"] = n.entity_id;
  j["pid"] = n.pid;
  j["ppid"] = n.ppid;
  if (!n.parent_entity_id.empty()) j["parent_entity_id"] = n.parent_entity_id;
  if (!n.session_id.empty()) j["session_id"] = n.session_id;
  j["start"] = rfc3339(n.start_ns);
  j["name"] = n.name;
  if (!n.user.empty()) j["user"] = n.user;
  if (!n.human.empty()) j["human"] = n.human;
  j["entry_leader"] = n.leader;
  json execs = json::array();
  for (const auto& e : n.execs) execs.push_back(exec_json(e));
  j["execs"] = execs;
  if (n.exited) {
    json x;
    x["time"] = rfc3339(n.exit_ns);
    x["code"] = n.exit_code;
    x["signal"] = n.exit_signal;
    if (!n.signal_name.empty()) x["signal_name"] = n.signal_name;
    x["core_dumped"] = n.core_dumped;
    j["exit"] = x;
    if (n.start_ns != 0 && n.exit_ns >= n.start_ns) {
      j["duration_s"] = static_cast<double>(n.exit_ns - n.start_ns) / 1e9;
    }
  } else {
    j["exit"] = nullptr;
  }
  j["files"] = n.files;
  j["network"] = n.network;
  json kids = json::array();
  for (const auto& c : n.children) kids.push_back(node_json(c));
  j["children"] = kids;
  return j;
}

std::string exit_text(const ProcessNode& n) {
  if (!n.exited) return "";
  std::string s;
  if (n.exit_signal != 0) {
    s = fmt::format("killed by {}", n.signal_name.empty() ? fmt::format("signal {}", n.exit_signal)
                                                          : n.signal_name);
    if (n.core_dumped) s += " (core dumped)";
  } else {
    s = fmt::format("exit {}", n.exit_code);
  }
  if (n.start_ns != 0 && n.exit_ns >= n.start_ns)
    s += " after " + short_duration(n.exit_ns - n.start_ns);
  return s;
}

std::string_view base_name(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// A forked copy of its parent that ran no program, touched nothing and exited cleanly (a
// shell's subshell): left out of the text tree, counted.
bool trivial(const ProcessNode& n) {
  return n.execs.empty() && !n.leader && n.children.empty() && n.files == 0 && n.network == 0 &&
         (!n.exited || (n.exit_code == 0 && n.exit_signal == 0));
}

// The exec line of a successful exec: argv, and the executable when argv[0] does not name it.
std::string exec_text(const ExecStep& e) {
  if (e.args.empty()) return printable(e.executable);
  std::string s = shell_join(e.args);
  if (e.executable.find('/') != std::string::npos && e.args[0].find('/') == std::string::npos) {
    s += "  [" + printable(e.executable) + "]";
  }
  return s;
}

struct TreeText {
  const SessionDetail& d;
  uint64_t start;
  std::string out;
  size_t lines = 0;
  size_t hidden = 0;  // past the line budget
  size_t subshells = 0;

  void skip(const ProcessNode& n) {  // count a subtree past the budget
    ++hidden;
    for (const auto& c : n.children) skip(c);
  }

  void node(const ProcessNode& n, const std::string& prefix, bool last, bool root,
            const std::string& parent_session, size_t depth) {
    if (lines >= kTextRows * 5) {
      skip(n);
      return;
    }
    ++lines;
    // Failed execs that a later exec of the same program resolved are PATH lookups (execvp,
    // env): folded into a count on the exec they led to.
    std::vector<size_t> misses_before(n.execs.size(), 0);
    std::vector<bool> folded(n.execs.size(), false);
    for (size_t i = 0; i < n.execs.size(); ++i) {
      const auto& e = n.execs[i];
      if (!e.failed || e.error != "ENOENT") continue;
      for (size_t k = i + 1; k < n.execs.size(); ++k) {
        const auto& ok = n.execs[k];
        if (!ok.failed && base_name(ok.executable) == base_name(e.executable)) {
          folded[i] = true;
          ++misses_before[k];
          break;
        }
        if (!ok.failed) break;
      }
    }
    size_t first_ok = n.execs.size();
    for (size_t i = 0; i < n.execs.size(); ++i) {
      if (!n.execs[i].failed) {
        first_ok = i;
        break;
      }
    }
    auto misses = [&](size_t i) {
      return misses_before[i] == 0 ? std::string()
                                   : fmt::format("  (after {} PATH miss{})", misses_before[i],
                                                 misses_before[i] == 1 ? "" : "es");
    };
    const std::string branch = root ? "" : (last ? "└─ " : "├─ ");
    std::string head = first_ok < n.execs.size() ? exec_text(n.execs[first_ok]) + misses(first_ok)
                                                 : (n.name.empty() ? "?" : printable(n.name));
    std::string tags;
    if (n.leader) tags += " [entry leader]";
    if (!n.session_id.empty() && n.session_id != parent_session && !root) {
      std::string type;
      for (const auto& s : d.nested) {
        if (s.id == n.session_id) type = s.type;
      }
      tags += fmt::format(" [{} session {}]", type.empty() ? "nested" : type, n.session_id);
    }
    std::string who = printable(n.user);
    if (!n.human.empty() && n.human != n.user) who += " (" + printable(n.human) + ")";
    out +=
        fmt::format("{:>10}  {}{}{} {}{}  {}{}\n", offset(n.start_ns, start), prefix, branch, n.pid,
                    clip(head, kMaxCommand), tags, who, n.exited ? "  " + exit_text(n) : "");
    const std::string child_prefix =
        depth >= 40 ? prefix : prefix + (root ? "" : (last ? "   " : "│  "));
    std::vector<const ProcessNode*> kids;
    for (const auto& c : n.children) {
      if (trivial(c)) {
        ++subshells;
      } else {
        kids.push_back(&c);
      }
    }
    // Further execs of the same process, and failed attempts that led nowhere.
    const std::string cont = child_prefix + (kids.empty() ? "   " : "│  ");
    for (size_t i = 0; i < n.execs.size(); ++i) {
      const auto& e = n.execs[i];
      if (i == first_ok || folded[i]) continue;
      ++lines;
      if (e.failed) {
        out += fmt::format("{:>10}  {}✗ exec failed{}: {}\n", offset(e.wall_ns, start), cont,
                           e.error.empty() ? "" : " (" + e.error + ")", printable(e.executable));
      } else {
        out += fmt::format("{:>10}  {}↳ exec {}{}  {}\n", offset(e.wall_ns, start), cont,
                           clip(exec_text(e), kMaxCommand), misses(i), printable(e.user));
      }
    }
    for (size_t i = 0; i < kids.size(); ++i) {
      node(*kids[i], child_prefix, i + 1 == kids.size(), false, n.session_id, depth + 1);
    }
  }
};

// Files: a monitored login opens hundreds of files (libraries, locales, NSS). Changes and
// denied accesses are listed one by one; reads are grouped by path (sensitive ones listed);
// lookups of files that do not exist are counted. --json has every event.
void files_text(std::string& o, const std::vector<FileAccess>& files) {
  std::vector<const FileAccess*> changes, denied;
  std::vector<std::pair<std::string, size_t>> sensitive_reads;  // path, count (first-seen order)
  std::map<std::string, size_t> sensitive_index;
  std::set<std::string> paths, other_reads;
  size_t missing = 0;
  for (const auto& f : files) {
    paths.insert(f.path);
    if (f.write || f.action != "open") {
      changes.push_back(&f);
    } else if (f.failed && f.error == "ENOENT") {
      ++missing;
    } else if (f.failed) {
      denied.push_back(&f);
    } else if (f.sensitive) {
      auto [it, fresh] = sensitive_index.emplace(f.path, sensitive_reads.size());
      if (fresh) sensitive_reads.emplace_back(f.path, 0);
      ++sensitive_reads[it->second].second;
    } else {
      other_reads.insert(f.path);
    }
  }
  o += fmt::format("\nFiles ({} event{} on {} path{})\n", files.size(),
                   files.size() == 1 ? "" : "s", paths.size(), paths.size() == 1 ? "" : "s");
  if (files.empty()) {
    o += "  none\n";
    return;
  }
  auto line = [](const FileAccess& f) {
    std::string l = fmt::format("    {}  {:<8} {}", clock_ms(f.wall_ns), printable(f.action),
                                printable(f.path));
    if (!f.target_path.empty()) l += " → " + printable(f.target_path);
    l += fmt::format("  {} pid {}", printable(f.user), f.pid);
    if (f.write && f.action == "open") l += "  write";
    if (f.sensitive) l += "  SENSITIVE";
    if (f.failed) l += "  failed" + (f.error.empty() ? "" : " (" + f.error + ")");
    return l + "\n";
  };
  auto list = [&](const char* title, const std::vector<const FileAccess*>& v) {
    if (v.empty()) return;
    o += fmt::format("  {} ({}):\n", title, v.size());
    for (size_t i = 0; i < v.size(); ++i) {
      if (i == kTextRows) {
        o += fmt::format("    ... {} more (see --json)\n", v.size() - kTextRows);
        break;
      }
      o += line(*v[i]);
    }
  };
  list("changed: written, created, deleted, renamed, chmod, chown", changes);
  list("refused", denied);
  if (!sensitive_reads.empty()) {
    o += fmt::format("  read, sensitive ({} path{}):\n", sensitive_reads.size(),
                     sensitive_reads.size() == 1 ? "" : "s");
    for (size_t i = 0; i < sensitive_reads.size(); ++i) {
      if (i == kTextRows) {
        o += fmt::format("    ... {} more (see --json)\n", sensitive_reads.size() - kTextRows);
        break;
      }
      const auto& [path, n] = sensitive_reads[i];
      o += fmt::format("    {}{}\n", printable(path), n > 1 ? fmt::format("  ({}×)", n) : "");
    }
  }
  if (!other_reads.empty() || missing != 0) {
    o += fmt::format(
        "  also: {} other path{} read, {} lookup{} of files that do not exist (see "
        "--json)\n",
        other_reads.size(), other_reads.size() == 1 ? "" : "s", missing, missing == 1 ? "" : "s");
  }
}

template <typename T, typename F>
void section(std::string& out, const std::string& title, const std::vector<T>& items, F&& line) {
  out += fmt::format("\n{} ({})\n", title, items.size());
  if (items.empty()) {
    out += "  none\n";
    return;
  }
  size_t n = 0;
  for (const auto& it : items) {
    if (n++ == kTextRows) {
      out += fmt::format("  ... {} more (see --json)\n", items.size() - kTextRows);
      break;
    }
    out += "  " + line(it) + "\n";
  }
}

}  // namespace

std::string printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string shell_join(const std::vector<std::string>& args) {
  std::string out;
  for (const auto& a : args) {
    if (!out.empty()) out += ' ';
    const bool plain =
        !a.empty() && a.find_first_of(" \t\n'\"\\$`;&|<>(){}*?!#~") == std::string::npos;
    if (plain) {
      out += printable(a);
    } else {
      std::string q = "'";
      for (char c : a) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
      q += "'";
      out += printable(q);
    }
  }
  return out;
}

std::string format_duration(uint64_t ns) {
  const uint64_t s = ns / 1'000'000'000ull;
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  if (s < 86400) return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
  return fmt::format("{}d{:02}h", s / 86400, (s % 86400) / 3600);
}

std::string sessions_text(const SessionList& list, size_t limit) {
  bool roles = false, cluster = false;
  for (const auto& s : list.sessions) {
    roles = roles || !s.roles.empty();
    cluster = cluster || !s.cluster.empty();
  }
  std::vector<std::string> header = {"SESSION", "TYPE", "HUMAN", "USER", "HOST"};
  if (cluster) header.push_back("CLUSTER");
  if (roles) header.push_back("ROLES");
  for (const char* h : {"START (UTC)", "DURATION", "CMDS", "ALERTS", "NOTES"}) header.push_back(h);
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : list.sessions) {
    std::vector<std::string> r = {printable(s.id), printable(s.type),
                                  s.human.empty() ? "-" : printable(s.human), user_column(s),
                                  s.host.empty() ? "-" : printable(s.host)};
    if (cluster) r.push_back(s.cluster.empty() ? "-" : printable(s.cluster));
    if (roles) r.push_back(s.roles.empty() ? "-" : clip(printable(join(s.roles, ",")), 30));
    r.push_back(utc_seconds(s.start_ns));
    r.push_back(state_text(s));
    const auto& c = s.counts;
    const char* plus = c.capped ? "+" : "";
    r.push_back(fmt::format("{}{}", c.commands, plus));
    r.push_back(fmt::format("{}{}", c.alerts, c.alerts != 0 ? plus : ""));
    std::vector<std::string> notes;
    if (!s.end_observed) {
      notes.push_back("INCOMPLETE (ended while privwatch was not running)");
    } else if (s.incomplete) {
      notes.push_back(fmt::format("INCOMPLETE ({} events lost)", s.lost_events));
    }
    if (!s.client_ip.empty()) {
      notes.push_back(fmt::format("from {}:{}", printable(s.client_ip), s.client_port));
    }
    if (!s.parent_id.empty()) notes.push_back("in " + printable(s.parent_id));
    if (c.failed_escalations != 0) {
      notes.push_back(fmt::format("{} failed escalation{}", c.failed_escalations,
                                  c.failed_escalations == 1 ? "" : "s"));
    }
    if (!s.service_account.empty())
      notes.push_back("service account " + printable(s.service_account));
    if (!s.container_id.empty()) {
      notes.push_back("container " + printable(s.container_name.empty()
                                                   ? s.container_id.substr(0, 12)
                                                   : s.container_name));
    }
    r.push_back(join(notes, "; "));
    rows.push_back(std::move(r));
  }
  std::string out = list.sessions.empty() ? "" : table(header, rows);
  out +=
      fmt::format("({} session{}{})\n", list.sessions.size(), list.sessions.size() == 1 ? "" : "s",
                  list.truncated ? fmt::format("; more match: only the {} most recently active "
                                               "are shown, raise --limit",
                                               limit)
                                 : "");
  return out;
}

std::string sessions_json(const SessionList& list, size_t limit) {
  json j;
  json arr = json::array();
  for (const auto& s : list.sessions) arr.push_back(summary_json(s, true));
  j["sessions"] = arr;
  j["count"] = list.sessions.size();
  j["truncated"] = list.truncated;
  j["limit"] = limit;
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string session_detail_text(const SessionDetail& d) {
  const auto& s = d.session;
  std::string o;
  o += fmt::format("Session {}  ({}{})\n", printable(s.id), printable(s.type),
                   s.active ? ", active" : ", " + state_text(s));
  auto kv = [&](const char* k, const std::string& v) {
    if (!v.empty()) o += fmt::format("  {:<13}{}\n", k, v);
  };
  kv("human", s.human.empty() ? "(none: no login uid)" : printable(s.human));
  {
    std::vector<std::string> to;
    for (const auto& e : d.escalations) {
      if (e.success && e.session_id == s.id) {
        const std::string t = e.to_user + " (" + e.method + ")";
        if (std::find(to.begin(), to.end(), t) == to.end()) to.push_back(t);
      }
    }
    kv("user",
       printable(s.user) + (to.empty() ? "" : ", escalated to " + printable(join(to, ", "))));
  }
  kv("host", printable(s.host));
  if (!s.roles.empty()) kv("roles", printable(join(s.roles, ", ")));
  kv("cluster", printable(s.cluster));
  kv("service acct", printable(s.service_account));
  {
    std::string el = printable(s.leader_exe.empty() ? "?" : s.leader_exe);
    el += fmt::format("  pid {}", s.leader_pid);
    if (!s.leader_args.empty()) el += "  (" + clip(shell_join(s.leader_args), 80) + ")";
    kv("entry leader", el);
  }
  if (!s.client_ip.empty())
    kv("client", fmt::format("{}:{}", printable(s.client_ip), s.client_port));
  kv("terminal", printable(s.tty));
  if (s.login_uid >= 0 || s.audit_session >= 0) {
    kv("audit", fmt::format("login uid {}, audit session {}",
                            s.login_uid >= 0 ? std::to_string(s.login_uid) : "unset",
                            s.audit_session >= 0 ? std::to_string(s.audit_session) : "unset"));
  }
  if (!s.container_id.empty() || !s.pod_uid.empty()) {
    std::string c = printable(s.container_id.substr(0, 12));
    if (!s.container_name.empty()) c += " " + printable(s.container_name);
    if (!s.container_image.empty()) c += " image " + printable(s.container_image);
    if (!s.pod_name.empty()) c += " pod " + printable(s.k8s_namespace + "/" + s.pod_name);
    kv("container", c);
  }
  kv("parent", printable(s.parent_id));
  kv("start", rfc3339(s.start_ns));
  kv("end", s.active ? "(active)"
            : s.end_observed
                ? rfc3339(s.end_ns)
                : "at or before " + rfc3339(s.end_ns) + " (ended while privwatch was not running)");
  if (s.incomplete && s.end_observed) {
    kv("INCOMPLETE",
       fmt::format("{} events were lost in the kernel while it was active", s.lost_events));
  }

  if (!d.nested.empty() || d.nested_truncated) {
    o += fmt::format("\nNested sessions ({}{})\n", d.nested.size(), d.nested_truncated ? "+" : "");
    for (const auto& n : d.nested) {
      o += fmt::format("  {}  {:<9} {}{}  {}  {}  in {}{}\n", printable(n.id), printable(n.type),
                       printable(n.user),
                       n.human.empty() || n.human == n.user ? "" : " (" + printable(n.human) + ")",
                       utc_seconds(n.start_ns), state_text(n), printable(n.parent_id),
                       n.incomplete ? fmt::format("  INCOMPLETE ({} lost)", n.lost_events) : "");
    }
  }

  o += fmt::format(
      "\nProcess tree ({} process{}; time from the session start, users as "
      "effective user (human))\n",
      d.counts.processes, d.counts.processes == 1 ? "" : "es");
  if (d.processes.empty()) {
    o += "  none stored\n";
  } else {
    TreeText t{d, s.start_ns};
    for (const auto& root : d.processes) t.node(root, "", true, true, "", 0);
    o += t.out;
    if (t.subshells != 0) {
      o += fmt::format(
          "  ({} forked subshell{} that ran no program of {} own not shown; see --json)\n",
          t.subshells, t.subshells == 1 ? "" : "s", t.subshells == 1 ? "its" : "their");
    }
    if (t.hidden != 0) o += fmt::format("  ... {} more processes (see --json)\n", t.hidden);
  }

  section(o, "Escalations", d.escalations, [&](const EscalationEntry& e) {
    std::string l = fmt::format("{}  {:<6} {} → {}  ", clock_ms(e.wall_ns), printable(e.method),
                                printable(e.from_user.empty() ? "?" : e.from_user),
                                printable(e.to_user.empty() ? "?" : e.to_user));
    if (e.success) {
      l += "success";
    } else {
      l += fmt::format("FAILED (exit {})", e.exit_status);
    }
    if (!e.tool_args.empty()) l += "  " + clip(shell_join(e.tool_args), 60);
    if (e.success && !e.command.empty()) {  // the executable, then its arguments after argv[0]
      std::vector<std::string> cmd{e.command};
      if (e.command_args.size() > 1)
        cmd.insert(cmd.end(), e.command_args.begin() + 1, e.command_args.end());
      l += "  ran " + clip(shell_join(cmd), 60);
    }
    if (!e.human.empty() && e.human != e.from_user) l += "  (human " + printable(e.human) + ")";
    if (e.session_id != s.id) l += "  [session " + printable(e.session_id) + "]";
    return l;
  });
  files_text(o, d.files);
  section(o, "Network", d.network, [&](const NetConnection& n) {
    auto ep = [](const std::string& ip, uint32_t port) {
      if (ip.empty()) return std::string("?");
      return ip.find(':') != std::string::npos ? fmt::format("[{}]:{}", ip, port)
                                               : fmt::format("{}:{}", ip, port);
    };
    std::string l = fmt::format("{}  {:<8} {:<4} ", clock_ms(n.wall_ns), printable(n.action),
                                printable(n.transport));
    if (!n.unix_path.empty()) {
      l += printable(n.unix_path);
    } else if (n.action == "bind" || n.action == "listen") {
      l += ep(n.source_ip, n.source_port);
    } else if (n.action == "accept") {
      l += ep(n.source_ip, n.source_port) + " → " + ep(n.destination_ip, n.destination_port);
    } else {
      l += (n.source_ip.empty() ? "" : ep(n.source_ip, n.source_port) + " ") + "→ " +
           ep(n.destination_ip, n.destination_port);
    }
    l += fmt::format("  {} pid {}", printable(n.user), n.pid);
    if (n.failed) l += "  failed" + (n.error.empty() ? "" : " (" + n.error + ")");
    return l;
  });
  section(o, "Alerts", d.alerts, [&](const AlertEntry& a) {
    return fmt::format("{}  [{}] {}  {}  {}", clock_ms(a.wall_ns), printable(a.severity),
                       printable(a.rule), printable(a.message), printable(a.id));
  });
  section(o, "Responses", d.responses, [&](const ResponseEntry& r) {
    std::vector<std::string> pids;
    for (auto p : r.pids) pids.push_back(std::to_string(p));
    return fmt::format("{}  {} {}  by {} ({})  pids {}  {}", clock_ms(r.wall_ns),
                       printable(r.action), printable(r.result), printable(r.actor),
                       printable(r.origin), pids.empty() ? "-" : join(pids, ","),
                       printable(r.reason));
  });
  if (!d.other.empty()) {
    section(o, "Other events", d.other, [&](const OtherEvent& e) {
      return fmt::format("{}  {:<6} {:<10} {}  {} pid {}{}", clock_ms(e.wall_ns), printable(e.kind),
                         printable(e.action), printable(e.detail), printable(e.user), e.pid,
                         e.failed ? "  failed" : "");
    });
  }
  o += fmt::format(
      "\n{} records read: {} events, {} commands run ({} failed exec attempts), {} alerts, {} "
      "escalations.\n",
      d.counts.records_read, d.counts.events, d.counts.commands, d.counts.failed_execs,
      d.alerts.size(), d.escalations.size());
  if (d.truncated) {
    o += fmt::format(
        "TRUNCATED: the first {} records of about {} are shown (alerts, escalations and "
        "responses in full); raise --limit to see more.\n",
        d.counts.records_read, d.counts.records_total);
  }
  return o;
}

std::string session_detail_json(const SessionDetail& d) {
  json j;
  j["session"] = summary_json(d.session, false);
  json nested = json::array();
  for (const auto& n : d.nested) nested.push_back(summary_json(n, false));
  j["nested_sessions"] = nested;
  j["nested_truncated"] = d.nested_truncated;
  json tree = json::array();
  for (const auto& p : d.processes) tree.push_back(node_json(p));
  j["process_tree"] = tree;
  json esc = json::array();
  for (const auto& e : d.escalations) {
    json x;
    x["time"] = rfc3339(e.wall_ns);
    x["method"] = e.method;
    x["outcome"] = e.success ? "success" : "failure";
    if (!e.success) x["exit_status"] = e.exit_status;
    x["from_user"] = e.from_user;
    x["to_user"] = e.to_user;
    if (!e.human.empty()) x["human"] = e.human;
    x["session_id"] = e.session_id;
    if (!e.tool.empty()) x["tool"] = {{"executable", e.tool}, {"args", e.tool_args}};
    if (!e.command.empty()) x["command"] = {{"executable", e.command}, {"args", e.command_args}};
    x["pid"] = e.pid;
    esc.push_back(x);
  }
  j["escalations"] = esc;
  json files = json::array();
  for (const auto& f : d.files) {
    json x;
    x["time"] = rfc3339(f.wall_ns);
    x["action"] = f.action;
    x["path"] = f.path;
    if (!f.target_path.empty()) x["target_path"] = f.target_path;
    x["user"] = f.user;
    x["pid"] = f.pid;
    x["session_id"] = f.session_id;
    x["write"] = f.write;
    x["sensitive"] = f.sensitive;
    x["outcome"] = f.failed ? "failure" : "success";
    if (!f.error.empty()) x["error"] = f.error;
    files.push_back(x);
  }
  j["files"] = files;
  json net = json::array();
  for (const auto& n : d.network) {
    json x;
    x["time"] = rfc3339(n.wall_ns);
    x["action"] = n.action;
    if (!n.transport.empty()) x["transport"] = n.transport;
    if (!n.source_ip.empty()) x["source"] = {{"ip", n.source_ip}, {"port", n.source_port}};
    if (!n.destination_ip.empty()) {
      x["destination"] = {{"ip", n.destination_ip}, {"port", n.destination_port}};
    }
    if (!n.unix_path.empty()) x["unix_path"] = n.unix_path;
    x["user"] = n.user;
    x["pid"] = n.pid;
    x["session_id"] = n.session_id;
    x["outcome"] = n.failed ? "failure" : "success";
    if (!n.error.empty()) x["error"] = n.error;
    net.push_back(x);
  }
  j["network"] = net;
  json alerts = json::array();
  for (const auto& a : d.alerts) {
    alerts.push_back({{"time", rfc3339(a.wall_ns)},
                      {"id", a.id},
                      {"rule", a.rule},
                      {"severity", a.severity},
                      {"message", a.message},
                      {"session_id", a.session_id}});
  }
  j["alerts"] = alerts;
  json resp = json::array();
  for (const auto& r : d.responses) {
    resp.push_back({{"time", rfc3339(r.wall_ns)},
                    {"id", r.id},
                    {"action", r.action},
                    {"result", r.result},
                    {"origin", r.origin},
                    {"actor", r.actor},
                    {"reason", r.reason},
                    {"rule", r.rule},
                    {"pids", r.pids},
                    {"session_id", r.session_id}});
  }
  j["responses"] = resp;
  json other = json::array();
  for (const auto& e : d.other) {
    other.push_back({{"time", rfc3339(e.wall_ns)},
                     {"kind", e.kind},
                     {"action", e.action},
                     {"detail", e.detail},
                     {"user", e.user},
                     {"pid", e.pid},
                     {"session_id", e.session_id},
                     {"outcome", e.failed ? "failure" : "success"}});
  }
  j["other_events"] = other;
  j["counts"] = {{"records_read", d.counts.records_read},
                 {"records_total", d.counts.records_total},
                 {"events", d.counts.events},
                 {"processes", d.counts.processes},
                 {"commands", d.counts.commands},
                 {"failed_execs", d.counts.failed_execs},
                 {"alerts", d.alerts.size()},
                 {"escalations", d.escalations.size()}};
  j["truncated"] = d.truncated;
  j["limit"] = d.limit;
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace privwatch::store
