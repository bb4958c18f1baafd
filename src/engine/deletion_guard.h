// The mass-deletion guard (issue #12, item 3). A phone reset that
// refresh-syncs an empty address book, or a client bug that deletes
// everything, must not wipe a store silently. So a device's deletions are
// collected while its changes arrive and settled when they are all in (the
// end of pkg 3, before the server's changes are worked out):
//  - few enough (the store's caf::MassDeletionRule): applied as usual;
//  - more: accepted from the device (it dropped the items already, so its
//    map rows go) but HELD: the items stay in the back end, so no other
//    device and no back end sees the deletions, and the device itself is not
//    sent them back while they are held. `conflux held confirm` applies them
//    (every other device gets them at its next sync); `conflux held discard`
//    forgets them, so the device gets the items back at its next sync.
// A refresh from client that would delete as many items the device did not
// send is held the same way. Deletions inside an Atomic are never held: the
// Atomic must be able to undo them (engine/command_groups.cc).
// The other way: when the server would send a device deletions of a mass of
// the items it holds (a back end emptied by another program, many small
// deletions while the device was away), they are held for that device
// (HeldKind::kToDevice): not sent, the device keeps the items. `confirm`
// lets them through; `discard` makes the device's next sync slow, so it
// sends the items back to the server. Deletions the user approved
// (`conflux held confirm`, `conflux restore`) are recorded as
// HeldKind::kConfirmed and reach every device without a second question.
#pragma once

#include <cstddef>

#include "caf/store_settings.h"

namespace conflux::engine {

// True when deleting `deletes` of a store holding `store_size` items needs
// the user's confirmation: more than rule.min_items and more than
// rule.percent of the store.
bool is_mass_deletion(size_t deletes, size_t store_size, const caf::MassDeletionRule& rule);

}  // namespace conflux::engine
