// libFuzzer target: rule files (our YAML format and Sigma) are outside input. Whatever the
// bytes, loading must return a rule set or an error (never crash, hang or leak), and a loaded
// rule set must evaluate events safely.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "detect/engine.hpp"

using namespace privwatch;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  detect::RuleSetBuilder b;
  auto s = b.add_text(text, "fuzz.yaml");
  if (!s) {
    if (s.error().message.empty()) __builtin_trap();
    return 0;
  }
  detect::EngineOptions o;
  o.self_pid = 1;
  detect::Engine e(std::move(b).finish(), o);
  std::vector<model::Alert> out;
  model::Event ev;
  ev.kind = model::EventKind::kExec;
  model::ExecData x;
  x.exe_path = "/tmp/a";
  x.args = {"a", "-e", "/bin/sh"};
  ev.data = x;
  e.evaluate(ev, out);
  ev.kind = model::EventKind::kFile;
  model::FileData f;
  f.op = model::FileOp::kChmod;
  f.path = "/tmp/a";
  f.mode = 0755;
  ev.data = f;
  e.evaluate(ev, out);
  ev.kind = model::EventKind::kNet;
  model::NetData n;
  n.family = 2;
  n.remote_port = 4444;
  ev.data = n;
  e.evaluate(ev, out);
  return 0;
}
