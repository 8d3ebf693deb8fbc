// Ed25519 keys for checkpoints and tombstones (libsodium).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace privwatch::store {

using PublicKey = std::array<uint8_t, 32>;

struct SigningKey {
  std::array<uint8_t, 64> secret{};
  PublicKey pub{};
};

// Loads the key at `path`, or creates it (parent directory 0700, file 0600) when missing.
// A key file readable by group or others is an error (what to do: chmod 600).
[[nodiscard]] Result<SigningKey> load_or_create_key(const std::string& path);
[[nodiscard]] Result<SigningKey> load_key(const std::string& path);

// "ed25519:<64 hex digits>": the exported form of a public key.
[[nodiscard]] std::string format_public_key(const PublicKey& pk);
// Accepts that form, bare hex, or a file holding either.
[[nodiscard]] Result<PublicKey> parse_public_key(const std::string& text_or_file);

[[nodiscard]] std::string sign_hex(const SigningKey& key, std::string_view message);
[[nodiscard]] bool verify_hex(const PublicKey& pk, std::string_view message,
                              std::string_view signature_hex);

}  // namespace privwatch::store
