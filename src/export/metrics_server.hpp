// The Prometheus endpoint: GET /metrics on its own thread (cpp-httplib), rendering the last
// snapshot published into a MetricsRegistry. Never touches pipeline state.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "export/metrics.hpp"
#include "util/result.hpp"

namespace httplib {
class Server;
}

namespace privwatch::exporter {

class MetricsServer {
 public:
  // Binds host:port (port 0: any free port, see port()) and serves until destroyed.
  [[nodiscard]] static Result<std::unique_ptr<MetricsServer>> start(const std::string& host,
                                                                    uint16_t port,
                                                                    const MetricsRegistry& reg);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  [[nodiscard]] uint16_t port() const { return port_; }
  [[nodiscard]] uint64_t scrapes() const { return scrapes_.load(); }

 private:
  MetricsServer() = default;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  uint16_t port_ = 0;
  std::atomic<uint64_t> scrapes_{0};
};

// "127.0.0.1:9469", "[::1]:9469", ":9469" (all addresses) → host and port.
[[nodiscard]] Result<std::pair<std::string, uint16_t>> split_host_port(const std::string& addr);

}  // namespace privwatch::exporter
