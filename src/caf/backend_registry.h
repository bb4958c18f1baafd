// Back End Registry (seed FIG. 6): which adapter kinds exist, and which
// adapter serves each configured datastore. A plain object built in main()
// and passed down; built-ins are added by register_builtin_adapters().
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "caf/conflict_policy.h"
#include "caf/content_adapter.h"
#include "common/status.h"

namespace conflux::caf {

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
  // When the Cache Monitor propagates its queue (cache/triggers.h).
  enum class Trigger : uint8_t { kAmount, kInterval, kCombined };
  Trigger trigger = Trigger::kAmount;
  int64_t amount = 1;                 // queue length that fires kAmount/kCombined; 1 = trickle
  int64_t interval_seconds = 5;       // since the last propagation, for kInterval/kCombined
  int64_t backend_poll_seconds = 10;  // Back End Monitor: lazy poll of the adapter's changes
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
  // Adapter-specific keys of the section, as strings; the adapter's factory
  // validates them and names the bad key in its error.
  std::map<std::string, std::string> options;
  CacheSettings cache;  // not in `options`: the adapter never sees these keys
  // The token kind users get on this datastore unless `conflux user set
  // --access` says otherwise for one of them (`access`). Changes by reload.
  TokenKind access = TokenKind::kReadWrite;
  BackendLogin login = BackendLogin::kService;  // `login`
  std::string service_user;                     // `service_user`, for kService at a back end with own accounts
  std::string service_password_file;            // `service_password_file`: absolute path of a file holding its password
};

// What every adapter may use when it is created.
struct AdapterEnv {
  std::string data_dir;  // Conflux's data directory (absolute)
};

// Makes adapters of one kind. validate() runs before anything starts, so a bad
// section stops the server with one line naming the key.
class AdapterFactory {
 public:
  virtual ~AdapterFactory() = default;
  virtual std::string kind() const = 0;
  virtual Status validate(const StoreSettings& settings) const = 0;
  virtual Result<std::shared_ptr<ContentAdapter>> create(const StoreSettings& settings, const AdapterEnv& env) = 0;
  // `conflux doctor`: problems of a valid section that can be seen without
  // changing anything, before create() (which may make what is missing, as
  // the vdir adapter makes its root). One Status per problem, each naming
  // the key at fault and saying what to do; empty when none is found.
  // Reachability and logins are checked on the created adapter instead.
  virtual std::vector<Status> check(const StoreSettings& settings, const AdapterEnv& env) const { return {}; }
};

class BackendRegistry {
 public:
  // kAlreadyExists when a factory of that kind is already registered.
  Status add_factory(std::unique_ptr<AdapterFactory> factory);

  // Validates the settings with the factory of their kind and creates the
  // adapter. kInvalidArgument for an unknown kind or a bad section;
  // kAlreadyExists for a datastore name used twice.
  Status add_store(const StoreSettings& settings, const AdapterEnv& env);

  // The factory's check() of a valid section (see AdapterFactory::check);
  // the validation error alone when it is not valid.
  std::vector<Status> check_store(const StoreSettings& settings, const AdapterEnv& env) const;
  // Validation alone, for config checks before start.
  Status validate_store(const StoreSettings& settings) const;

  // Replaces the adapter of datastore `name` by wrap(current adapter), e.g.
  // a cache in front of it. kNotFound for an unknown name; the error of
  // `wrap` as it returned it. Call before the registry is shared.
  using AdapterWrap = std::function<Result<std::shared_ptr<ContentAdapter>>(std::shared_ptr<ContentAdapter>)>;
  Status wrap_store(const std::string& name, const AdapterWrap& wrap);

  // nullptr when no datastore of that name is configured.
  ContentAdapter* adapter_for(const std::string& database) const;
  const StoreSettings* settings_for(const std::string& database) const;
  std::vector<StoreSettings> stores() const;
  std::vector<std::string> kinds() const;

 private:
  struct Entry {
    StoreSettings settings;
    std::shared_ptr<ContentAdapter> adapter;
  };
  std::map<std::string, std::unique_ptr<AdapterFactory>> factories_;
  std::map<std::string, Entry> stores_;
};

}  // namespace conflux::caf
