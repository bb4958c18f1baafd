// The CAF seam: one back-end-neutral interface (seed FIG. 5, "CAF interface 22")
// and the back-end-dependent adapters behind it.
//
// Call order for one sync of one datastore (as the engine uses it):
//   1. ContentManager::authenticate(credentials)      -> Token   (once per session)
//   2. current_anchor(store)                          -> server's Next anchor
//   3. changes_since(store, last_anchor)              -> what the device lacks
//   4. apply(store, batch)                            -> one ApplyResult per item
//   5. search / execute as needed.
// Threading: an adapter may be called from several worker threads at once; each
// implementation documents how it serialises its own state. Nothing here
// throws: failures are Status values. kUnavailable means "back end down, try
// later"; kNotFound means the item or store does not exist.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "caf/sync_obj.h"
#include "common/ids.h"
#include "common/status.h"

namespace conflux::caf {

// What a token lets its holder do (seed: "read-only access, read/write access,
// or unrestricted read access, but write must be authenticated each time").
// kUnrestrictedRead reads like kReadWrite; each write must carry credentials
// (StoreRef::credentials) that the back end accepts again at that moment.
enum class TokenKind : uint8_t { kReadOnly, kReadWrite, kUnrestrictedRead };

const char* token_kind_name(TokenKind kind);
// "read-only", "read-write", "unrestricted-read" (the config and CLI spelling).
std::optional<TokenKind> parse_token_kind(std::string_view name);
// The kind that allows less: read-only < unrestricted-read < read-write.
TokenKind narrower(TokenKind a, TokenKind b);

// An opaque, signed, expiring proof that the CAF checked a user's
// credentials. `value` is what callers carry; the rest is its decoded content.
struct Token {
  // Key of `grants` that stands for every datastore not named.
  static constexpr const char* kEveryStore = "*";

  std::string value;
  UserId user;
  // What the holder may do per datastore; a datastore absent (and no
  // kEveryStore entry) may not be touched at all.
  std::map<std::string, TokenKind> grants;

  std::optional<TokenKind> kind_for(const std::string& database) const {
    auto it = grants.find(database);
    if (it == grants.end()) it = grants.find(kEveryStore);
    if (it == grants.end()) return std::nullopt;
    return it->second;
  }
};

// How a client proved who it is.
enum class CredentialScheme : uint8_t {
  kPassword,   // `secret` is the password (syncml:auth-basic)
  kMd5Digest,  // `secret` is B64(MD5(B64(MD5(user:password)) ":" nonce)) (syncml:auth-md5)
  kApiToken,   // `secret` is a program's API token (`conflux token create`); `user` is the token's
};

// A user's credentials as a client presented them. `secret` is never logged.
struct Credentials {
  UserId user;
  std::string secret;
  CredentialScheme scheme = CredentialScheme::kPassword;
  std::string nonce;  // kMd5Digest: the nonce bytes the digest was made with

  static Credentials with_password(UserId user, std::string password) {
    return Credentials{std::move(user), std::move(password), CredentialScheme::kPassword, {}};
  }
  // The user is the one the token was made for: the CAF fills it in.
  static Credentials with_api_token(std::string token) {
    return Credentials{UserId(""), std::move(token), CredentialScheme::kApiToken, {}};
  }
};

// Which store a call is about, and on whose behalf. Every CAF call carries one;
// the ContentManager refuses a call whose token does not belong to `user`.
struct StoreRef {
  UserId user;
  std::string database;  // datastore URI as configured ("contacts")
  Token token;
  // The credentials of the message this call serves, when it carried any
  // (seed: "the engine may also pass credentials with each call"). A write
  // with an unrestricted-read token needs them. Never logged.
  std::optional<Credentials> credentials = std::nullopt;
  // Who writes, for the item history (caf/item_history.h): "device IMEI:1",
  // "conflux restore" …, and the sync session or restore it belongs to.
  std::string origin = {};
  std::string session = {};
  // The device whose sync makes this call; empty for other callers (the
  // portal). Change events name it, so a device is not alerted of its own change.
  DeviceId device = {};
};

// Expected outcomes of applying one change; not errors (cf. SyncEvolution's
// InsertItemResultState).
enum class ApplyOutcome : uint8_t {
  kCreated,
  kUpdated,
  kDeleted,
  kAlreadyDeleted,  // delete of an item that was not there
};

struct ApplyResult {
  Status status;  // non-OK: this item failed, the others may not have
  ApplyOutcome outcome = ApplyOutcome::kCreated;
  Guid guid;      // the item's id after the change
  Anchor anchor;  // revision written (a delete's tombstone; empty for kAlreadyDeleted)
};

struct ChangeSet {
  std::vector<SyncObj> changes;  // creates/updates carry raw; deletes carry only the guid
  Anchor anchor;                 // the back end's anchor as of this read
};

// A read request. Empty `guids` and empty `contains` means every live item.
struct Query {
  std::vector<Guid> guids;
  std::string contains;  // substring of the raw bytes
  size_t limit = 0;      // 0 = no limit
  // Only guid, anchor and content type; raw stays empty. Lists a store cheaply
  // (the engine compares every item's revision with a device's map).
  bool metadata_only = false;
};

// An administrative operation run by the back end (seed: "execute").
struct Command {
  std::string name;
  std::map<std::string, std::string> args;
};

struct ExecResult {
  std::string output;
};

// Capabilities are data (Dovecot's class_flags): the core reads bits, it never
// asks which back end it talks to.
enum AdapterCap : uint32_t {
  kCapNone = 0,
  kCapOwnAccounts = 1u << 0,  // the back end verifies user credentials itself
  kCapTombstones = 1u << 1,   // changes_since reports deletes
  kCapSearch = 1u << 2,
  kCapChangeNotify = 1u << 3,  // watch_changes() reports changes by others as they happen
};
using AdapterCaps = uint32_t;

// Told that the store of `user` may have changed in the back end; an empty
// user means any store of the datastore (the adapter lost track, e.g. its
// event queue overflowed). Runs on a thread of the adapter's: it must return
// quickly and must not call the adapter.
using ChangeCallback = std::function<void(const UserId& user)>;

// Notifications flow while this lives; destroying it stops them, and no
// callback runs after the destructor returned.
class ChangeSubscription {
 public:
  virtual ~ChangeSubscription() = default;
};

// The back-end-dependent part of a content adapter.
class ContentAdapter {
 public:
  virtual ~ContentAdapter() = default;

  virtual AdapterCaps caps() const = 0;

  // Verifies credentials at the back end (only called with kCapOwnAccounts):
  // the Back End Manager's validate-credentials hook. kUnauthenticated when
  // the back end says no; kUnavailable when it is down.
  virtual Status verify_credentials(const std::string& database, const Credentials& creds) = 0;

  // Session handling without the cache (seed p. 16): the CAF opens a
  // back-end connection for `user` before the first call of a session and
  // ends it when the pooled connection has been idle long enough
  // (caf/connection_pool.h). `credentials`: the login the CAF uses for this
  // user (the service account or the user's own); may be null when the
  // back end trusts Conflux's accounts. kUnavailable when the back end cannot
  // be reached; kUnauthenticated when it refuses the login. Back ends
  // without connections keep the defaults.
  virtual Status begin_connect(const UserId& user, const Credentials* credentials) { return Status::ok(); }
  virtual void end_connect(const UserId& user) {}

  // The back end's anchor now. Never fails for a reachable back end, even when
  // the user has no items yet.
  virtual Result<Anchor> current_anchor(const StoreRef& store) = 0;

  // Every change after `since` (empty `since`: every live item, no deletes),
  // oldest first, one entry per item (its latest state).
  virtual Result<ChangeSet> changes_since(const StoreRef& store, const Anchor& since) = 0;

  // Applies a batch in one back-end transaction where the back end has them.
  // Returns exactly one result per input, in order. Creates get a new Guid;
  // an update of an unknown Guid fails that item with kNotFound; a delete of
  // an unknown or already deleted Guid is OK with outcome kAlreadyDeleted.
  virtual std::vector<ApplyResult> apply(const StoreRef& store, std::vector<SyncObj>&& batch) = 0;

  virtual Result<std::vector<SyncObj>> search(const StoreRef& store, const Query& query) = 0;

  // kUnimplemented for commands the back end does not know.
  virtual Result<ExecResult> execute(const StoreRef& store, const Command& command) = 0;

  // Only with kCapChangeNotify: calls `on_change` whenever a store of
  // `database` may have been changed by someone else, until the
  // subscription is destroyed. Notifications are hints ("look again"), may
  // come for our own writes too, and may be coalesced. kUnavailable when
  // the back end cannot watch now; without the capability kUnimplemented.
  virtual Result<std::unique_ptr<ChangeSubscription>> watch_changes(const std::string& database,
                                                                    ChangeCallback on_change) {
    return Status::unimplemented("this back end does not report changes");
  }
};

}  // namespace conflux::caf
