// syslog output: RFC 5424 messages over UDP (RFC 5426), TCP with octet-counting framing
// (RFC 6587 §3.4.1) or TLS (RFC 5425; OpenSSL, server certificate and name verified).
#pragma once

#include <memory>
#include <string>

#include "config/exports_config.hpp"
#include "export/queued_sink.hpp"
#include "util/result.hpp"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace privwatch::exporter {

class SyslogSink : public QueuedSink {
 public:
  // Checks the address and (TLS) loads the CA file; connects lazily on the worker thread.
  [[nodiscard]] static Result<std::unique_ptr<SyslogSink>> create(const config::SyslogConfig& cfg,
                                                                  std::string hostname);
  ~SyslogSink() override;

 protected:
  bool format_event(const model::Event& ev, Record& rec) override;
  bool format_alert(const model::Alert& a, Record& rec) override;
  Delivery deliver(const std::vector<Record>& batch, size_t& done) override;

 private:
  SyslogSink(const config::SyslogConfig& cfg, std::string hostname);
  Status connect_now();
  void disconnect();
  bool peer_closed();
  void note_failure(const std::string& what);

  config::SyslogConfig cfg_;
  std::string host_;
  uint16_t port_ = 0;
  std::string header_host_;  // HOSTNAME field
  std::string procid_;
  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  bool failing_ = false;  // logged the current outage already
  std::string frame_buf_;
};

// RFC 5424 pieces, exposed for tests.
// Alert severity → syslog severity (critical 2, high 3, medium 4, low 5, info 6).
[[nodiscard]] int syslog_severity(model::Severity s);
// "2026-11-22T04:50:00.123456Z" (microseconds: RFC 5424 allows at most 6 digits); "-" for 0.
[[nodiscard]] std::string syslog_timestamp(uint64_t epoch_ns);
// Facility name (kern, user, ..., auth, authpriv, local0..local7) → code; -1 when unknown.
[[nodiscard]] int syslog_facility_code(std::string_view name);

}  // namespace privwatch::exporter
