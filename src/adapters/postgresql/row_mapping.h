// What the postgresql adapter's tables hold, whatever the content: a row as
// field values, child rows and kept leftovers, and the RowMapping that turns
// an item (a vCard, an iCalendar event) into such a row and back.
// contact_row.h, event_row.h and record_row.h are the three mappings.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace conflux::adapters {

// The column type a field needs, and how its value is spelled in MappedRow.
enum class ColumnKind {
  kText,       // text
  kDate,       // "YYYY-MM-DD"
  kBytes,      // raw bytes
  kTimestamp,  // "YYYY-MM-DD HH:MM:SS": UTC in a timestamptz column, wall-clock time in a timestamp column
  kBool,       // "true" / "false"
  kInteger,    // "-12": a 64-bit integer in decimal
  kReal,       // "12.5": the shortest decimal that reads back as the same double
};

struct MappedField {
  const char* name;
  ColumnKind kind;
};

// One phone or e-mail in the child table.
struct ChildValue {
  std::string kind;   // "tel" or "email"
  std::string types;  // TYPE values joined by ',' ("WORK,FAX"); may be empty
  std::string value;
  bool operator==(const ChildValue&) const = default;
};

struct MappedRow {
  // field name -> value; a mapped field absent here is NULL.
  std::map<std::string, std::string> fields;
  std::vector<ChildValue> children;
  std::string extra;  // the item's leftovers (a vCard, a VCALENDAR) no column holds; empty when none
  std::string name;   // read back only: table and key ("crm.appointments:17"), a UID for an item without one
  std::string key;    // read back only: the row's key as text ("17")
};

class RowMapping {
 public:
  virtual ~RowMapping() = default;
  // Every field name of this kind of content with the column type it needs.
  virtual const std::vector<MappedField>& fields() const = 0;
  // Splits an item over the mapped fields; kInvalidArgument for bytes that
  // are not this kind of item.
  virtual Result<MappedRow> to_row(std::string_view item) const = 0;
  // The item for a row read back.
  virtual Result<std::string> to_item(const MappedRow& row) const = 0;

  std::optional<ColumnKind> kind_of(const std::string& field) const {
    for (const MappedField& f : fields()) {
      if (field == f.name) return f.kind;
    }
    return std::nullopt;
  }
};

}  // namespace conflux::adapters
