// Contact: a DataObject holding one vCard.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "data/data_object.h"
#include "data/vcard.h"

namespace conflux::data {

class Contact final : public DataObject {
 public:
  explicit Contact(VCard&& card) : card_(std::move(card)) {}
  // A contact read from another format than vCard (SIF-C, data/sif.h):
  // source_format() names it.
  Contact(VCard&& card, Format source) : card_(std::move(card)), other_source_(std::move(source)) {}

  // Exactly one vCard of any version; kInvalidArgument otherwise.
  static Result<std::unique_ptr<Contact>> parse(std::string_view bytes);

  DataKind kind() const override { return DataKind::kContact; }
  Format source_format() const override;
  std::vector<Format> supported_formats() const override;
  // text/x-vcard -> 2.1; text/vcard -> 3.0 unless version is "4.0";
  // text/directory -> 3.0; text/x-s4j-sifc -> SIF-C.
  Result<std::string> write(const Format& format) const override;

  // Duplicate-detection rule:
  //   name  = FN, else the non-empty N components joined by spaces;
  //           lower case, whitespace runs collapsed to one space, trimmed;
  //   reach = the digits of the first TEL that has any ("+49 (30) 1-2" ->
  //           "493012"), else the first non-empty EMAIL, lower case, trimmed;
  //   key   = name + "|" + reach; empty when both parts are empty.
  // UID is not used: clients' UIDs are not server keys (SYNCML-REFERENCE §16).
  std::string identity_key() const override;
  // The rule "name plus phone or e-mail" in full: name + "|tel:" + digits for
  // every TEL and name + "|email:" + address for every EMAIL, so a card whose
  // phone changed is still found by its e-mail (issue #11); name + "|" alone
  // when it has neither. Empty when it has none of the three.
  std::vector<std::string> identity_keys() const override;

  // Field-level merge, ours (*this) winning:
  //  - a property name only one side has is taken from that side;
  //  - multi-valued properties (TEL, EMAIL, ADR, URL, IMPP, LABEL,
  //    CATEGORIES, X-ABDATE, X-ABRELATEDNAMES, X-AIM, X-ICQ, X-JABBER, X-MSN,
  //    X-YAHOO, X-SKYPE, X-SIP, X-GROUPWISE): union by normalised value (TEL:
  //    digits; EMAIL: lower case; others: text lower case, whitespace
  //    collapsed); a value both have keeps ours and gains theirs' TYPEs;
  //  - NOTE is free text: both texts are kept (data::merge_free_text);
  //  - every other property (FN, N, BDAY, ORG, PHOTO, X-EVOLUTION-...)
  //    is single-valued: ours wins unless all of ours are empty, then the
  //    first of theirs replaces them;
  //  - grouped properties of theirs (item1.TEL + item1.X-ABLabel) are judged
  //    by their members and, if any member is new, added together under a
  //    group name ours does not use.
  Result<std::unique_ptr<DataObject>> merged_with(const DataObject& theirs) const override;

  // Names of the single-valued properties of `theirs` whose value this card
  // does not hold (in their order, each once): what a merge into this card
  // left out. Multi-valued properties, NOTE (merged_with keeps both texts)
  // and REV, PRODID, UID (the versions' own bookkeeping) are never named.
  std::vector<std::string> fields_left_out_of(const Contact& theirs) const;

  std::unique_ptr<DataObject> clone() const override {
    return other_source_ ? std::make_unique<Contact>(VCard(card_), *other_source_)
                         : std::make_unique<Contact>(VCard(card_));
  }

  const VCard& card() const { return card_; }

 private:
  const VCard card_;
  const std::optional<Format> other_source_;
};

}  // namespace conflux::data
