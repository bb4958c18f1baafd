// System preferences (seed: "components register for the settings they
// use"): the running Config snapshot, and the components that follow parts of
// it. A reload validates a whole new snapshot and hands it to the components
// whose keys changed; keys no component follows live need a restart, and the
// log says so.
//
// Call order: on_change()/add_check() while the server starts, then reload()
// any number of times (SIGHUP, `conflux reload`). reload():
//   1. a candidate that failed to load (syntax, unknown key, bad value) is
//      refused: error logged, the old settings stay in force;
//   2. every check (add_check, and the `check` of each subscriber whose keys
//      changed) must pass, else the same;
//   3. each such subscriber's `apply` gets the new snapshot; subscribers
//      with no keys get every accepted reload (components with settings in
//      files of their own, such as device quirks);
//   4. changed keys that no subscriber follows are logged as "needs a
//      restart"; the snapshot becomes current() either way, so the warning
//      is given once per change.
//
// Threading: current() from any thread. on_change, add_check and reload from
// one thread (the server's main thread); apply callbacks run on it and must
// make their own state safe for the threads that read it.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "config/config.h"

namespace conflux::config {

class Preferences {
 public:
  struct Subscriber {
    std::string name;  // for the log: "engine", "caf", "cache"
    // Key patterns this component reads live: "log.level",
    // "stores.*.conflict_policy" ('*' stands for one segment; a pattern also
    // covers every key below it). Empty: called on every accepted reload.
    std::vector<std::string> keys;
    std::function<Status(const Config&)> check;  // optional: may refuse the whole reload
    std::function<void(const Config&)> apply;
  };

  // What a reload did, for the caller and tests.
  struct ReloadReport {
    Status status;                           // not OK: refused, old settings kept
    std::vector<std::string> changed;        // key paths that differ
    std::vector<std::string> applied_by;     // names of subscribers called
    std::vector<std::string> needs_restart;  // changed keys no subscriber follows
  };

  explicit Preferences(Config initial);

  std::shared_ptr<const Config> current() const;
  void on_change(Subscriber subscriber);
  // Runs on every reload, whatever changed (e.g. adapter sections through
  // the Back End Registry's validation).
  void add_check(std::string name, std::function<Status(const Config&)> check);

  ReloadReport reload(Result<Config> candidate);

  // Does `pattern` cover the key path `key`?
  static bool covers(const std::string& pattern, const std::string& key);

 private:
  bool follows(const Subscriber& subscriber, const std::vector<std::string>& changed) const;

  std::vector<Subscriber> subscribers_;
  std::vector<std::pair<std::string, std::function<Status(const Config&)>>> checks_;

  mutable std::mutex mutex_;
  std::shared_ptr<const Config> current_;  // guarded by mutex_
};

}  // namespace conflux::config
