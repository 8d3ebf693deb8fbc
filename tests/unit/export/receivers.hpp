// Real receivers for the export tests, on loopback ports chosen by the kernel: an HTTP server
// (OTLP, webhooks), UDP and TCP/TLS syslog listeners. Each records what it got.
#pragma once

#include <httplib.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace privwatch::exporter::testing {

using namespace std::chrono_literals;

// Polls `cond` every 10 ms until it holds or `timeout` passes (not a timing assertion: a
// generous bound on progress that normally takes milliseconds).
inline bool eventually(const std::function<bool()>& cond, std::chrono::milliseconds timeout = 20s) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (cond()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return cond();
}

struct HttpRequest {
  std::string path, body;
  httplib::Headers headers;
};

class HttpReceiver {
 public:
  HttpReceiver() {
    srv_.Post(".*", [this](const httplib::Request& req, httplib::Response& res) {
      {
        std::unique_lock lock(mu_);
        ++arrivals_;
        cv_.wait(lock, [this] { return !hold_; });  // a slow receiver: blocks until released
        if (!statuses_.empty()) {
          res.status = statuses_.front();
          statuses_.erase(statuses_.begin());
        } else {
          res.status = 200;
        }
        if (res.status == 200) requests_.push_back({req.path, req.body, req.headers});
      }
      res.set_content("{}", "application/json");
    });
    srv_.set_tcp_nodelay(true);
    port_ = srv_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { srv_.listen_after_bind(); });
  }
  ~HttpReceiver() {
    release();
    srv_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  std::string url(const std::string& path = "") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  // The next responses (then 200).
  void respond_with(std::vector<int> statuses) {
    std::lock_guard lock(mu_);
    statuses_ = std::move(statuses);
  }
  void hold() {
    std::lock_guard lock(mu_);
    hold_ = true;
  }
  void release() {
    {
      std::lock_guard lock(mu_);
      hold_ = false;
    }
    cv_.notify_all();
  }
  std::vector<HttpRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  // Requests from index `from` on (to scan a long stream once).
  std::vector<HttpRequest> requests_since(size_t from) const {
    std::lock_guard lock(mu_);
    return from < requests_.size()
               ? std::vector<HttpRequest>(requests_.begin() + static_cast<long>(from),
                                          requests_.end())
               : std::vector<HttpRequest>();
  }
  size_t arrivals() const {
    std::lock_guard lock(mu_);
    return arrivals_;
  }

 private:
  httplib::Server srv_;
  std::thread thread_;
  int port_ = 0;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool hold_ = false;
  size_t arrivals_ = 0;
  std::vector<int> statuses_;
  std::vector<HttpRequest> requests_;
};

// A loopback port nothing listens on (bound, then closed).
inline int dead_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

class UdpReceiver {
 public:
  UdpReceiver() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    timeval tv{10, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~UdpReceiver() { ::close(fd_); }
  int port() const { return port_; }
  std::string receive() {  // "" on timeout
    std::string buf(70000, '\0');
    const ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
    buf.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return buf;
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// TCP (optionally TLS) listener that parses octet-counted frames ("LEN SP MSG").
class StreamReceiver {
 public:
  // cert/key: PEM files; empty = plain TCP.
  explicit StreamReceiver(std::string cert = {}, std::string key = {}) {
    if (!cert.empty()) {
      ctx_ = SSL_CTX_new(TLS_server_method());
      SSL_CTX_use_certificate_chain_file(ctx_, cert.c_str());
      SSL_CTX_use_PrivateKey_file(ctx_, key.c_str(), SSL_FILETYPE_PEM);
    }
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ::listen(listen_fd_, 8);
    thread_ = std::thread([this] { run(); });
  }
  ~StreamReceiver() {
    stop_.store(true);
    ::shutdown(listen_fd_, SHUT_RDWR);
    drop_connection();
    thread_.join();
    ::close(listen_fd_);
    if (ctx_ != nullptr) SSL_CTX_free(ctx_);
  }
  int port() const { return port_; }
  std::vector<std::string> frames() const {
    std::lock_guard lock(mu_);
    return frames_;
  }
  size_t connections() const { return connections_.load(); }
  size_t handshake_failures() const { return handshake_failures_.load(); }
  // Closes the current connection (the sender must notice and reconnect).
  void drop_connection() {
    std::lock_guard lock(mu_);
    if (conn_fd_ >= 0) ::shutdown(conn_fd_, SHUT_RDWR);
  }

 private:
  void run() {
    // A sender that goes away must not kill the test (TLS 1.3 writes session tickets lazily).
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
    while (!stop_.load()) {
      const int c = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;
      SSL* ssl = nullptr;
      if (ctx_ != nullptr) {
        ssl = SSL_new(ctx_);
        SSL_set_fd(ssl, c);
        if (SSL_accept(ssl) != 1) {
          handshake_failures_.fetch_add(1);
          ERR_clear_error();
          SSL_free(ssl);
          ::close(c);
          continue;
        }
      }
      {
        std::lock_guard lock(mu_);
        conn_fd_ = c;
      }
      connections_.fetch_add(1);
      std::string buf;
      char tmp[65536];
      while (true) {
        const int n = ssl != nullptr ? SSL_read(ssl, tmp, sizeof tmp)
                                     : static_cast<int>(::recv(c, tmp, sizeof tmp, 0));
        if (n <= 0) break;
        buf.append(tmp, static_cast<size_t>(n));
        parse(buf);
      }
      {
        std::lock_guard lock(mu_);
        conn_fd_ = -1;
      }
      if (ssl != nullptr) SSL_free(ssl);
      ::close(c);
    }
  }
  void parse(std::string& buf) {
    while (true) {
      const size_t sp = buf.find(' ');
      if (sp == std::string::npos) return;
      const size_t len = std::stoul(buf.substr(0, sp));
      if (buf.size() < sp + 1 + len) return;
      {
        std::lock_guard lock(mu_);
        frames_.push_back(buf.substr(sp + 1, len));
      }
      buf.erase(0, sp + 1 + len);
    }
  }

  SSL_CTX* ctx_ = nullptr;
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> connections_{0}, handshake_failures_{0};
  mutable std::mutex mu_;
  int conn_fd_ = -1;
  std::vector<std::string> frames_;
};

}  // namespace privwatch::exporter::testing
