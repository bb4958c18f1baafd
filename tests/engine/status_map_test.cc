// engine/status_map.cc: the one place a Conflux Status becomes a SyncML code
// (SYNCML-REFERENCE §5).
#include "engine/status_map.h"

#include <gtest/gtest.h>

namespace conflux::engine {
namespace {

using protocol::CommandKind;
using WireCode = protocol::StatusCode;

Status status_with(conflux::StatusCode code) {
  switch (code) {
    case conflux::StatusCode::kOk: return Status::ok();
    case conflux::StatusCode::kInvalidArgument: return Status::invalid_argument("x");
    case conflux::StatusCode::kNotFound: return Status::not_found("x");
    case conflux::StatusCode::kAlreadyExists: return Status::already_exists("x");
    case conflux::StatusCode::kPermissionDenied: return Status::permission_denied("x");
    case conflux::StatusCode::kUnauthenticated: return Status::unauthenticated("x");
    case conflux::StatusCode::kResourceExhausted: return Status::resource_exhausted("x");
    case conflux::StatusCode::kFailedPrecondition: return Status::failed_precondition("x");
    case conflux::StatusCode::kAborted: return Status::aborted("x");
    case conflux::StatusCode::kUnavailable: return Status::unavailable("x");
    case conflux::StatusCode::kUnimplemented: return Status::unimplemented("x");
    case conflux::StatusCode::kInternal: return Status::internal("x");
  }
  return Status::internal("x");
}

// What a device does with the answer follows from its class: 2xx done, 4xx
// its own request was wrong or not allowed (it must not simply resend),
// 5xx the server failed (it may try again later). Every Status, for every
// command, lands in the class its meaning asks for; the exact numbers of the
// codes devices act on are the tests below.
TEST(StatusMapTest, EveryStatusLandsInTheClassItsMeaningAsksFor) {
  enum class Class { kSuccess, kDeviceSide, kServerSide };
  const auto class_of = [](conflux::StatusCode code) {
    switch (code) {
      case conflux::StatusCode::kOk: return Class::kSuccess;
      case conflux::StatusCode::kInvalidArgument:
      case conflux::StatusCode::kNotFound:
      case conflux::StatusCode::kAlreadyExists:
      case conflux::StatusCode::kPermissionDenied:
      case conflux::StatusCode::kUnauthenticated:
      case conflux::StatusCode::kResourceExhausted:  // the device's data does not fit: 420
      case conflux::StatusCode::kUnimplemented:      // it asked for what we do not do: 406
        return Class::kDeviceSide;
      case conflux::StatusCode::kFailedPrecondition:
      case conflux::StatusCode::kAborted:
      case conflux::StatusCode::kUnavailable:
      case conflux::StatusCode::kInternal: return Class::kServerSide;
    }
    return Class::kServerSide;
  };
  for (int i = 0; i <= static_cast<int>(conflux::StatusCode::kInternal); ++i) {
    const auto code = static_cast<conflux::StatusCode>(i);
    const Status status = status_with(code);
    ASSERT_EQ(status.code(), code);
    for (CommandKind kind : {CommandKind::kAlert, CommandKind::kSync, CommandKind::kMap, CommandKind::kAdd,
                             CommandKind::kReplace, CommandKind::kDelete}) {
      const int wire = protocol::to_int(to_syncml_status(status, kind));
      const Class expected = class_of(code);
      // Delete of an item that is not there is 211 "item not deleted": done, nothing to do.
      const bool gone = code == conflux::StatusCode::kNotFound && kind == CommandKind::kDelete;
      const int low = expected == Class::kSuccess || gone ? 200 : expected == Class::kDeviceSide ? 400 : 500;
      EXPECT_GE(wire, low) << status_code_name(code) << " answering " << protocol::command_name(kind);
      EXPECT_LT(wire, low + 100) << status_code_name(code) << " answering " << protocol::command_name(kind);
    }
  }
}

TEST(StatusMapTest, WriteTheAclForbidsIsPermissionDeniedPerItem) {
  // DS 1.2's 425 for every device; a device that needs another code for it
  // gets DeviceQuirks::denied_write_status from the engine, not from here.
  for (CommandKind kind :
       {CommandKind::kAdd, CommandKind::kReplace, CommandKind::kDelete, CommandKind::kCopy, CommandKind::kMove}) {
    EXPECT_TRUE(is_item_write(kind)) << protocol::command_name(kind);
    EXPECT_EQ(to_syncml_status(Status::permission_denied("read-only"), kind), WireCode::kPermissionDenied)
        << protocol::command_name(kind);
  }
  EXPECT_EQ(protocol::to_int(WireCode::kPermissionDenied), 425);
  EXPECT_FALSE(is_item_write(CommandKind::kAlert));
  EXPECT_EQ(to_syncml_status(Status::permission_denied("x"), CommandKind::kAlert), WireCode::kForbidden);
}

TEST(StatusMapTest, AddThatSucceededIsItemAdded) {
  EXPECT_EQ(to_syncml_status(Status::ok(), CommandKind::kAdd), WireCode::kItemAdded);
  EXPECT_EQ(protocol::to_int(to_syncml_status(Status::ok(), CommandKind::kAdd)), 201);
  EXPECT_EQ(to_syncml_status(Status::ok(), CommandKind::kDelete), WireCode::kOk);
}

TEST(StatusMapTest, DeleteOfMissingItemIsItemNotDeleted) {
  EXPECT_EQ(to_syncml_status(Status::not_found("x"), CommandKind::kDelete), WireCode::kItemNotDeleted);
  EXPECT_EQ(protocol::to_int(WireCode::kItemNotDeleted), 211);
  EXPECT_EQ(to_syncml_status(Status::not_found("x"), CommandKind::kAdd), WireCode::kNotFound);
}

TEST(StatusMapTest, FailuresOfAddKeepTheirCode) {
  EXPECT_EQ(to_syncml_status(Status::unavailable("down"), CommandKind::kAdd), WireCode::kServiceUnavailable);
  EXPECT_EQ(protocol::to_int(WireCode::kServiceUnavailable), 503);
  EXPECT_EQ(to_syncml_status(Status::resource_exhausted("quota"), CommandKind::kAdd), WireCode::kDeviceFull);
  EXPECT_EQ(to_syncml_status(Status::unavailable("down"), CommandKind::kDelete), WireCode::kServiceUnavailable);
}

TEST(StatusMapTest, WireNumbersMatchTheSpecification) {
  EXPECT_EQ(protocol::to_int(WireCode::kOk), 200);
  EXPECT_EQ(protocol::to_int(WireCode::kAuthenticationAccepted), 212);
  EXPECT_EQ(protocol::to_int(WireCode::kBadRequest), 400);
  EXPECT_EQ(protocol::to_int(WireCode::kInvalidCredentials), 401);
  EXPECT_EQ(protocol::to_int(WireCode::kForbidden), 403);
  EXPECT_EQ(protocol::to_int(WireCode::kNotFound), 404);
  EXPECT_EQ(protocol::to_int(WireCode::kOptionalFeatureNotSupported), 406);
  EXPECT_EQ(protocol::to_int(WireCode::kMissingCredentials), 407);
  EXPECT_EQ(protocol::to_int(WireCode::kAlreadyExists), 418);
  EXPECT_EQ(protocol::to_int(WireCode::kDeviceFull), 420);
  EXPECT_EQ(protocol::to_int(WireCode::kCommandFailed), 500);
  EXPECT_EQ(protocol::to_int(WireCode::kRefreshRequired), 508);
  EXPECT_EQ(protocol::to_int(WireCode::kDataStoreFailure), 510);
}

}  // namespace
}  // namespace conflux::engine
