// The portal's JSON API, following JMAP's conventions (RFC 8620) — "JMAP-style":
// it is not checked against an independent JMAP client.
//
//   session(token)      the session resource (GET /.well-known/jmap): one
//                       account per datastore the token grants, contacts
//                       (ContactCard, JSContact RFC 9553), calendars and
//                       task lists (CalendarEvent and Task, JSCalendar RFC
//                       8984: a text/calendar datastore holds both) or
//                       notes (Note, Conflux's own {title, body});
//   api(token, body)    one POST to apiUrl: `using` + batched `methodCalls`,
//                       back-references (#arg + resultOf, RFC 8620 §3.7),
//                       creation ids (#cid) within the request.
//
// Every read and write goes through the CafInterface with a StoreRef of the
// token's user, so per-user isolation and the datastore's access (read-only
// tokens write nothing) are the CAF's: another user's ids are simply not in
// the caller's stores (notFound), a refused write is SetError "forbidden".
//
// State strings are the CAF's anchors: Foo/get's `state` is the datastore's
// current_anchor, Foo/changes asks changes_since(sinceState); an anchor the
// back end no longer knows (or more changes than maxChanges) gives
// cannotCalculateChanges, and the client fetches everything again.
//
// Foo/queryChanges is answered cannotCalculateChanges (RFC 8620 §5.6 allows
// it): the client runs Foo/query again.
//
// Ids: an item's id is base64url(datastore "\n" guid), so an id names its
// account; ids of another account (or user) are notFound. Conflux extension:
// Foo/query and Foo/get without `accountId` cover every account of the user
// that holds the type (the portal page's search across back ends); each
// object then says its account in "conflux:accountId".
//
// What the sync engine recorded for the user (capability
// "urn:conflux:params:jmap:sync", Conflux's own): Conflict/get and
// Conflict/set (keep one version: engine::settle_conflict, the path of
// `conflux conflicts resolve`), SyncSession/get (the last sessions' reports
// with their problems) and Device/get (the devices seen in them).
//
// The user's own webhook subscriptions (capability
// "urn:conflux:params:jmap:webhooks", Conflux's own): WebhookSubscription/get
// and WebhookSubscription/set (create, destroy). A subscription covers some
// of the token's accounts; its secret is made by the server and returned
// once, in `created`. A user sees and destroys only their own.
//
// Threading: api() and session() may run on any number of threads at once.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "caf/caf_interface.h"
#include "common/clock.h"
#include "engine/sync_state_store.h"
#include "notify/subscriptions.h"

namespace conflux::portal {

// A configured datastore as the portal needs to know it.
struct PortalStore {
  std::string name;             // datastore URI: "contacts"
  std::string content_type;     // storage format: "text/vcard", "text/calendar"
  std::string content_version;  // "3.0", "2.1", "2.0"
};

struct JmapLimits {
  size_t max_size_request = 8 * 1024 * 1024;
  size_t max_calls_in_request = 32;
  size_t max_objects_in_get = 1000;
  size_t max_objects_in_set = 500;
};

// The users' webhook subscriptions, for WebhookSubscription/get and /set.
struct JmapWebhooks {
  notify::SubscriptionStore* store = nullptr;  // null: the methods answer unknownMethod
  // Whether a subscription may send to a URL (the SSRF guard); a refusal's
  // message is shown to the user.
  std::function<Status(const std::string& url)> check_url;
  const Clock* clock = nullptr;
};

struct JmapReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

class JmapApi {
 public:
  // `caf` and `records` must outlive the API.
  JmapApi(caf::CafInterface& caf, engine::SyncStateStore& records, std::vector<PortalStore> stores, JmapLimits limits,
          JmapWebhooks webhooks = {});

  // The session object; URLs start with `base_url` ("http://host:port").
  nlohmann::json session(const caf::Token& token, const std::string& base_url) const;

  // One API request (RFC 8620 §3.3). Request-level problems (notJSON,
  // notRequest, unknownCapability, limit) are 400 problem details (RFC 7807);
  // everything else is 200 with methodResponses.
  JmapReply api(const caf::Token& token, const std::string& content_type, const std::string& body);

  // The account ids (one per datastore) and their current states per type
  // name, for push (StateChange). Datastores the token does not grant are
  // left out; a store whose anchor cannot be read is left out too.
  nlohmann::json states(const caf::Token& token);

  // The datastore an account id stands for; empty when none.
  std::string store_of_account(const std::string& account_id) const;
  static std::string account_id(const std::string& store);

  struct Item;
  struct Call;
  // What a datastore holds (by its content type), and the object types of
  // the API; a calendar datastore holds events and tasks.
  enum class Kind { kContacts, kCalendars, kNotes };
  enum class Type { kContact, kEvent, kTask, kNote };

 private:
  struct Account {
    std::string id;
    const PortalStore* store;
    Kind kind;
  };

  std::vector<Account> accounts_for(const caf::Token& token) const;
  std::optional<Account> account(const caf::Token& token, const std::string& id) const;

  nlohmann::json run_method(Call& call);
  // The accounts of the call's `accountId`, or all that hold `type` when
  // none is given (all_accounts_r); accountNotFound otherwise.
  std::vector<Account> scope(Call& call, Type type, bool& all_accounts_r) const;
  Account one_account(Call& call, Type type) const;
  nlohmann::json get(Call& call, Type type);
  nlohmann::json changes(Call& call, Type type);
  nlohmann::json set(Call& call, Type type);
  nlohmann::json query(Call& call, Type type);
  nlohmann::json collections(Call& call, Type type);
  // The sync engine's records (urn:conflux:params:jmap:sync).
  nlohmann::json conflicts_get(Call& call);
  nlohmann::json conflicts_set(Call& call);
  nlohmann::json sessions_get(Call& call);
  nlohmann::json devices_get(Call& call);
  // The user's webhook subscriptions (urn:conflux:params:jmap:webhooks).
  nlohmann::json subscriptions_get(Call& call);
  nlohmann::json subscriptions_set(Call& call);
  nlohmann::json version_json(const std::string& database, const std::string& content_type,
                              const std::string& raw) const;

  caf::StoreRef store_ref(const caf::Token& token, const PortalStore& store) const;
  // Every item of `account` that is a `type` (converted), or only `guids`.
  Result<std::vector<Item>> read_items(const caf::Token& token, const Account& account, Type type,
                                       const std::vector<Guid>& guids, bool with_raw);

  caf::CafInterface& caf_;
  engine::SyncStateStore& records_;
  const std::vector<PortalStore> stores_;
  const JmapLimits limits_;
  const JmapWebhooks webhooks_;
};

}  // namespace conflux::portal
