// Result<T>: the one error type across module boundaries (CONVENTIONS.md "Errors").
// A small subset of C++23 std::expected, which g++ 12 does not ship.
#pragma once

#include <fmt/format.h>

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace privwatch {

enum class ErrorKind {
  kInvalidArgument,  // bad input from the user (config, flags, rules)
  kNotFound,
  kPermission,   // not root, missing capability
  kUnsupported,  // missing kernel feature
  kIo,           // file or OS call failed
  kCorrupt,      // data failed validation
  kInternal,
};

// What went wrong, where, and what to do about it.
struct Error {
  ErrorKind kind = ErrorKind::kInternal;
  std::string message;  // what, with where (file:line) when it applies
  std::string hint;     // what to do; may be empty

  [[nodiscard]] std::string to_string() const {
    return hint.empty() ? message : message + "\n  hint: " + hint;
  }
};

template <typename... Args>
[[nodiscard]] Error make_error(ErrorKind kind, fmt::format_string<Args...> f, Args&&... args) {
  return Error{kind, fmt::format(f, std::forward<Args>(args)...), {}};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& value() & {
    assert(has_value());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(has_value());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(has_value());
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  [[nodiscard]] const Error& error() const {
    assert(!has_value());
    return std::get<1>(v_);
  }
  [[nodiscard]] Error& error() {
    assert(!has_value());
    return std::get<1>(v_);
  }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : err_(std::move(error)), ok_(false) {}  // NOLINT
  [[nodiscard]] bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  [[nodiscard]] const Error& error() const {
    assert(!ok_);
    return err_;
  }

 private:
  Error err_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace privwatch
