// JSContact (RFC 9553) Card objects converted from and to vCard as RFC 9555
// describes, for the subset the data layer models and the portal shows:
// name (FN and the N components), phones (TEL), emails (EMAIL), addresses
// (ADR), organizations (ORG), titles (TITLE), notes (NOTE), the birthday
// (BDAY as an anniversary of kind "birth") and uid (UID).
//
// Going back to vCard never drops what the subset does not cover: to_vcard
// starts from the stored card, replaces the properties of the subset and
// keeps every other property (PHOTO, X-..., groups) as it was.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "data/vcard.h"

namespace conflux::portal {

// The Card for `card` (without the JMAP properties id/addressBookIds).
nlohmann::json card_from_vcard(const data::VCard& card);

// A property of a Card the client sent that is not acceptable: `path` names
// it as JMAP's invalidProperties wants ("phones/p1/number").
struct InvalidProperty {
  std::string path;
  std::string why;
};

// The vCard for `card`, over `base` (the stored card on an update, empty on
// a create). Every problem is listed in `invalid_r` (nothing is returned
// then). Properties JMAP sets itself (id, addressBookIds) and unknown
// vendor properties ("example.com:foo") are ignored; other unknown
// properties are invalid.
std::optional<data::VCard> vcard_from_card(const nlohmann::json& card, const data::VCard& base,
                                           std::vector<InvalidProperty>& invalid_r);

}  // namespace conflux::portal
