// JSON strings: the one escaper of the agent (the ECS writer's per-event path, the rule
// engine's alert details, the HTTP sinks). Every byte string becomes valid JSON: '"', '\\' and
// the control characters are escaped (\n \r \t \b \f, else \u00XX), DEL as \u007f, valid UTF-8
// is copied as it is, and each byte that is not part of a valid UTF-8 sequence (Unicode Table
// 3-7: no overlongs, no surrogates, nothing above U+10FFFF) becomes \ufffd.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

namespace privwatch::util {

// Appends `s` as a quoted JSON string (see above).
void append_json_string(std::string& out, std::string_view s);

namespace json_detail {

// The high bit of every byte of `w` that cannot go into a JSON string as it is: anything but
// printable ASCII, and '"' and '\\'. Exact per byte: no carry crosses a byte, so the first
// marked byte is the first one to escape (or to check as UTF-8).
constexpr uint64_t non_plain_bytes(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kLow7 = 0x7F7F7F7F7F7F7F7Full;
  constexpr uint64_t kHigh = 0x8080808080808080ull;
  const uint64_t low = w & kLow7;
  const auto is_zero = [&](uint64_t x) { return ~(((x & kLow7) + kLow7) | x); };
  const uint64_t control = ~(low + kOnes * (0x80 - 0x20));  // low 7 bits < 0x20
  const uint64_t del_or_high = (low + kOnes) | w;           // 0x7F, or >= 0x80
  return (control | del_or_high | is_zero(w ^ (kOnes * '"')) | is_zero(w ^ (kOnes * '\\'))) & kHigh;
}

// Index (in memory order) of the first byte marked by non_plain_bytes(); mask != 0.
[[gnu::always_inline]] inline size_t first_marked(uint64_t mask) {
  if constexpr (std::endian::native == std::endian::little) {
    return static_cast<size_t>(std::countr_zero(mask)) / 8;
  } else {
    return static_cast<size_t>(std::countl_zero(mask)) / 8;
  }
}

// The JSON form of each ASCII byte that is not plain: \" \\ \n \r \t \b \f, else \u00XX
// (DEL and the control characters). Plain bytes have an entry too but never use it.
struct Escape {
  char text[6];
  uint8_t size;
};
inline constexpr std::array<Escape, 128> kEscapes = [] {
  constexpr char kHex[] = "0123456789abcdef";
  std::array<Escape, 128> t{};
  for (size_t c = 0; c < t.size(); ++c) {
    t[c] = {{'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]}, 6};
  }
  const std::pair<char, char> kShort[] = {{'"', '"'},  {'\\', '\\'}, {'\n', 'n'}, {'\r', 'r'},
                                          {'\t', 't'}, {'\b', 'b'},  {'\f', 'f'}};
  for (const auto& [c, letter] : kShort) t[static_cast<size_t>(c)] = {{'\\', letter}, 2};
  return t;
}();

// Eight bytes from p as one word, in memory order.
[[gnu::always_inline]] inline uint64_t load8(const unsigned char* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}

// The n < 8 bytes at p as one word (memory order), the rest filled with spaces (plain): no
// read beyond p + n.
[[gnu::always_inline]] inline uint64_t load_tail(const unsigned char* p, size_t n) {
  constexpr uint64_t kSpaces = 0x2020202020202020ull;
  if constexpr (std::endian::native == std::endian::little) {
    uint64_t w = 0;
    if (n >= 4) {  // two overlapping 4-byte loads
      uint32_t lo, hi;
      std::memcpy(&lo, p, 4);
      std::memcpy(&hi, p + n - 4, 4);
      w = lo | (uint64_t{hi} << (8 * (n - 4)));
    } else if (n >= 2) {
      uint16_t lo, hi;
      std::memcpy(&lo, p, 2);
      std::memcpy(&hi, p + n - 2, 2);
      w = lo | (uint64_t{hi} << (8 * (n - 2)));
    } else if (n == 1) {
      w = p[0];
    }
    return w | (kSpaces << (8 * n));
  } else {
    unsigned char b[8];
    std::memset(b, ' ', sizeof(b));
    std::memcpy(b, p, n);
    return load8(b);
  }
}

// Bytes of the valid UTF-8 sequence starting at p (lead byte >= 0x80), 0 when invalid
// (Unicode Table 3-7: no overlongs, no surrogates, nothing above U+10FFFF).
[[gnu::always_inline]] inline size_t utf8_sequence_len(const unsigned char* p,
                                                       const unsigned char* end) {
  const unsigned char c = p[0];
  const size_t avail = static_cast<size_t>(end - p);
  auto cont = [&](size_t i, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return i < avail && p[i] >= lo && p[i] <= hi;
  };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c == 0xE0) return cont(1, 0xA0) && cont(2) ? 3 : 0;
  if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) return cont(1) && cont(2) ? 3 : 0;
  if (c == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;
  if (c == 0xF0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xF1 && c <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

}  // namespace json_detail

// Writes through a raw pointer into the caller's string: the string is resized once up front
// (no allocation when the caller reuses its buffer) and cut back to what was written when the
// JsonSink goes away. Every write is preceded by one ensure() for its worst-case size.
class JsonSink {
 public:
  // Bytes a JSON string's content always leaves free behind it (room for closing characters).
  static constexpr size_t kSlack = 8;

  JsonSink(std::string& out, size_t expected) : out_(out), start_(out.size()) {
    out_.resize(start_ + expected);
    base_ = out_.data();
    p_ = base_ + start_;
    end_ = base_ + out_.size();
  }
  ~JsonSink() { out_.resize(pos()); }
  JsonSink(const JsonSink&) = delete;
  JsonSink& operator=(const JsonSink&) = delete;

  [[gnu::always_inline]] void ensure(size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) [[unlikely]]
      grow(n);
  }
  [[nodiscard]] size_t pos() const { return static_cast<size_t>(p_ - base_); }
  void rewind(size_t pos) { p_ = base_ + pos; }
  char& at(size_t pos) { return base_[pos]; }

  // The put functions assume ensure() was called for their size.
  void put(char c) { *p_++ = c; }
  template <size_t N>
  void put(const char (&text)[N]) {  // a literal without its NUL, in one fixed-size copy
    std::memcpy(p_, text, N - 1);
    p_ += N - 1;
  }
  void put_bytes(const char* s, size_t n) {
    std::memcpy(p_, s, n);
    p_ += n;
  }

  // The inside of a JSON string: escapes quotes, backslash, control characters and DEL;
  // invalid UTF-8 bytes become \ufffd. Needs s.size() + kSlack bytes ensured, and leaves at
  // least kSlack free.
  void put_escaped(std::string_view s) {
    const auto* in = reinterpret_cast<const unsigned char*>(s.data());
    const auto* const end = in + s.size();
    // Invariant: at least (end - in) + kSlack bytes free, so 8 bytes can be stored before
    // they are checked, and an escape (at most 6 bytes for 1) always fits.
    while (in != end) {
      const auto left = static_cast<size_t>(end - in);
      const uint64_t w = left >= 8 ? json_detail::load8(in) : json_detail::load_tail(in, left);
      std::memcpy(p_, &w, 8);  // stored before it is checked: the plain prefix stays
      const uint64_t marked = json_detail::non_plain_bytes(w);
      if (marked == 0) {
        const size_t n = std::min<size_t>(left, 8);
        in += n;
        p_ += n;
        continue;
      }
      const size_t n = json_detail::first_marked(marked);  // < left: the padding is plain
      in += n;
      p_ += n;
      in = put_special(in, end);
    }
  }

 private:
  // One byte (or UTF-8 sequence) that is not plain; returns the input after it.
  [[gnu::noinline]] const unsigned char* put_special(const unsigned char* in,
                                                     const unsigned char* end) {
    const unsigned char c = *in;
    if (c >= 0x80) {
      const size_t n = json_detail::utf8_sequence_len(in, end);
      if (n != 0) {  // valid: copied as is (n bytes for n: the invariant holds)
        p_[0] = static_cast<char>(in[0]);
        p_[1] = static_cast<char>(in[1]);
        if (n > 2) p_[2] = static_cast<char>(in[2]);
        if (n > 3) p_[3] = static_cast<char>(in[3]);
        p_ += n;
        return in + n;
      }
      put("\\ufffd");
    } else {
      const json_detail::Escape& e = json_detail::kEscapes[c];
      std::memcpy(p_, e.text, sizeof(e.text));
      p_ += e.size;
    }
    ++in;
    ensure(static_cast<size_t>(end - in) + kSlack);  // the escape took more than it consumed
    return in;
  }

  // At least doubles what this JsonSink wrote so far: a long value full of escapes grows the
  // string a logarithmic number of times, and what the caller had before is never counted.
  [[gnu::noinline]] void grow(size_t n) {
    const size_t at = pos();
    out_.resize(at + n + std::max<size_t>(at - start_, 1024));
    base_ = out_.data();
    p_ = base_ + at;
    end_ = base_ + out_.size();
  }

 protected:  // writers that add their own put functions (the ECS writer's numbers)
  std::string& out_;
  size_t start_;  // where this JsonSink began writing
  char* base_;
  char* p_;
  char* end_;
};

}  // namespace privwatch::util
