// libFuzzer target: the inventory and grant-file parsers (outside input, reloaded on SIGHUP).
// Any input must give an inventory or an error naming the origin — never a crash, a hang, an
// exception or an internal error.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "enrich/inventory.hpp"

namespace {
bool no_dns(const std::string&, std::vector<privwatch::enrich::Destination::Net>&,
            std::string& error) {
  error = "fuzzing";
  return false;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace privwatch;
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto inv = enrich::Inventory::parse(text, "fuzz.yaml", {"db-1", no_dns});
  if (!inv) {
    if (inv.error().message.rfind("fuzz.yaml", 0) != 0) std::abort();
    if (inv.error().kind == ErrorKind::kInternal) std::abort();
  } else {
    // Exercise the queries on whatever was accepted.
    (void)(*inv)->cluster_of("db-7");
    (void)(*inv)->roles_for("alice", {"dba", "wheel"});
    (void)(*inv)->service_account_for({.user = "svc", .systemd_unit = "a.service"});
  }
  auto grants = enrich::parse_grants(text, "fuzz.yaml");
  if (!grants && grants.error().kind == ErrorKind::kInternal) std::abort();
  return 0;
}
