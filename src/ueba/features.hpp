// What the baselines learn from one event: a handful of categorical features, each with a value
// (hashed for the tables, rendered for explanations) and a sensitivity class.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model/event.hpp"

namespace privwatch::ueba {

enum class Feature : uint8_t {
  kExe = 0,      // executable name (basename): version paths do not matter
  kExeArea,      // directory of the executable, at most 3 components (/usr/local/bin)
  kParentChild,  // parent name → child name
  kCommand,      // command shape: name + normalised arguments
  kContext,      // interactive / escalated / service account, with the executable name
  kFileArea,     // file path prefix (3 components) + access (read/write)
  kDestination,  // internal|external, /24 (IPv4) or /48 (IPv6) prefix, port
  kCountry,      // destination country (MaxMind database, when configured)
  kHour,         // hour of the week (local time)
  kHost,         // the host the activity happens on
  kSource,       // where the session came from (SSH client /24)
  kAction,       // kernel-level actions: module load, bpf, ptrace, mount, credential change
  kExeCluster,   // executable name on this cluster (who runs what where)
};
inline constexpr size_t kFeatureCount = 13;
[[nodiscard]] std::string_view to_string(Feature f);

// The three dimensions an observation is compared against.
enum class Dim : uint8_t { kUser = 0, kRole = 1, kCluster = 2 };
inline constexpr size_t kDimCount = 3;
[[nodiscard]] std::string_view to_string(Dim d);

// Which dimensions a feature is judged in (time of day and host are personal; a cluster always
// sees its own hosts).
[[nodiscard]] bool applies(Feature f, Dim d);

// How much a deviation in this action matters: 0.5 normal, 1.25 sensitive, 2 critical.
enum class Sensitivity : uint8_t { kNormal = 0, kSensitive = 1, kCritical = 2 };
[[nodiscard]] double weight(Sensitivity s);
[[nodiscard]] std::string_view to_string(Sensitivity s);

struct Observation {
  Feature feature;
  Sensitivity sensitivity = Sensitivity::kNormal;
  uint32_t key = 0;   // hash of (feature, value)
  std::string value;  // rendered value (reused buffer)
};

// Internal networks: RFC 1918, loopback, link-local, ULA and CGNAT by default, plus configured
// CIDRs.
class Networks {
 public:
  Networks();
  // "10.0.0.0/8", "fd00::/8". Returns false when the text is not a CIDR.
  bool add(std::string_view cidr);
  [[nodiscard]] bool internal(uint16_t family, const std::array<uint8_t, 16>& addr) const;

 private:
  struct Net {
    uint16_t family;
    std::array<uint8_t, 16> addr;
    uint8_t bits;
  };
  std::vector<Net> nets_;
};

class GeoIp;

// Fills `out` (reusing its strings) with the observations of `ev`; returns how many.
// `utc_offset_s` shifts event time to the local time of week.
class Extractor {
 public:
  Extractor(const Networks& nets, const GeoIp* geo, int64_t utc_offset_s)
      : nets_(&nets), geo_(geo), utc_offset_s_(utc_offset_s) {}
  size_t extract(const model::Event& ev, std::array<Observation, kFeatureCount>& out) const;

 private:
  const Networks* nets_;
  const GeoIp* geo_;
  int64_t utc_offset_s_;
};

// Exposed for tests and explanations.
// Appends "name arg-shapes..." to out.
void append_command_shape(std::string& out, std::string_view name,
                          const std::vector<std::string>& args);
// The directory prefix of `path` with at most `depth` components ("/usr/local/bin").
[[nodiscard]] std::string_view path_area(std::string_view path, int depth);
[[nodiscard]] Sensitivity exe_sensitivity(std::string_view exe_path);
[[nodiscard]] Sensitivity file_sensitivity(std::string_view path, bool write, bool flagged);
[[nodiscard]] uint32_t hash32(Feature f, std::string_view value);
// "Sat 23:00" for an hour of the week (0 = Monday 00:00).
[[nodiscard]] const std::string& hour_of_week_name(uint32_t how);

}  // namespace privwatch::ueba
