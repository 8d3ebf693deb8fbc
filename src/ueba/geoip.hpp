// Country of an IP address from a MaxMind-format database (GeoLite2/GeoIP2 Country or City,
// or any MMDB with country.iso_code), through Debian's libmaxminddb.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "util/result.hpp"

struct MMDB_s;

namespace privwatch::ueba {

class GeoIp {
 public:
  [[nodiscard]] static Result<std::unique_ptr<GeoIp>> open(const std::string& path);
  ~GeoIp();
  GeoIp(const GeoIp&) = delete;
  GeoIp& operator=(const GeoIp&) = delete;

  // ISO 3166 code ("DE"), or "" when the address is not in the database.
  [[nodiscard]] std::string country(uint16_t family, const std::array<uint8_t, 16>& addr) const;
  [[nodiscard]] uint64_t lookup_errors() const { return errors_; }

 private:
  GeoIp() = default;
  std::unique_ptr<MMDB_s> db_;
  mutable uint64_t errors_ = 0;
};

}  // namespace privwatch::ueba
