// A contact as the columns of an organisation's table hold it, and the
// conversion between that and a vCard (the `postgresql` adapter's mapping,
// postgresql_adapter.h).
//
// Fields (config key `field_<name> = "<column>"`), what they hold and the
// column type they need:
//   family given middle prefix suffix   N components               text
//   formatted                           FN                         text
//   org department                      ORG components 0, 1        text
//   title                               TITLE                      text
//   email email_home email_work         EMAIL (none/HOME/WORK)     text
//   tel tel_home tel_work tel_cell      TEL (none/HOME/WORK/CELL)  text
//   street city region postcode country the first ADR's parts      text
//   birthday                            BDAY (YYYY-MM-DD)          date
//   note                                NOTE                       text
//   url                                 URL                        text
//   photo                               PHOTO (binary)             bytea
// A typed column takes a phone or e-mail whose TYPE is exactly that one
// (VOICE, INTERNET and PREF aside); the plain column takes one without a
// type. Further phones and e-mails go to the child table when one is mapped
// (one row each: kind "tel"/"email", the TYPE values, the value).
//
// Nothing a device sends is lost: a property no column can hold (UID, a
// second ADR, a TEL of a type no column takes without a child table, a BDAY
// without a year, an N or ADR with parts that have no column or with
// parameters) goes into `extra`, a vCard of the leftovers that the adapter
// keeps per item in its side table. Reading puts the two together again;
// for N, ORG and ADR the columns win the parts they map.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "adapters/postgresql/row_mapping.h"
#include "common/status.h"
#include "data/vcard.h"

namespace conflux::adapters {

// Every contact field name, with the column kind it needs, in the order
// fields are written to a vCard.
const std::vector<MappedField>& contact_fields();
// The kind a field needs, nullopt for a name that is no contact field.
std::optional<ColumnKind> contact_field_kind(const std::string& field);

// Splits `vcard_bytes` over the fields in `mapped` (field names that have a
// column) and the child table (`has_children`). kInvalidArgument for bytes
// that are no vCard.
Result<MappedRow> contact_to_row(std::string_view vcard_bytes, const std::vector<std::string>& mapped,
                                 bool has_children);

// The vCard (in `version`) for a row read back; `mapped` as for contact_to_row.
std::string row_to_contact(const MappedRow& row, const std::vector<std::string>& mapped, data::VCardVersion version);

// The RowMapping of a contacts table.
class ContactMapping final : public RowMapping {
 public:
  ContactMapping(std::vector<std::string> mapped, bool has_children, data::VCardVersion version)
      : mapped_(std::move(mapped)), has_children_(has_children), version_(version) {}
  const std::vector<MappedField>& fields() const override { return contact_fields(); }
  Result<MappedRow> to_row(std::string_view item) const override {
    return contact_to_row(item, mapped_, has_children_);
  }
  Result<std::string> to_item(const MappedRow& row) const override { return row_to_contact(row, mapped_, version_); }

 private:
  const std::vector<std::string> mapped_;
  const bool has_children_;
  const data::VCardVersion version_;
};

}  // namespace conflux::adapters
