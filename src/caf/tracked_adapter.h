// What every adapter built on a RevisionTracker (vdir, caldav, plugin)
// forwards to it, written once: a batch through the tracker with the items
// the back end cannot hold failed alone, and the execute() commands the
// tracker answers. The adapter keeps its own scope checks and errors.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "caf/content_adapter.h"
#include "caf/revision_tracker.h"

namespace conflux::caf {

// Applies `batch` through `tracker`. An item for which `refuse` returns a
// non-OK Status (an item of a type the back end cannot hold) fails alone
// with it and never reaches the tracker; `refuse` may be empty. Every
// failure gets `adapter` + " apply" as context; the first is logged on
// logger("adapter." + adapter).
std::vector<ApplyResult> apply_tracked(RevisionTracker& tracker, const StoreRef& store, std::vector<SyncObj>&& batch,
                                       const std::function<Status(const SyncObj&)>& refuse, const std::string& adapter);

// The commands a tracked adapter answers through its tracker: "count" (live
// items) and "rescan" (lists the back end now; the output is the number of
// changes by others). nullopt for any other command: the adapter's own.
std::optional<Result<ExecResult>> tracked_command(RevisionTracker& tracker, const StoreRef& store,
                                                  const Command& command, const std::string& adapter);

}  // namespace conflux::caf
