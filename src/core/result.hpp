// Value-or-error result for operations whose failures are expected input problems, not bugs.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace sluice {

template <class T>
struct Result {
  std::optional<T> value;
  std::string error;

  static Result success(T v) { return Result{std::optional<T>(std::move(v)), std::string()}; }
  static Result failure(std::string message) { return Result{std::nullopt, std::move(message)}; }

  bool ok() const { return value.has_value(); }
  explicit operator bool() const { return ok(); }
  const T& operator*() const { return *value; }
  const T* operator->() const { return &*value; }
};

}  // namespace sluice
