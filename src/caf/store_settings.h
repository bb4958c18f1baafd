// A configured datastore's settings ("[stores.<name>]" in the config file),
// read and checked once by config/ and passed down: the Back End Registry
// picks the adapter by them, the engine its conflict policy and deletion
// rule, the cache layer its CacheSettings, the CAF the token kind and the
// back-end login. Plain values; no behaviour beyond naming.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "caf/conflict_policy.h"
#include "caf/content_adapter.h"
#include "caf/store_options.h"

namespace conflux::caf {

// When the Cache Monitor propagates its queue (cache/triggers.h: the seed's
// Amount, Interval and Combined Triggers); `cache_trigger`.
enum class CacheTrigger : uint8_t { kAmount, kInterval, kCombined };

// The persistent cache in front of a datastore's adapter (src/cache/): the
// [stores.<name>] keys cache, cache_trigger, cache_amount,
// cache_interval_seconds, cache_stuck_after_attempts,
// cache_tombstone_max_age_seconds, backend_poll_seconds and backend_monitor.
// Read by the cache layer, never passed to the adapter's factory.
struct CacheSettings {
  // Off: calls go straight to the adapter. On: devices read and write the
  // cache; the Cache Monitor replicates to the adapter (retrying while it is
  // down) and the Back End Monitor brings in changes made by others.
  bool enabled = false;
  CacheTrigger trigger = CacheTrigger::kAmount;  // `cache_trigger`
  int64_t amount = 1;                            // queue length that fires kAmount/kCombined; 1 = trickle
  int64_t interval_seconds = 5;                  // since the last propagation, for kInterval/kCombined
  int64_t backend_poll_seconds = 10;             // Back End Monitor: lazy poll of the adapter's changes
  // Push: the adapter also reports changes by others as they happen
  // (kCapChangeNotify; vdir: inotify), the poll stays as a safety net.
  enum class BackendMonitor : uint8_t { kPoll, kPush };
  BackendMonitor backend_monitor = BackendMonitor::kPoll;
  // A change the back end refuses this often (not merely "down") is marked
  // stuck for an administrator (`conflux cache stuck`).
  int64_t stuck_after_attempts = 8;
  // Deleted items are kept until every device synced past them, or this long.
  int64_t tombstone_max_age_seconds = 30 * 86400;
};

// How the CAF logs in to a datastore's back end (the ACL mode, `login` in
// [stores.<name>]).
enum class BackendLogin : uint8_t {
  // One service account for every user: Conflux checks the user against its
  // own accounts; a back end with accounts of its own (kCapOwnAccounts) must
  // accept `service_user` with the password in `service_password_file`.
  kService,
  // Each user with their own credentials, checked by the back end (which
  // must have kCapOwnAccounts); Conflux's own accounts do not matter there.
  kPerUser,
};

const char* backend_login_name(BackendLogin login);

// When one sync's deletions are held until the user confirms them
// (engine/deletion_guard.h): more than `min_items` of the store and more than
// `percent` of it. Lower values hold more often; 0 and 0 hold every deletion.
struct MassDeletionRule {
  int min_items = 50;  // `mass_delete_min_items`
  int percent = 33;    // `mass_delete_percent`: "more than a third"
};

// One configured datastore ("[stores.contacts]" in the config file).
struct StoreSettings {
  std::string name;             // datastore URI the devices use: "contacts"
  std::string adapter;          // adapter kind: "sqlite"
  std::string content_type;     // canonical storage format: "text/vcard"
  std::string content_version;  // "3.0"
  // What the sync engine does when a device and the server both changed an
  // item (caf/conflict_policy.h); parsed once, when the config is read.
  ConflictPolicy conflict_policy = ConflictPolicy::kMerge;
  MassDeletionRule mass_delete;
  // Days every version of every item is kept (caf/item_history.h), so the
  // store can be restored to any moment within them; 0 keeps no history.
  // Costs space (docs/PERFORMANCE.md) and a little CPU per write.
  int history_days = 30;
  // At most this many versions of one item are kept, however young
  // (`history_versions`); 0: no limit but the age. A restore to a moment
  // before the oldest version kept of an item is refused.
  int history_versions = 100;
  // Adapter-specific keys of the section, in their TOML types; the adapter's
  // factory checks them against its keys (caf/store_options.h).
  StoreOptions options;
  CacheSettings cache;  // not in `options`: the adapter never sees these keys
  // The token kind users get on this datastore unless `conflux user set
  // --access` says otherwise for one of them (`access`). Changes by reload.
  TokenKind access = TokenKind::kReadWrite;
  BackendLogin login = BackendLogin::kService;  // `login`
  std::string service_user;                     // `service_user`, for kService at a back end with own accounts
  std::string service_password_file;            // `service_password_file`: absolute path of a file holding its password
};

}  // namespace conflux::caf
