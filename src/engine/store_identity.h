// Which back end a datastore's anchors and ID maps point into (issue #12,
// item 4). A device's map holds the GUIDs of one back end; when the datastore
// is moved to another (sqlite -> vdir) or to another location, those GUIDs
// name nothing, and a normal sync would read every mapped item as deleted on
// the server and delete it on the device. So the identity is saved with the
// anchors; a sync whose stored identity differs from the configured one
// forgets that device's map and becomes a slow sync, which matches items by
// content (engine::DuplicateMatcher) and deletes nothing.
//
// Thread rule: pure functions; any thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "caf/store_settings.h"
#include "engine/sync_state_store.h"

namespace conflux::engine {

// "<adapter kind>" followed by the section's adapter options in key order
// ("vdir root=/srv/dav"); options whose name says they hold a secret
// (password, secret, token) are left out. The cache settings are not part of
// it: the cache stands in front of the same back end.
std::string store_identity(const caf::StoreSettings& settings);

// The identity of datastore `database` among `stores`; empty when it is not
// configured.
std::string store_identity_of(const std::vector<caf::StoreSettings>& stores, const std::string& database);

// True when `stored` anchors were saved against a back end other than
// `current`. Anchors saved before identities were kept (empty) adopt the
// current one: they are not a move.
bool store_moved(const std::optional<SyncAnchors>& stored, const std::string& current);

}  // namespace conflux::engine
