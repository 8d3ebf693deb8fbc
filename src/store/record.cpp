#include "store/record.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstring>

namespace privwatch::store {

namespace {

constexpr std::string_view kKindNames[] = {"",         "event",      "session",
                                           "alert",    "escalation", "recording",
                                           "response", "tombstone",  "checkpoint"};

void put_u64(std::string& out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out.append(b, 8);
}

void put_str(std::string& out, std::string_view s) {
  put_u64(out, s.size());
  out.append(s.data(), s.size());
}

}  // namespace

std::string_view to_string(RecordKind k) {
  const auto i = static_cast<size_t>(k);
  return i < std::size(kKindNames) ? kKindNames[i] : std::string_view("unknown");
}

std::optional<RecordKind> kind_from_string(std::string_view s) {
  for (size_t i = 1; i < std::size(kKindNames); ++i) {
    if (kKindNames[i] == s) return static_cast<RecordKind>(i);
  }
  return std::nullopt;
}

void append_roles(std::string& out, const std::vector<std::string>& roles) {
  const size_t start = out.size();
  for (const auto& r : roles) {
    if (out.size() != start) out += ',';
    out += r;
  }
}

std::string join_roles(const std::vector<std::string>& roles) {
  std::string out;
  append_roles(out, roles);
  return out;
}

void append_canonical(std::string& out, uint64_t seq, const Record& r, std::string_view roles) {
  out.append("PWR1", 4);
  put_u64(out, seq);
  put_u64(out, r.wall_ns);
  put_u64(out, static_cast<uint64_t>(r.kind));
  put_str(out, r.name);
  put_str(out, r.host);
  put_str(out, r.user);
  put_str(out, r.human);
  put_str(out, r.session);
  put_str(out, roles);
  put_str(out, r.cluster);
  put_str(out, r.ref);
  put_u64(out, static_cast<uint64_t>(static_cast<int64_t>(r.severity)));
  put_u64(out, r.flags);
  put_str(out, r.text);
  put_str(out, r.body);
  put_str(out, r.data);
}

Hash chain_hash(const Hash& prev, std::string_view canonical) {
  Hash h{};
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, h.size());
  crypto_generichash_update(&st, prev.data(), prev.size());
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(canonical.data()),
                            canonical.size());
  crypto_generichash_final(&st, h.data(), h.size());
  return h;
}

namespace {

// BLAKE2b over length-prefixed fields without building the canonical string.
struct Hasher {
  crypto_generichash_state st;
  Hasher() { crypto_generichash_init(&st, nullptr, 0, 32); }
  void raw(const void* p, size_t n) {
    crypto_generichash_update(&st, static_cast<const unsigned char*>(p), n);
  }
  void u64(uint64_t v) {
    unsigned char b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>((v >> (8 * i)) & 0xff);
    raw(b, 8);
  }
  void str(std::string_view s) {
    u64(s.size());
    raw(s.data(), s.size());
  }
  Hash done() {
    Hash h{};
    crypto_generichash_final(&st, h.data(), h.size());
    return h;
  }
};

}  // namespace

namespace {

void digest_fields(Hasher& h, const Record& r, std::string_view roles) {
  h.u64(r.wall_ns);
  h.u64(static_cast<uint64_t>(r.kind));
  h.str(r.name);
  h.str(r.host);
  h.str(r.user);
  h.str(r.human);
  h.str(r.session);
  h.str(roles);
  h.str(r.cluster);
  h.str(r.ref);
  h.u64(static_cast<uint64_t>(static_cast<int64_t>(r.severity)));
  h.u64(r.flags);
  h.str(r.text);
}

}  // namespace

Hash record_digest(const Record& r, std::string_view roles) {
  Hasher h;
  h.raw("PWR2", 4);
  digest_fields(h, r, roles);
  h.str(r.body);
  h.str(r.data);
  return h.done();
}

Hash record_digest_v3(const Record& r, std::string_view roles, std::string_view packed,
                      const Hash& dict_hash) {
  Hasher h;
  h.raw("PWR3", 4);
  digest_fields(h, r, roles);
  if (!packed.empty()) {
    h.u64(1);
    h.str(packed);
    h.raw(dict_hash.data(), dict_hash.size());
  } else {
    h.u64(0);
    h.str(r.body);
  }
  h.str(r.data);
  return h.done();
}

Hash dict_digest(std::string_view dict) {
  Hash out{};
  crypto_generichash(out.data(), out.size(), reinterpret_cast<const unsigned char*>(dict.data()),
                     dict.size(), nullptr, 0);
  return out;
}

Hash chain_hash_v2(const Hash& prev, uint64_t seq, const Hash& digest) {
  Hasher h;
  h.raw(prev.data(), prev.size());
  h.u64(seq);
  h.raw(digest.data(), digest.size());
  return h.done();
}

namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr char kBase32[] = "abcdefghijklmnopqrstuvwxyz234567";

// FNV-1a, 64 bits: stable across builds and platforms (it is stored in the index). Not a
// security boundary: a collision only costs a row the exact test then rejects.
uint64_t fnv1a64(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

// Length of a tag's value part.
size_t tag_value_size(std::string_view value, int schema) {
  return schema >= 3 && value.size() > kTagHexMax ? kTagHashChars : 2 * value.size();
}

// Writes the value part (tag_value_size(value, schema) characters) at p.
char* put_tag_value(char* p, std::string_view value, int schema) {
  if (schema >= 3 && value.size() > kTagHexMax) {
    uint64_t h = fnv1a64(value);
    for (size_t i = 0; i < kTagHashChars; ++i, h >>= 5) *p++ = kBase32[h & 31];
    return p;
  }
  for (unsigned char c : value) {
    *p++ = kHexDigits[c >> 4];
    *p++ = kHexDigits[c & 15];
  }
  return p;
}

}  // namespace

std::string tag(std::string_view prefix, std::string_view value, int schema) {
  std::string out(prefix);
  const size_t at = out.size();
  out.resize(at + tag_value_size(value, schema));
  put_tag_value(out.data() + at, value, schema);
  return out;
}

std::string quoted_tag(std::string_view prefix, std::string_view value, int schema) {
  return "\"" + tag(prefix, value, schema) + "\"";
}

std::string session_match(std::string_view session_id, int schema) {
  return "tags : " + quoted_tag("pws", session_id, schema);
}

void append_tags(std::string& out, RecordKind kind, std::string_view name, std::string_view user,
                 std::string_view human, std::string_view session, std::string_view roles,
                 std::string_view cluster, int schema) {
  // Sized once, then written in place (the encoder thread runs this for every record).
  out.reserve(out.size() + 8 +
              2 * (name.size() + user.size() + human.size() + session.size() + roles.size() +
                   cluster.size()) +
              5 * 8 + 4 * static_cast<size_t>(std::count(roles.begin(), roles.end(), ',')));
  auto add = [&out, schema](std::string_view prefix, std::string_view value) {
    if (value.empty()) return;
    const size_t at = out.size();
    const size_t sep = at == 0 ? 0 : 1;
    out.resize(at + sep + prefix.size() + tag_value_size(value, schema));
    char* p = out.data() + at;
    if (sep != 0) *p++ = ' ';
    std::memcpy(p, prefix.data(), prefix.size());
    put_tag_value(p + prefix.size(), value, schema);
  };
  if (kind != RecordKind::kEvent) {  // events: see the kind column (schema 3)
    if (!out.empty()) out += ' ';
    out += "pwk";
    out += static_cast<char>('0' + static_cast<int>(kind) % 10);
  }
  add("pwn", name);
  add("pwu", user);
  if (human != user) add("pwh", human);
  add("pws", session);
  size_t start = 0;
  while (start < roles.size()) {
    size_t end = roles.find(',', start);
    if (end == std::string_view::npos) end = roles.size();
    add("pwr", roles.substr(start, end - start));
    start = end + 1;
  }
  add("pwc", cluster);
}

Hash genesis_hash(std::string_view chain_id) {
  const std::string seed = "privwatch-genesis-v1\n" + std::string(chain_id);
  Hash h{};
  crypto_generichash(h.data(), h.size(), reinterpret_cast<const unsigned char*>(seed.data()),
                     seed.size(), nullptr, 0);
  return h;
}

std::string to_hex(const uint8_t* p, size_t n) {
  constexpr const char* kDigits = kHexDigits;
  std::string s(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    s[2 * i] = kDigits[p[i] >> 4];
    s[2 * i + 1] = kDigits[p[i] & 15];
  }
  return s;
}

bool from_hex(std::string_view hex, uint8_t* out, size_t n) {
  if (hex.size() != 2 * n) return false;
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < n; ++i) {
    const int hi = nib(hex[2 * i]), lo = nib(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

}  // namespace privwatch::store
