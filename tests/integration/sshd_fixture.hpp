// A real OpenSSH server on a loopback port for end-to-end tests, with its own host key, config
// and test users; every suite that logs in over ssh uses this one.
#pragma once

#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "agent_fixture.hpp"

namespace privwatch::itest::ssh {

inline int run_cmd(const std::string& cmd) { return std::system(cmd.c_str()); }

inline uint16_t free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  const uint16_t port = ntohs(a.sin_port);
  close(fd);
  return port;
}

// Local users for the test, removed (with their homes and processes) afterwards. With
// `password_of`, each user gets that password: through chpasswd's stdin, never an argv (exec
// arguments are captured and stored, and tests grep the store for passwords).
class TestUsers {
 public:
  explicit TestUsers(std::vector<std::string> names,
                     const std::function<std::string(const std::string&)>& password_of = {})
      : names_(std::move(names)) {
    for (const auto& n : names_) {
      run_cmd(fmt::format("userdel -r {} >/dev/null 2>&1", n));
      ok_ = ok_ && run_cmd(fmt::format("useradd -m -s /bin/bash {} >/dev/null 2>&1", n)) == 0;
      if (!password_of) continue;
      FILE* p = ::popen("chpasswd", "w");
      ok_ =
          ok_ && p != nullptr && std::fprintf(p, "%s:%s\n", n.c_str(), password_of(n).c_str()) > 0;
      ok_ = p != nullptr && ::pclose(p) == 0 && ok_;
    }
  }
  ~TestUsers() {
    for (const auto& n : names_) {
      run_cmd(fmt::format("pkill -KILL -u {} >/dev/null 2>&1", n));
      run_cmd(fmt::format("userdel -r {} >/dev/null 2>&1", n));
    }
  }
  [[nodiscard]] bool ok() const { return ok_; }

 private:
  std::vector<std::string> names_;
  bool ok_ = true;
};

// sshd on 127.0.0.1:<free port>, key-only logins from the keys in dir/keys/<user>.
class Sshd {
 public:
  Sshd(const std::string& dir, const std::vector<std::string>& users) : dir_(dir) {
    mkdir("/run/sshd", 0755);
    port_ = free_port();
    const std::string keys = dir_ + "/keys";
    mkdir(keys.c_str(), 0755);
    run_cmd(fmt::format("ssh-keygen -q -t ed25519 -N '' -f {}/host_key", dir_));
    run_cmd(fmt::format("ssh-keygen -q -t ed25519 -N '' -f {}/client_key", dir_));
    for (const auto& u : users) {
      run_cmd(fmt::format("cp {0}/client_key.pub {1}/{2} && chmod 644 {1}/{2}", dir_, keys, u));
    }
    write_file(dir_ + "/sshd_config", fmt::format(R"(Port {0}
ListenAddress 127.0.0.1
HostKey {1}/host_key
PidFile {1}/sshd.pid
AuthorizedKeysFile {1}/keys/%u
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
UsePAM yes
PermitRootLogin no
StrictModes no
LogLevel VERBOSE
)",
                                                  port_, dir_));
    sshd_ = Child::exec({"/usr/sbin/sshd", "-D", "-e", "-f", dir_ + "/sshd_config"},
                        {.capture_stdout = false});
    for (int i = 0; i < 100; ++i) {  // ready when the port accepts connections
      const int fd = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(port_);
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      const bool up = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
      close(fd);
      if (up) {
        ready_ = true;
        break;
      }
      std::this_thread::sleep_for(50ms);
    }
  }
  ~Sshd() { sshd_.kill(SIGTERM); }
  [[nodiscard]] bool ready() const { return ready_; }
  [[nodiscard]] uint16_t port() const { return port_; }
  [[nodiscard]] pid_t pid() const { return sshd_.pid(); }

  // An interactive login: ssh -tt as `user` (a pty on the server side), fed through a pipe so
  // the test types lines when it chooses. Everything the remote terminal shows (the pty's
  // output, relayed by sshd) is captured.
  class Login {
   public:
    Login(const Sshd& d, const std::string& user) {
      int p[2];
      if (pipe2(p, O_CLOEXEC) != 0) return;
      ssh_ = Child::exec(
          {"/usr/bin/ssh", "-tt", "-i", d.dir_ + "/client_key", "-p", std::to_string(d.port_), "-o",
           "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
           "-o", "LogLevel=ERROR", user + "@127.0.0.1"},
          {.capture_stdout = true, .stderr_to_stdout = true, .stdin_fd = p[0]});
      ::close(p[0]);
      in_ = p[1];
    }
    ~Login() {
      if (in_ >= 0) ::close(in_);
    }
    Login(const Login&) = delete;
    Login& operator=(const Login&) = delete;
    void type(const std::string& text) {
      if (in_ >= 0) (void)!::write(in_, text.data(), text.size());
    }
    // Closes the input and waits for ssh to exit: {wait status, everything it printed}.
    std::pair<int, std::string> finish(Duration timeout = 60s) {
      if (in_ >= 0) ::close(in_);
      in_ = -1;
      const int status = ssh_.wait(timeout);
      return {status, ssh_.stdout_text()};
    }
    // Waits for ssh to exit by itself, input still open (the server ended the session).
    // {wait status (-1: still running at the timeout, then killed), everything it printed}.
    std::pair<int, std::string> wait_exit(Duration timeout) {
      const int status = ssh_.wait(timeout);
      return {status, ssh_.stdout_text()};
    }
    [[nodiscard]] pid_t pid() const { return ssh_.pid(); }

   private:
    Child ssh_;
    int in_ = -1;
  };

  // Logs in and types the whole script at once (no sudo/su shells in it: type-ahead would be
  // swallowed by sudo's pty relay once its shell exits; use Login to type line by line).
  std::pair<int, std::string> login(const std::string& user, const std::string& script) const {
    Login l(*this, user);
    l.type(script);
    return l.finish();
  }

 private:
  std::string dir_;
  uint16_t port_ = 0;
  Child sshd_;
  bool ready_ = false;
};

}  // namespace privwatch::itest::ssh
