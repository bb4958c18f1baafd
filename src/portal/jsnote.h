// Conflux's own "Note" object for the portal's notes datastores — JMAP has no
// standard type for memos: {"@type": "Note", "title": ..., "body": ...}.
//
// Stored as the datastore's format says (data/note.h): text/plain has no
// title of its own, so the first line of the text is the title and the rest
// the body (as phones show a memo); text/x-vnote has SUMMARY and BODY;
// text/calendar a VJOURNAL's SUMMARY and DESCRIPTION. Going back keeps what
// the note had beyond title and body (vNote CATEGORIES, X-..., VJOURNAL
// properties).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "portal/jscontact.h"

namespace conflux::portal {

// The Note for stored bytes of `content_type`; nullopt when they are not a note.
std::optional<nlohmann::json> note_from_stored(const std::string& raw, const std::string& content_type,
                                               const std::string& content_version);

// The stored bytes for `note`, over `base` (the stored item on an update,
// empty on a create). Every problem is listed in `invalid_r`.
std::optional<std::string> stored_from_note(const nlohmann::json& note, const std::string& base,
                                            const std::string& content_type, const std::string& content_version,
                                            std::vector<InvalidProperty>& invalid_r);

}  // namespace conflux::portal
