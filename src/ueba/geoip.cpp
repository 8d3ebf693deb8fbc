#include "ueba/geoip.hpp"

#include <arpa/inet.h>
#include <maxminddb.h>
#include <sys/socket.h>

#include <cstring>

namespace privwatch::ueba {

Result<std::unique_ptr<GeoIp>> GeoIp::open(const std::string& path) {
  std::unique_ptr<GeoIp> g(new GeoIp());
  g->db_ = std::make_unique<MMDB_s>();
  const int rc = MMDB_open(path.c_str(), MMDB_MODE_MMAP, g->db_.get());
  if (rc != MMDB_SUCCESS) {
    const bool io = rc == MMDB_FILE_OPEN_ERROR || rc == MMDB_IO_ERROR;
    std::string detail = MMDB_strerror(rc);
    if (io && errno != 0) detail += std::string(": ") + std::strerror(errno);
    g->db_.reset();
    return Error{io ? ErrorKind::kIo : ErrorKind::kCorrupt,
                 fmt::format("baselines.geoip_database: cannot open '{}': {}", path, detail),
                 "point it at a MaxMind-format country database (e.g. GeoLite2-Country.mmdb) "
                 "or remove the key to run without countries"};
  }
  return g;
}

GeoIp::~GeoIp() {
  if (db_) MMDB_close(db_.get());
}

std::string GeoIp::country(uint16_t family, const std::array<uint8_t, 16>& addr) const {
  sockaddr_storage ss{};
  if (family == AF_INET) {
    auto* s = reinterpret_cast<sockaddr_in*>(&ss);
    s->sin_family = AF_INET;
    std::memcpy(&s->sin_addr, addr.data(), 4);
  } else if (family == AF_INET6) {
    auto* s = reinterpret_cast<sockaddr_in6*>(&ss);
    s->sin6_family = AF_INET6;
    std::memcpy(&s->sin6_addr, addr.data(), 16);
  } else {
    return {};
  }
  int mmdb_error = 0;
  MMDB_lookup_result_s r =
      MMDB_lookup_sockaddr(db_.get(), reinterpret_cast<sockaddr*>(&ss), &mmdb_error);
  if (mmdb_error != MMDB_SUCCESS) {
    ++errors_;
    return {};
  }
  if (!r.found_entry) return {};
  MMDB_entry_data_s data{};
  int rc = MMDB_get_value(&r.entry, &data, "country", "iso_code", nullptr);
  if (rc != MMDB_SUCCESS || !data.has_data) {
    rc = MMDB_get_value(&r.entry, &data, "registered_country", "iso_code", nullptr);
  }
  if (rc != MMDB_SUCCESS || !data.has_data || data.type != MMDB_DATA_TYPE_UTF8_STRING) return {};
  return std::string(data.utf8_string, data.data_size);
}

}  // namespace privwatch::ueba
