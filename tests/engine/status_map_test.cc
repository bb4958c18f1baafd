// engine/status_map.cc: the one place a Conflux Status becomes a SyncML code
// (SYNCML-REFERENCE §5).
#include "engine/status_map.h"

#include <gtest/gtest.h>

namespace conflux::engine {
namespace {

using protocol::CommandKind;
using WireCode = protocol::StatusCode;

TEST(StatusMapTest, EveryStatusCodeHasAWireCode) {
  const struct {
    Status status;
    WireCode wire;
  } cases[] = {
      {Status::ok(), WireCode::kOk},
      {Status::invalid_argument("x"), WireCode::kBadRequest},
      {Status::not_found("x"), WireCode::kNotFound},
      {Status::already_exists("x"), WireCode::kAlreadyExists},
      {Status::permission_denied("x"), WireCode::kForbidden},
      {Status::unauthenticated("x"), WireCode::kInvalidCredentials},
      {Status::resource_exhausted("x"), WireCode::kDeviceFull},
      {Status::failed_precondition("x"), WireCode::kDataStoreFailure},
      {Status::aborted("x"), WireCode::kDataStoreFailure},
      {Status::unavailable("x"), WireCode::kServiceUnavailable},
      {Status::unimplemented("x"), WireCode::kOptionalFeatureNotSupported},
      {Status::internal("x"), WireCode::kCommandFailed},
  };
  for (const auto& c : cases) {
    for (CommandKind kind : {CommandKind::kAlert, CommandKind::kSync, CommandKind::kMap}) {
      EXPECT_EQ(to_syncml_status(c.status, kind), c.wire)
          << c.status.to_string() << " answering " << protocol::command_name(kind);
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
