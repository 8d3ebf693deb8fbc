// privwatch rules check FILE...   — load rule files (ours or Sigma) and report every rule
// privwatch rules import FILE...  — convert Sigma rules, report each, and copy the ones that
//                                   load into a rules directory (--to)
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "detect/engine.hpp"
#include "detect/sigma.hpp"
#include "util/log.hpp"
#include "util/yaml_documents.hpp"

namespace privwatch::cli {

namespace {

struct RulesOptions {
  std::vector<std::string> files;
  bool no_default = false;
  std::string to;
};

bool starts_with_origin(const std::string& origin, const std::string& path) {
  return origin.rfind(path, 0) == 0;
}

int run_check(const RulesOptions& o) {
  detect::RuleSetBuilder b;
  std::string where;
  if (!o.no_default) {
    if (auto s = detect::add_default_rules(b, &where); !s) {
      std::fprintf(stderr, "privwatch: error: the default ruleset does not load: %s\n",
                   s.error().to_string().c_str());
      return 1;
    }
  }
  for (const auto& f : o.files) {
    if (auto s = b.add_path(f); !s) {
      std::printf("error       %s\n", s.error().to_string().c_str());
      return 2;
    }
  }
  const detect::RuleSet set = std::move(b).finish();
  size_t loaded = 0;
  for (const auto& r : set.rules) {
    bool mine = o.files.empty();
    for (const auto& f : o.files) mine = mine || starts_with_origin(r->origin, f);
    if (!mine) continue;
    ++loaded;
    std::string kinds;
    for (size_t k = 1; k < model::kEventKindCount; ++k) {
      if ((r->kinds & (1u << k)) == 0) continue;
      if (!kinds.empty()) kinds += ",";
      kinds += model::to_string(static_cast<model::EventKind>(k));
    }
    if (r->kinds == detect::kAllKinds) kinds = "all";
    std::printf("loaded      %-48s %-8s %-8s %s%s (events: %s)\n", r->name.c_str(),
                std::string(model::to_string(r->severity)).c_str(), r->source.c_str(),
                r->sequence ? "sequence " : "", r->origin.c_str(), kinds.c_str());
  }
  for (const auto& s : set.skipped) std::printf("not loaded  %s\n", s.c_str());
  std::printf("%zu loaded, %zu not loaded%s%s\n", loaded, set.skipped.size(),
              o.no_default ? "" : " (checked together with the default ruleset from ",
              o.no_default ? "" : (where + ")").c_str());
  return set.skipped.empty() ? 0 : 1;
}

int run_import(const RulesOptions& o) {
  if (!o.to.empty()) {
    struct stat st {};
    if (::stat(o.to.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      std::fprintf(stderr,
                   "privwatch: error: --to %s is not a directory\n  hint: create it first\n",
                   o.to.c_str());
      return 2;
    }
  }
  size_t ok = 0, bad = 0;
  for (const auto& f : o.files) {
    std::vector<YAML::Node> docs;
    std::ifstream in(f, std::ios::binary);
    if (!in) {
      std::printf("error       %s: cannot read the file\n", f.c_str());
      ++bad;
      continue;
    }
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    try {
      docs = load_yaml_documents(text);
    } catch (const YAML::Exception& e) {
      std::printf("error       %s:%d:%d: YAML syntax error: %s\n", f.c_str(), e.mark.line + 1,
                  e.mark.column + 1, e.msg.c_str());
      ++bad;
      continue;
    }
    for (const auto& doc : docs) {
      if (!doc || doc.IsNull()) continue;
      if (!detect::is_sigma_document(doc)) {
        std::printf("not loaded  %s:%d:%d: not a Sigma rule (no logsource/detection)\n", f.c_str(),
                    doc.Mark().line + 1, doc.Mark().column + 1);
        ++bad;
        continue;
      }
      auto r = detect::import_sigma(doc, f);
      if (!r) {
        std::printf("not loaded  %s\n", r.error().message.c_str());
        ++bad;
        continue;
      }
      ++ok;
      std::string dest;
      if (!o.to.empty()) {
        dest = o.to + "/" + (*r)->name + ".yaml";
        YAML::Emitter em;
        em << doc;
        std::ofstream out(dest, std::ios::trunc);
        out << "# Imported by privwatch rules import from " << f << "\n" << em.c_str() << "\n";
        if (!out) {
          std::printf("error       cannot write %s\n", dest.c_str());
          ++bad;
          --ok;
          continue;
        }
      }
      std::printf("loaded      %-48s %-8s %s%s%s\n", (*r)->name.c_str(),
                  std::string(model::to_string((*r)->severity)).c_str(), (*r)->origin.c_str(),
                  dest.empty() ? "" : " → ", dest.c_str());
    }
  }
  std::printf("%zu loaded, %zu not loaded\n", ok, bad);
  return bad == 0 ? 0 : 1;
}

}  // namespace

void add_rules_command(CLI::App& app, int& rc) {
  auto* rules = app.add_subcommand("rules", "check detection rules and import Sigma rules");
  rules->require_subcommand(1);
  auto opts = std::make_shared<RulesOptions>();

  auto* check = rules->add_subcommand(
      "check", "load rule files or directories (privwatch YAML or Sigma) and report every rule");
  check->add_option("files", opts->files, "rule files or directories")->required();
  check->add_flag("--no-default", opts->no_default,
                  "check the files alone (without the default ruleset's lists and macros)");
  check->callback([&rc, opts] {
    log::init("warn");
    rc = run_check(*opts);
  });

  auto* import = rules->add_subcommand(
      "import", "convert Sigma rules (Linux process_creation, file_event, network_connection)");
  import->add_option("files", opts->files, "Sigma rule files")->required();
  import->add_option("--to", opts->to,
                     "copy the rules that load into this directory (one file per rule), e.g. a "
                     "directory listed in detect.rules");
  import->callback([&rc, opts] {
    log::init("warn");
  rc = run_import(*opts);
});
}  // namespace privwatch::cli

}  // namespace privwatch::cli
