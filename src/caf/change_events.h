// ChangeEvents: the CAF's change notification to its consumers (MISSION §6:
// notifications are the CAF's third consumer, after the sync engine and the
// portal). Whoever changes a datastore through the CAF publishes one event
// per batch: the Content Manager for a device's sync or a portal write
// (ContentManager::apply), the Back End Monitor for changes others made in
// the back end (BackendMonitor::poll_once). Consumers (src/notify/) subscribe
// once at start and never talk to back ends themselves.
//
// Threading: subscribe() before the first publish(); publish() from any
// thread, calls every listener on the publishing thread, so a listener must
// be quick (record and return) and must not throw.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "caf/sync_obj.h"
#include "common/ids.h"

namespace conflux::caf {

enum class ChangeSource : uint8_t {
  kDevice,   // a device's sync through the engine
  kPortal,   // a CAF call that names no device
  kBackend,  // another program changed the back end; the Back End Monitor found it
};
const char* change_source_name(ChangeSource source);

struct ChangedItem {
  Action action = Action::kUpdate;
  Guid guid;  // the item's id as the CAF's callers see it
};

struct ChangeEvent {
  UserId user;
  std::string database;  // datastore name as configured
  ChangeSource source = ChangeSource::kBackend;
  DeviceId device;                 // kDevice: the device that made the change
  std::vector<ChangedItem> items;  // never empty
};

class ChangeEvents {
 public:
  using Listener = std::function<void(const ChangeEvent&)>;

  void subscribe(Listener listener) { listeners_.push_back(std::move(listener)); }
  // Nothing happens for an event without items.
  void publish(const ChangeEvent& event) const {
    if (event.items.empty()) return;
    for (const auto& listener : listeners_) listener(event);
  }

 private:
  std::vector<Listener> listeners_;  // filled before the first publish, read-only after
};

}  // namespace conflux::caf
