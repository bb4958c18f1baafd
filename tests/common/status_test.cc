// Status and Result<T>: the value semantics every other layer relies on.
#include "common/status.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace conflux {
namespace {

TEST(StatusTest, DefaultIsOkAndCarriesNoMessage) {
  Status st;
  EXPECT_TRUE(st.is_ok());
  EXPECT_TRUE(static_cast<bool>(st));
  EXPECT_EQ(st.code(), StatusCode::kOk);
  EXPECT_TRUE(st.message().empty());
  EXPECT_EQ(st.to_string(), "OK");
  EXPECT_TRUE(Status::ok().is_ok());
}

TEST(StatusTest, NamedConstructorsSetCodeAndMessage) {
  struct Case {
    Status status;
    StatusCode code;
    const char* name;
  };
  const std::vector<Case> cases = {
      {Status::invalid_argument("m"), StatusCode::kInvalidArgument, "INVALID_ARGUMENT"},
      {Status::not_found("m"), StatusCode::kNotFound, "NOT_FOUND"},
      {Status::already_exists("m"), StatusCode::kAlreadyExists, "ALREADY_EXISTS"},
      {Status::permission_denied("m"), StatusCode::kPermissionDenied, "PERMISSION_DENIED"},
      {Status::unauthenticated("m"), StatusCode::kUnauthenticated, "UNAUTHENTICATED"},
      {Status::resource_exhausted("m"), StatusCode::kResourceExhausted, "RESOURCE_EXHAUSTED"},
      {Status::failed_precondition("m"), StatusCode::kFailedPrecondition, "FAILED_PRECONDITION"},
      {Status::aborted("m"), StatusCode::kAborted, "ABORTED"},
      {Status::unavailable("m"), StatusCode::kUnavailable, "UNAVAILABLE"},
      {Status::unimplemented("m"), StatusCode::kUnimplemented, "UNIMPLEMENTED"},
      {Status::internal("m"), StatusCode::kInternal, "INTERNAL"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_FALSE(c.status.is_ok());
    EXPECT_FALSE(static_cast<bool>(c.status));
    EXPECT_EQ(c.status.code(), c.code);
    EXPECT_EQ(c.status.message(), "m");
    EXPECT_STREQ(status_code_name(c.code), c.name);
    EXPECT_EQ(c.status.to_string(), std::string(c.name) + ": m");
  }
  EXPECT_STREQ(status_code_name(StatusCode::kOk), "OK");
}

TEST(StatusTest, PredicatesMatchOnlyTheirCode) {
  EXPECT_TRUE(Status::not_found("x").is_not_found());
  EXPECT_FALSE(Status::not_found("x").is_unavailable());
  EXPECT_TRUE(Status::unavailable("x").is_unavailable());
  EXPECT_FALSE(Status::unavailable("x").is_permission_denied());
  EXPECT_TRUE(Status::permission_denied("x").is_permission_denied());
  EXPECT_FALSE(Status::ok().is_not_found());
  EXPECT_FALSE(Status::ok().is_unavailable());
  EXPECT_FALSE(Status::ok().is_permission_denied());
}

TEST(StatusTest, WithContextPrefixesMessageAndKeepsCode) {
  Status st = Status::unavailable("database is locked");
  Status wrapped = st.with_context("sqlite apply");
  EXPECT_EQ(wrapped.code(), StatusCode::kUnavailable);
  EXPECT_EQ(wrapped.message(), "sqlite apply: database is locked");
  // The original is a value and stays untouched.
  EXPECT_EQ(st.message(), "database is locked");
  // Contexts nest outermost first.
  EXPECT_EQ(wrapped.with_context("engine").message(), "engine: sqlite apply: database is locked");
}

TEST(StatusTest, WithContextOnOkStaysOkWithoutMessage) {
  Status wrapped = Status::ok().with_context("anything");
  EXPECT_TRUE(wrapped.is_ok());
  EXPECT_TRUE(wrapped.message().empty());
}

Status fails_when(bool fail) {
  if (fail) return Status::aborted("concurrent change");
  return Status::ok();
}

Status returns_early(bool fail, int& reached) {
  CFX_RETURN_IF_ERROR(fails_when(fail));
  ++reached;
  return Status::ok();
}

TEST(StatusTest, ReturnIfErrorPropagatesFailureAndContinuesOnOk) {
  int reached = 0;
  EXPECT_TRUE(returns_early(false, reached).is_ok());
  EXPECT_EQ(reached, 1);
  Status st = returns_early(true, reached);
  EXPECT_EQ(st.code(), StatusCode::kAborted);
  EXPECT_EQ(st.message(), "concurrent change");
  EXPECT_EQ(reached, 1);
}

TEST(ResultTest, HoldsValue) {
  Result<int> r = 42;
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(static_cast<bool>(r));
  EXPECT_EQ(*r, 42);
  EXPECT_EQ(r.value(), 42);
  EXPECT_TRUE(r.status().is_ok());
  *r = 7;
  EXPECT_EQ(r.value(), 7);
}

TEST(ResultTest, HoldsError) {
  Result<std::string> r = Status::not_found("no item g1");
  ASSERT_FALSE(r.has_value());
  EXPECT_FALSE(static_cast<bool>(r));
  EXPECT_TRUE(r.error().is_not_found());
  EXPECT_EQ(r.error().message(), "no item g1");
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
}

TEST(ResultTest, ArrowReachesMembers) {
  struct Point {
    int x = 0;
    int y = 0;
  };
  Result<Point> r = Point{3, 4};
  EXPECT_EQ(r->x, 3);
  r->y = 9;
  const Result<Point>& cr = r;
  EXPECT_EQ(cr->y, 9);
  EXPECT_EQ((*cr).x, 3);
}

TEST(ResultTest, MovesOutMoveOnlyValues) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(5);
  ASSERT_TRUE(r);
  std::unique_ptr<int> taken = *std::move(r);
  ASSERT_NE(taken, nullptr);
  EXPECT_EQ(*taken, 5);

  Result<std::unique_ptr<int>> r2 = std::make_unique<int>(6);
  std::unique_ptr<int> taken2 = std::move(r2).value();
  EXPECT_EQ(*taken2, 6);
}

TEST(ResultTest, ErrorsPropagateThroughWithContext) {
  auto read = []() -> Result<int> { return Status::unavailable("down"); };
  auto outer = [&]() -> Result<int> {
    auto v = read();
    if (!v) return v.error().with_context("vdir read g1");
    return *v + 1;
  };
  auto r = outer();
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is_unavailable());
  EXPECT_EQ(r.error().message(), "vdir read g1: down");
}

}  // namespace
}  // namespace conflux
