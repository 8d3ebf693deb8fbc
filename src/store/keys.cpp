#include "store/keys.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "store/record.hpp"
#include "util/fd.hpp"

namespace privwatch::store {

namespace {

constexpr std::string_view kKeyHeader = "privwatch-ed25519-secret-v1 ";

Error io_error(const std::string& path, std::string_view what, int err) {
  return Error{err == EACCES || err == EPERM ? ErrorKind::kPermission : ErrorKind::kIo,
               fmt::format("signing key {}: {}: {}", path, what, std::strerror(err)),
               "the key lives next to the store (store.key_path); run as root"};
}

Status make_parent_dirs(const std::string& path) {
  for (size_t i = 1; i < path.size(); ++i) {
    if (path[i] != '/') continue;
    const std::string dir = path.substr(0, i);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return io_error(path, fmt::format("cannot create directory {}", dir), errno);
    }
  }
  return {};
}

}  // namespace

Result<SigningKey> load_key(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return io_error(path, "cannot read", errno);
  if ((st.st_mode & 077) != 0) {
    return Error{
        ErrorKind::kPermission,
        fmt::format("signing key {} is readable by others (mode {:o})", path, st.st_mode & 0777),
        fmt::format("restrict it: chmod 600 {} (and consider the key compromised: "
                    "rotate it by moving it away; a new one is created on start)",
                    path)};
  }
  std::ifstream f(path);
  std::string line;
  std::getline(f, line);
  SigningKey k;
  if (line.rfind(kKeyHeader, 0) != 0 || !from_hex(std::string_view(line).substr(kKeyHeader.size()),
                                                  k.secret.data(), k.secret.size())) {
    return Error{ErrorKind::kCorrupt, fmt::format("signing key {} is not a privwatch key", path),
                 "restore it from a backup, or move it away to create a new key on the next "
                 "start (verify then needs both public keys)"};
  }
  crypto_sign_ed25519_sk_to_pk(k.pub.data(), k.secret.data());
  return k;
}

Result<SigningKey> load_or_create_key(const std::string& path) {
  if (sodium_init() < 0) return Error{ErrorKind::kInternal, "libsodium cannot start", ""};
  if (::access(path.c_str(), F_OK) == 0) return load_key(path);
  if (auto s = make_parent_dirs(path); !s) return s.error();
  SigningKey k;
  crypto_sign_keypair(k.pub.data(), k.secret.data());
  const std::string tmp = path + ".new";
  {
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!fd.ok()) return io_error(tmp, "cannot create", errno);
    const std::string text =
        std::string(kKeyHeader) + to_hex(k.secret.data(), k.secret.size()) + "\n";
    if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()) ||
        ::fsync(fd.get()) != 0) {
      const int err = errno;
      ::unlink(tmp.c_str());
      return io_error(tmp, "cannot write", err);
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) return io_error(path, "cannot create", errno);
  return k;
}

std::string format_public_key(const PublicKey& pk) {
  return "ed25519:" + to_hex(pk.data(), pk.size());
}

Result<PublicKey> parse_public_key(const std::string& text_or_file) {
  std::string text = text_or_file;
  if (text.find('/') != std::string::npos || ::access(text.c_str(), F_OK) == 0) {
    std::ifstream f(text_or_file);
    if (!f) {
      return Error{ErrorKind::kNotFound,
                   fmt::format("public key file {}: {}", text_or_file, std::strerror(errno)),
                   "export the key with 'privwatch store pubkey > FILE' on the agent's host"};
    }
    std::getline(f, text);
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\r')) {
    text.pop_back();
  }
  std::string_view hex = text;
  if (hex.rfind("ed25519:", 0) == 0) hex.remove_prefix(8);
  PublicKey pk{};
  if (!from_hex(hex, pk.data(), pk.size())) {
    return Error{ErrorKind::kInvalidArgument,
                 fmt::format("'{}' is not a public key (expected ed25519:<64 hex digits>)",
                             text.substr(0, 80)),
                 "pass the output of 'privwatch store pubkey' or a file holding it"};
  }
  return pk;
}

std::string sign_hex(const SigningKey& key, std::string_view message) {
  uint8_t sig[crypto_sign_BYTES];
  crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(message.data()),
                       message.size(), key.secret.data());
  return to_hex(sig, sizeof sig);
}

bool verify_hex(const PublicKey& pk, std::string_view message, std::string_view signature_hex) {
  uint8_t sig[crypto_sign_BYTES];
  if (!from_hex(signature_hex, sig, sizeof sig)) return false;
  return crypto_sign_verify_detached(sig, reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(), pk.data()) == 0;
}

}  // namespace privwatch::store
