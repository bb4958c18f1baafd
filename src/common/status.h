// Status and Result<T>: the error vocabulary inside Conflux.
//
// A Status is a cheap value; success carries no message. Codes follow Abseil's
// canonical list, trimmed, and tell the caller what to do next:
//   kUnavailable        back end down: keep the change, retry later
//   kAborted            concurrent change: redo the step
//   kFailedPrecondition state must be fixed first; do not retry
//   kNotFound, kAlreadyExists, kPermissionDenied, kUnauthenticated,
//   kInvalidArgument, kResourceExhausted (a limit was hit), kInternal.
// SyncML status numbers are a different thing: engine/status_map.cc turns a
// Status into the wire code; nothing below the engine knows them.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace conflux {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kPermissionDenied,
  kUnauthenticated,
  kResourceExhausted,
  kFailedPrecondition,
  kAborted,
  kUnavailable,
  kUnimplemented,
  kInternal,
};

const char* status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK

  static Status ok() { return Status(); }
  static Status invalid_argument(std::string msg) { return {StatusCode::kInvalidArgument, std::move(msg)}; }
  static Status not_found(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
  static Status already_exists(std::string msg) { return {StatusCode::kAlreadyExists, std::move(msg)}; }
  static Status permission_denied(std::string msg) { return {StatusCode::kPermissionDenied, std::move(msg)}; }
  static Status unauthenticated(std::string msg) { return {StatusCode::kUnauthenticated, std::move(msg)}; }
  static Status resource_exhausted(std::string msg) { return {StatusCode::kResourceExhausted, std::move(msg)}; }
  static Status failed_precondition(std::string msg) { return {StatusCode::kFailedPrecondition, std::move(msg)}; }
  static Status aborted(std::string msg) { return {StatusCode::kAborted, std::move(msg)}; }
  static Status unavailable(std::string msg) { return {StatusCode::kUnavailable, std::move(msg)}; }
  static Status unimplemented(std::string msg) { return {StatusCode::kUnimplemented, std::move(msg)}; }
  static Status internal(std::string msg) { return {StatusCode::kInternal, std::move(msg)}; }

  bool is_ok() const { return code_ == StatusCode::kOk; }
  explicit operator bool() const { return is_ok(); }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  bool is_not_found() const { return code_ == StatusCode::kNotFound; }
  bool is_unavailable() const { return code_ == StatusCode::kUnavailable; }
  bool is_permission_denied() const { return code_ == StatusCode::kPermissionDenied; }

  // Returns a copy whose message is prefixed with `context` ("sqlite apply: ...").
  Status with_context(const std::string& context) const {
    if (is_ok()) return *this;
    return Status(code_, context + ": " + message_);
  }

  // "NOT_FOUND: no such item" — for logs, never for end users who must not
  // learn whether a thing exists.
  std::string to_string() const;

 private:
  Status(StatusCode code, std::string msg) : code_(code), message_(std::move(msg)) {}

  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Result<T>: a T or a non-OK Status, shaped like std::expected so the switch
// at C++23 is mechanical: has_value(), operator*, ->, error().
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit on purpose
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).is_ok() && "Result built from an OK status");
  }

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Status& error() const { return std::get<Status>(v_); }
  // The status whatever the outcome: OK when a value is held.
  Status status() const { return has_value() ? Status::ok() : error(); }

 private:
  std::variant<T, Status> v_;
};

#define CFX_RETURN_IF_ERROR(expr)                 \
  do {                                            \
    ::conflux::Status cfx_status_ = (expr);       \
    if (!cfx_status_.is_ok()) return cfx_status_; \
  } while (0)

}  // namespace conflux
