// A row of any other table (a shop's `orders`) as a data::Record
// (application/vnd.conflux.record+json), the `postgresql` adapter's mapping
// for stores of that content type (postgresql_adapter.h).
//
// Config key `field_<name> = "<column>"`: the Record column `<name>` is
// kept in the table's `<column>`; the names are the admin's. Its Record type
// comes from the column's type in the live schema (record_kind_for):
//   smallint integer bigint               integer
//   real double precision numeric         real
//   text varchar char (string types)      text
//   boolean                               boolean
//   bytea                                 blob
//   date                                  date
//   timestamp timestamptz                 timestamp (UTC)
// What this costs: a numeric travels as a double, so a numeric(30,10) keeps
// its first 15 to 17 significant digits, and a row holding NaN or Infinity
// cannot be read (JSON has no such number); a timestamp column is taken as
// UTC wall-clock time; fractions of a second are dropped (the Record format
// has none).
//
// The key column is always in the Record, under its column name and listed
// in "key": the server's own (the database or Conflux picks it), so a
// device's value for it is never written. A mapped column the device's
// Record lacks is written as NULL, like a contact's missing field.
//
// Nothing a device sends is lost: columns the mapping does not have go into
// `extra`, a Record of the leftovers that the adapter keeps per item in its
// side table; reading appends them after the mapped columns. A column of
// another type than the table's (text for a boolean column) is refused with
// kInvalidArgument naming the column; an integer is taken for a real.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "adapters/postgresql/row_mapping.h"
#include "data/record.h"

namespace conflux::adapters {

// The ColumnKind (and so the Record type) of a column of PostgreSQL type
// `type_name` (pg_type.typname: "int4", "numeric") in type category
// `category` (pg_type.typcategory: "S" for every string type); nullopt for a
// type a Record cannot hold (json, uuid, arrays ...).
std::optional<ColumnKind> record_kind_for(const std::string& type_name, const std::string& category);
data::ColumnType record_type_of(ColumnKind kind);

// One mapped Record column: its name in the Record and the kind of its
// table column.
struct RecordField {
  std::string name;
  ColumnKind kind;
};

class RecordMapping final : public RowMapping {
 public:
  // `table`: the name Records carry ("orders", as configured); `also_table`:
  // another name a device may use for it (the schema-qualified one).
  // `key_kind`: kInteger for an integer key, else the key travels as text.
  RecordMapping(std::string table, std::string also_table, std::string key, ColumnKind key_kind,
                std::vector<RecordField> fields);
  const std::vector<MappedField>& fields() const override { return mapped_fields_; }
  // kInvalidArgument for bytes that are no Record, a Record of another
  // table, or a column whose type does not fit its table column.
  Result<MappedRow> to_row(std::string_view item) const override;
  // kInvalidArgument for a value a Record cannot carry (a NaN numeric).
  Result<std::string> to_item(const MappedRow& row) const override;

 private:
  const std::string table_;
  const std::string also_table_;
  const std::string key_;
  const ColumnKind key_kind_;
  const std::vector<RecordField> fields_;
  std::vector<MappedField> mapped_fields_;  // points into fields_' names
};

}  // namespace conflux::adapters
