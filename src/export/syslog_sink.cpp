#include "export/syslog_sink.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "export/ecs_json.hpp"
#include "export/metrics_server.hpp"
#include "export/record_json.hpp"
#include "util/log.hpp"
#include "util/time.hpp"

namespace privwatch::exporter {

namespace {

constexpr std::string_view kSdId = "privwatch@32473";  // 32473: RFC 5612 example PEN

std::string openssl_error() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown TLS error" : out;
}

// PRINTUSASCII, at most `max` characters; "-" when empty.
std::string header_field(std::string_view s, size_t max) {
  std::string out;
  for (char c : s) {
    if (out.size() >= max) break;
    if (c > 32 && c < 127) out += c;
  }
  return out.empty() ? "-" : out;
}

// SD-PARAM value: escape '"', '\' and ']'.
void append_param(std::string& out, std::string_view name, std::string_view value) {
  out += ' ';
  out += name;
  out += "=\"";
  for (char c : value) {
    if (c == '"' || c == '\\' || c == ']') out += '\\';
    out += c;
  }
  out += '"';
}

bool is_ip_literal(const std::string& s) {
  in6_addr a6{};
  in_addr a4{};
  return inet_pton(AF_INET, s.c_str(), &a4) == 1 || inet_pton(AF_INET6, s.c_str(), &a6) == 1;
}

}  // namespace

int syslog_severity(model::Severity s) {
  switch (s) {
    case model::Severity::kCritical:
      return 2;
    case model::Severity::kHigh:
      return 3;
    case model::Severity::kMedium:
      return 4;
    case model::Severity::kLow:
      return 5;
    case model::Severity::kInfo:
      break;
  }
  return 6;
}

std::string syslog_timestamp(uint64_t epoch_ns) {
  if (epoch_ns == 0) return "-";
  return util::format_rfc3339(util::unix_time_from_ns(epoch_ns), 6);  // RFC 5424: at most 6
}

int syslog_facility_code(std::string_view name) {
  static constexpr std::string_view kNames[] = {
      "kern", "user", "mail",     "daemon", "auth", "syslog", "lpr",   "news",
      "uucp", "cron", "authpriv", "ftp",    "ntp",  "audit",  "alert", "clock"};
  for (int i = 0; i < 16; ++i) {
    if (kNames[i] == name) return i;
  }
  if (name.size() == 6 && name.substr(0, 5) == "local" && name[5] >= '0' && name[5] <= '7') {
    return 16 + (name[5] - '0');
  }
  return -1;
}

Result<std::unique_ptr<SyslogSink>> SyslogSink::create(const config::SyslogConfig& cfg,
                                                       std::string hostname) {
  std::unique_ptr<SyslogSink> s(new SyslogSink(cfg, std::move(hostname)));
  auto hp = split_host_port(cfg.address);
  if (!hp) {
    return Error{ErrorKind::kInvalidArgument,
                 fmt::format("exports.syslog.address: {}", hp.error().message), hp.error().hint};
  }
  s->host_ = hp->first;
  s->port_ = hp->second;
  if (cfg.transport == config::SyslogTransport::kTls) {
    s->ctx_ = SSL_CTX_new(TLS_client_method());
    if (s->ctx_ == nullptr) {
      return Error{ErrorKind::kInternal,
                   "exports.syslog: cannot create a TLS context: " + openssl_error(), ""};
    }
    SSL_CTX_set_min_proto_version(s->ctx_, TLS1_2_VERSION);
    if (cfg.tls.verify) {
      SSL_CTX_set_verify(s->ctx_, SSL_VERIFY_PEER, nullptr);
      const bool ok = cfg.tls.ca_file.empty() ? SSL_CTX_set_default_verify_paths(s->ctx_) == 1
                                              : SSL_CTX_load_verify_locations(
                                                    s->ctx_, cfg.tls.ca_file.c_str(), nullptr) == 1;
      if (!ok) {
        return Error{ErrorKind::kInvalidArgument,
                     fmt::format("exports.syslog.tls.ca_file: cannot load '{}': {}",
                                 cfg.tls.ca_file, openssl_error()),
                     "point tls.ca_file at a PEM file with the CA that signed the syslog "
                     "server's certificate"};
      }
    }
  }
  s->start();
  return s;
}

SyslogSink::SyslogSink(const config::SyslogConfig& cfg, std::string hostname)
    : QueuedSink("syslog", cfg.sink, hostname), cfg_(cfg) {
  header_host_ = header_field(hostname, 255);
  procid_ = std::to_string(::getpid());
}

SyslogSink::~SyslogSink() {
  close();  // stops the worker before members go away
  disconnect();
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
}

bool SyslogSink::format_event(const model::Event& ev, Record& rec) {
  std::string& m = rec.body;
  m.reserve(1024);
  const int pri = static_cast<int>(cfg_.facility_code) * 8 + 6;
  m += fmt::format("<{}>1 {} {} {} {} event [{}", pri, syslog_timestamp(ev.wall_time_ns),
                   header_host_, header_field(cfg_.app_name, 48), procid_, kSdId);
  append_param(m, "kind", model::to_string(ev.kind));
  append_param(m, "seq", std::to_string(ev.seq));
  m += "] ";
  append_ecs_json(ev, m, hostname());
  return true;
}

bool SyslogSink::format_alert(const model::Alert& a, Record& rec) {
  std::string& m = rec.body;
  const int pri = static_cast<int>(cfg_.facility_code) * 8 + syslog_severity(a.severity);
  m += fmt::format("<{}>1 {} {} {} {} alert [{}", pri, syslog_timestamp(a.wall_ns), header_host_,
                   header_field(cfg_.app_name, 48), procid_, kSdId);
  append_param(m, "rule", a.rule);
  append_param(m, "severity", model::to_string(a.severity));
  append_param(m, "id", a.id);
  m += "] ";
  m += alert_json(a);
  return true;
}

void SyslogSink::note_failure(const std::string& what) {
  if (!failing_) {
    log::warn(
        "syslog: {} — retrying with backoff; records wait in a queue of {} and are "
        "dropped (counted) beyond it",
        what, sink_config().queue_size);
  }
  failing_ = true;
}

Status SyslogSink::connect_now() {
  disconnect();
  const bool udp = cfg_.transport == config::SyslogTransport::kUdp;
  addrinfo hints{};
  hints.ai_socktype = udp ? SOCK_DGRAM : SOCK_STREAM;
  hints.ai_family = AF_UNSPEC;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(port_);
  if (const int rc = getaddrinfo(host_.c_str(), port.c_str(), &hints, &res); rc != 0) {
    return make_error(ErrorKind::kIo, "cannot resolve {}: {}", host_, gai_strerror(rc));
  }
  std::string last = "no address";
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) continue;
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      rc = ::poll(&p, 1, static_cast<int>(sink_config().timeout_ms));
      int err = 0;
      socklen_t len = sizeof err;
      if (rc == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) {
        rc = 0;
      } else {
        errno = rc == 0 ? ETIMEDOUT : (err != 0 ? err : errno);
        rc = -1;
      }
    }
    if (rc != 0) {
      last = std::strerror(errno);
      ::close(fd);
      continue;
    }
    // Blocking from here on, with a send timeout: a stalled receiver fails the send.
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    timeval tv{static_cast<time_t>(sink_config().timeout_ms / 1000),
               static_cast<suseconds_t>((sink_config().timeout_ms % 1000) * 1000)};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    fd_ = fd;
    break;
  }
  freeaddrinfo(res);
  if (fd_ < 0) {
    return make_error(ErrorKind::kIo, "cannot connect to {} ({}): {}", cfg_.address,
                      udp ? "udp" : "tcp", last);
  }
  if (cfg_.transport == config::SyslogTransport::kTls) {
    ssl_ = SSL_new(ctx_);
    const std::string name = cfg_.tls.server_name.empty() ? host_ : cfg_.tls.server_name;
    if (!is_ip_literal(name)) SSL_set_tlsext_host_name(ssl_, name.c_str());
    if (cfg_.tls.verify) {
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
      if (is_ip_literal(name)) {
        X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
      } else {
        X509_VERIFY_PARAM_set1_host(param, name.c_str(), 0);
      }
    }
    SSL_set_fd(ssl_, fd_);
    ERR_clear_error();
    if (SSL_connect(ssl_) != 1) {
      const long verify = SSL_get_verify_result(ssl_);
      std::string why = openssl_error();
      if (verify != X509_V_OK) {
        why = fmt::format("certificate verification failed: {}",
                          X509_verify_cert_error_string(verify));
      }
      disconnect();
      return make_error(ErrorKind::kIo, "TLS handshake with {} failed: {}", cfg_.address, why);
    }
  }
  return {};
}

void SyslogSink::disconnect() {
  if (ssl_ != nullptr) {
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

// A stream receiver that went away shows as readable with EOF (or a hangup); sending into it
// would "succeed" once and lose the record, so check before each batch.
bool SyslogSink::peer_closed() {
  if (fd_ < 0 || cfg_.transport == config::SyslogTransport::kUdp) return false;
  pollfd p{fd_, POLLIN | POLLRDHUP, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  if (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) return true;
  if (ssl_ != nullptr) {
    // TLS 1.3 servers send session tickets after the handshake: read what is there without
    // blocking; only a close_notify or an error means the peer is gone.
    const int flags = ::fcntl(fd_, F_GETFL);
    ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
    char buf[512];
    bool closed = false;
    while (true) {
      ERR_clear_error();
      const int n = SSL_read(ssl_, buf, sizeof buf);
      if (n > 0) continue;  // a syslog server has nothing to say: ignore it
      const int err = SSL_get_error(ssl_, n);
      closed = err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE;
      break;
    }
    ::fcntl(fd_, F_SETFL, flags);
    ERR_clear_error();
    return closed;
  }
  char c;
  return ::recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

Delivery SyslogSink::deliver(const std::vector<Record>& batch, size_t& done) {
  if (fd_ >= 0 && peer_closed()) disconnect();
  if (fd_ < 0) {
    if (auto s = connect_now(); !s) {
      note_failure(s.error().message);
      return Delivery::kRetry;
    }
    if (failing_) log::info("syslog: connected to {} again", cfg_.address);
    failing_ = false;
  }
  if (cfg_.transport == config::SyslogTransport::kUdp) {
    for (; done < batch.size(); ++done) {
      const std::string& m = batch[done].body;
      if (::send(fd_, m.data(), m.size(), MSG_NOSIGNAL) < 0) {
        if (errno == EMSGSIZE) return Delivery::kRejected;  // larger than a datagram
        note_failure(fmt::format("sending to {} (udp): {}", cfg_.address, std::strerror(errno)));
        disconnect();
        return Delivery::kRetry;
      }
    }
    return Delivery::kOk;
  }
  // Stream: "LEN SP MSG" frames, one buffer per batch; frames fully written count as done.
  frame_buf_.clear();
  std::vector<size_t> ends;
  ends.reserve(batch.size());
  for (size_t i = done; i < batch.size(); ++i) {
    fmt::format_to(std::back_inserter(frame_buf_), "{} ", batch[i].body.size());
    frame_buf_ += batch[i].body;
    ends.push_back(frame_buf_.size());
  }
  size_t off = 0;
  bool ok = true;
  std::string why;
  if (ssl_ != nullptr) {
    ERR_clear_error();
    const int n = SSL_write(ssl_, frame_buf_.data(), static_cast<int>(frame_buf_.size()));
    if (n > 0) {
      off = static_cast<size_t>(n);
    } else {
      ok = false;
      why = openssl_error();
    }
  } else {
    while (off < frame_buf_.size()) {
      const ssize_t n = ::send(fd_, frame_buf_.data() + off, frame_buf_.size() - off, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ok = false;
        why = std::strerror(errno);
        break;
      }
      off += static_cast<size_t>(n);
    }
  }
  const size_t start = done;
  for (size_t i = 0; i < ends.size() && ends[i] <= off; ++i) done = start + i + 1;
  if (!ok) {
    note_failure(fmt::format("sending to {}: {}", cfg_.address, why));
    disconnect();  // a partial frame went out: the stream is unusable
    return Delivery::kRetry;
  }
  return Delivery::kOk;
}

}  // namespace privwatch::exporter
