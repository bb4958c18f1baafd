// Record: a DataObject holding one row of a relational back end — named,
// typed columns (MISSION §4 "Data objects", the seed's relational data
// object).
//
// Wire format: application/vnd.conflux.record+json, one JSON object
//   {"table": "orders", "key": ["id"],
//    "columns": [{"name": "id", "type": "integer", "value": 7},
//                {"name": "total", "type": "real", "value": 12.5},
//                {"name": "photo", "type": "blob", "value": "<base64>"},
//                {"name": "due", "type": "date", "value": "2024-03-01"},
//                {"name": "note", "type": "text", "value": null}]}
// Why JSON: its scalars are typed (7 is not "7", null is not ""), so a row
// of SQLite or PostgreSQL goes through without guessing; nlohmann-json is
// already a dependency; columns are an array so their order survives. Types:
// integer (64-bit), real, text, boolean, blob (base64 on the wire), date
// (YYYY-MM-DD, no time zone ever applies), timestamp (YYYY-MM-DDTHH:MM:SSZ,
// UTC). null is allowed for every type. `key` names the primary-key columns
// and may be empty.
//
// Thread rule: immutable after parse; const methods from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "data/data_object.h"

namespace conflux::data {

inline Format record_format() { return {"application/vnd.conflux.record+json", ""}; }

enum class ColumnType { kInteger, kReal, kText, kBoolean, kBlob, kDate, kTimestamp };

const char* column_type_name(ColumnType type);  // "integer", ...

// monostate = SQL NULL; text, blob (raw bytes), date and timestamp are strings.
using ColumnValue = std::variant<std::monostate, int64_t, double, bool, std::string>;

struct Column {
  std::string name;
  ColumnType type = ColumnType::kText;
  ColumnValue value;

  bool is_null() const { return std::holds_alternative<std::monostate>(value); }
  bool operator==(const Column&) const = default;
};

struct RecordFields {
  std::string table;
  std::vector<std::string> key;  // primary-key column names
  std::vector<Column> columns;   // names unique

  const Column* column(std::string_view name) const;
  bool operator==(const RecordFields&) const = default;
};

class Record final : public DataObject {
 public:
  explicit Record(RecordFields&& fields) : fields_(std::move(fields)) {}

  // kInvalidArgument naming the column for anything that does not follow
  // the format above: not JSON, a value that does not fit its type, a
  // duplicate column, a key column that is missing.
  static Result<std::unique_ptr<Record>> parse(std::string_view bytes);

  DataKind kind() const override { return DataKind::kRecord; }
  Format source_format() const override { return record_format(); }
  std::vector<Format> supported_formats() const override { return {record_format()}; }
  Result<std::string> write(const Format& format) const override;

  // Duplicate-detection rule: "record:" + table + "|" + name=value of each
  // key column; empty when there is no key or a key column is null (two
  // rows are the same row only by their primary key).
  std::string identity_key() const override;

  // Column by column, ours winning: a column ours lacks or holds as null is
  // taken from theirs (with its type). kInvalidArgument for another table.
  Result<std::unique_ptr<DataObject>> merged_with(const DataObject& theirs) const override;

  std::unique_ptr<DataObject> clone() const override { return std::make_unique<Record>(RecordFields(fields_)); }

  const RecordFields& fields() const { return fields_; }

 private:
  const RecordFields fields_;
};

}  // namespace conflux::data
