// SyncML status codes (RepPro §"Response status codes"), as values. Only the
// engine (engine/status_map.cc) chooses them; nothing below it knows them.
#pragma once

#include <cstdint>

namespace conflux::protocol {

enum class StatusCode : uint16_t {
  kInProgress = 101,
  kOk = 200,
  kItemAdded = 201,
  kAccepted = 202,
  kNoContent = 204,
  kConflictMerged = 207,
  kConflictClientWon = 208,
  kConflictDuplicated = 209,
  kDeleteWithoutArchive = 210,
  kItemNotDeleted = 211,
  kAuthenticationAccepted = 212,
  kChunkAccepted = 213,
  kOperationCancelled = 214,
  kNotExecuted = 215,
  kAtomicRollbackOk = 216,
  kBadRequest = 400,
  kInvalidCredentials = 401,
  kForbidden = 403,
  kNotFound = 404,
  kCommandNotAllowed = 405,
  kOptionalFeatureNotSupported = 406,
  kMissingCredentials = 407,
  kRequestTimeout = 408,
  kConflict = 409,
  kGone = 410,
  kSizeRequired = 411,
  kIncompleteCommand = 412,
  kRequestEntityTooLarge = 413,
  kUnsupportedMediaType = 415,
  kRequestedSizeTooBig = 416,
  kRetryLater = 417,
  kAlreadyExists = 418,
  kConflictServerWon = 419,
  kDeviceFull = 420,
  kSizeMismatch = 424,
  kPermissionDenied = 425,  // DS 1.2: the ACL forbids this operation
  kMoveFailed = 428,
  kCommandFailed = 500,
  kNotImplemented = 501,
  kServiceUnavailable = 503,
  kDtdVersionNotSupported = 505,
  kProcessingError = 506,
  kAtomicFailed = 507,
  kRefreshRequired = 508,
  kDataStoreFailure = 510,
  kServerFailure = 511,
  kSyncFailed = 512,
  kProtocolVersionNotSupported = 513,
  kCancelledBefore = 514,  // not run: the operation (a Sequence) was cancelled before it
  kAtomicRollbackFailed = 516,
};

inline int to_int(StatusCode code) { return static_cast<int>(code); }

// Alert codes (RepPro/SyncProt "Alert types").
enum class AlertCode : uint16_t {
  kDisplay = 100,
  kTwoWay = 200,
  kSlow = 201,
  kOneWayFromClient = 202,
  kRefreshFromClient = 203,
  kOneWayFromServer = 204,
  kRefreshFromServer = 205,
  kTwoWayByServer = 206,
  kOneWayFromClientByServer = 207,
  kRefreshFromClientByServer = 208,
  kOneWayFromServerByServer = 209,
  kRefreshFromServerByServer = 210,
  kResultAlert = 221,
  kNextMessage = 222,
  kNoEndOfData = 223,
  kSuspend = 224,
  kResume = 225,
};

inline int to_int(AlertCode code) { return static_cast<int>(code); }

}  // namespace conflux::protocol
