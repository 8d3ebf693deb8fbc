#include "export/metrics_server.hpp"

#include <httplib.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace privwatch::exporter {

Result<std::pair<std::string, uint16_t>> split_host_port(const std::string& addr) {
  const auto bad = [&](std::string_view why) {
    return Error{ErrorKind::kInvalidArgument, fmt::format("'{}': {}", addr, why),
                 "write host:port, e.g. 127.0.0.1:9469, [::1]:9469 or :9469 (all addresses)"};
  };
  const size_t colon = addr.rfind(':');
  if (colon == std::string::npos) return bad("no port");
  std::string host = addr.substr(0, colon);
  const std::string port_text = addr.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    return bad("an IPv6 address must be in brackets");
  }
  if (host.empty()) host = "0.0.0.0";
  unsigned port = 0;
  const auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || p != port_text.data() + port_text.size() || port > 65535) {
    return bad("the port is not a number 0..65535");
  }
  return std::make_pair(host, static_cast<uint16_t>(port));
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(const std::string& host, uint16_t port,
                                                            const MetricsRegistry& reg) {
  std::unique_ptr<MetricsServer> s(new MetricsServer());
  s->server_ = std::make_unique<httplib::Server>();
  auto& svr = *s->server_;
  svr.new_task_queue = [] { return new httplib::ThreadPool(2); };
  svr.set_read_timeout(5, 0);
  svr.set_write_timeout(5, 0);
  MetricsServer* self = s.get();
  svr.Get("/metrics", [self, &reg](const httplib::Request&, httplib::Response& res) {
    self->scrapes_.fetch_add(1);
    const auto snap = reg.current();
    if (!snap) {
      res.status = 503;
      res.set_content("no metrics published yet\n", "text/plain");
      return;
    }
    res.set_content(render_prometheus(*snap), "text/plain; version=0.0.4; charset=utf-8");
  });
  svr.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("privwatch agent: metrics at /metrics\n", "text/plain");
  });
  int bound = port;
  if (port == 0) {
    bound = svr.bind_to_any_port(host.c_str());
  } else if (!svr.bind_to_port(host.c_str(), port)) {
    bound = -1;
  }
  if (bound <= 0) {
    return Error{ErrorKind::kIo,
                 fmt::format("metrics: cannot listen on {}:{} ({})", host, port,
                             errno != 0 ? std::strerror(errno) : "bind failed"),
                 "choose a free address in metrics.listen, or stop what uses the port "
                 "(ss -ltnp)"};
  }
  s->port_ = static_cast<uint16_t>(bound);
  s->thread_ = std::thread([self] { self->server_->listen_after_bind(); });
  return s;
}

MetricsServer::~MetricsServer() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace privwatch::exporter
