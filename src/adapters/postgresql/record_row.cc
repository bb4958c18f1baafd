#include "adapters/postgresql/record_row.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace conflux::adapters {

namespace {

// A Record column's value as MappedRow spells it for a column of `kind`.
Result<std::string> column_text(const data::Column& column, ColumnKind kind) {
  const data::ColumnType wanted = record_type_of(kind);
  const bool widened = kind == ColumnKind::kReal && column.type == data::ColumnType::kInteger;
  if (column.type != wanted && !widened) {
    return Status::invalid_argument(std::string("is ") + data::column_type_name(column.type) +
                                    ", the table's column holds " + data::column_type_name(wanted));
  }
  switch (kind) {
    case ColumnKind::kInteger: return std::to_string(std::get<int64_t>(column.value));
    case ColumnKind::kReal: {
      if (widened) return std::to_string(std::get<int64_t>(column.value));
      char buf[32];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, std::get<double>(column.value));
      return std::string(buf, end);
    }
    case ColumnKind::kBool: return std::string(std::get<bool>(column.value) ? "true" : "false");
    case ColumnKind::kTimestamp: {
      // YYYY-MM-DDTHH:MM:SSZ (checked by Record::parse) -> YYYY-MM-DD HH:MM:SS
      std::string text = std::get<std::string>(column.value);
      text[10] = ' ';
      text.pop_back();
      return text;
    }
    case ColumnKind::kText:
    case ColumnKind::kBytes:
    case ColumnKind::kDate: break;
  }
  return std::get<std::string>(column.value);
}

// The value of a column of `kind` read back as `text`.
Result<data::ColumnValue> column_value(const std::string& text, ColumnKind kind) {
  switch (kind) {
    case ColumnKind::kInteger: {
      int64_t value = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (ec != std::errc() || end != text.data() + text.size()) break;
      return data::ColumnValue{value};
    }
    case ColumnKind::kReal: {
      double value = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
      // NaN and Infinity (a numeric or float may hold them) have no JSON form.
      if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) break;
      return data::ColumnValue{value};
    }
    case ColumnKind::kBool:
      if (text != "true" && text != "false") break;
      return data::ColumnValue{text == "true"};
    case ColumnKind::kTimestamp:
      if (text.size() != 19 || text[10] != ' ') break;
      return data::ColumnValue{text.substr(0, 10) + "T" + text.substr(11) + "Z"};
    case ColumnKind::kText:
    case ColumnKind::kBytes:
    case ColumnKind::kDate: return data::ColumnValue{text};
  }
  return Status::invalid_argument("'" + text.substr(0, 40) + "' cannot be a Record " +
                                  data::column_type_name(record_type_of(kind)));
}

}  // namespace

std::optional<ColumnKind> record_kind_for(const std::string& type_name, const std::string& category) {
  if (type_name == "int2" || type_name == "int4" || type_name == "int8") return ColumnKind::kInteger;
  if (type_name == "float4" || type_name == "float8" || type_name == "numeric") return ColumnKind::kReal;
  if (type_name == "bool") return ColumnKind::kBool;
  if (type_name == "bytea") return ColumnKind::kBytes;
  if (type_name == "date") return ColumnKind::kDate;
  if (type_name == "timestamp" || type_name == "timestamptz") return ColumnKind::kTimestamp;
  if (category == "S") return ColumnKind::kText;
  return std::nullopt;
}

data::ColumnType record_type_of(ColumnKind kind) {
  switch (kind) {
    case ColumnKind::kInteger: return data::ColumnType::kInteger;
    case ColumnKind::kReal: return data::ColumnType::kReal;
    case ColumnKind::kBool: return data::ColumnType::kBoolean;
    case ColumnKind::kBytes: return data::ColumnType::kBlob;
    case ColumnKind::kDate: return data::ColumnType::kDate;
    case ColumnKind::kTimestamp: return data::ColumnType::kTimestamp;
    case ColumnKind::kText: break;
  }
  return data::ColumnType::kText;
}

RecordMapping::RecordMapping(std::string table, std::string also_table, std::string key, ColumnKind key_kind,
                             std::vector<RecordField> fields)
    : table_(std::move(table)),
      also_table_(std::move(also_table)),
      key_(std::move(key)),
      key_kind_(key_kind),
      fields_(std::move(fields)) {
  for (const RecordField& field : fields_) mapped_fields_.push_back({field.name.c_str(), field.kind});
}

Result<MappedRow> RecordMapping::to_row(std::string_view item) const {
  auto record = data::Record::parse(item);
  if (!record) return record.error();
  const data::RecordFields& in = (*record)->fields();
  if (in.table != table_ && in.table != also_table_) {
    return Status::invalid_argument("a record of table '" + in.table.substr(0, 60) + "'; this store keeps rows of '" +
                                    table_ + "'");
  }
  MappedRow row;
  data::RecordFields leftovers;
  leftovers.table = table_;
  for (const data::Column& column : in.columns) {
    if (column.name == key_) continue;  // the row's key is the server's
    auto field =
        std::find_if(fields_.begin(), fields_.end(), [&](const RecordField& f) { return f.name == column.name; });
    if (field == fields_.end()) {
      leftovers.columns.push_back(column);
      continue;
    }
    if (column.is_null()) continue;
    auto text = column_text(column, field->kind);
    if (!text) return text.error().with_context("record column '" + column.name + "'");
    row.fields[column.name] = std::move(*text);
  }
  if (!leftovers.columns.empty()) {
    auto extra = data::Record(std::move(leftovers)).write(data::record_format());
    if (!extra) return extra.error();
    row.extra = std::move(*extra);
  }
  return row;
}

Result<std::string> RecordMapping::to_item(const MappedRow& row) const {
  data::RecordFields out;
  out.table = table_;
  out.key = {key_};
  const ColumnKind key_kind = key_kind_ == ColumnKind::kInteger ? ColumnKind::kInteger : ColumnKind::kText;
  auto key = column_value(row.key, key_kind);
  if (!key) return key.error().with_context("key column '" + key_ + "'");
  out.columns.push_back({key_, record_type_of(key_kind), std::move(*key)});
  for (const RecordField& field : fields_) {
    data::Column column{field.name, record_type_of(field.kind), {}};
    if (auto it = row.fields.find(field.name); it != row.fields.end()) {
      auto value = column_value(it->second, field.kind);
      if (!value) return value.error().with_context("column '" + field.name + "'");
      column.value = std::move(*value);
    }
    out.columns.push_back(std::move(column));
  }
  if (!row.extra.empty()) {
    auto kept = data::Record::parse(row.extra);
    if (!kept) return kept.error().with_context("kept columns");
    for (const data::Column& column : (*kept)->fields().columns) {
      if (out.column(column.name) == nullptr) out.columns.push_back(column);
    }
  }
  return data::Record(std::move(out)).write(data::record_format());
}

}  // namespace conflux::adapters
