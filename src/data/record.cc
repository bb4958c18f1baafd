#include "data/record.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <limits>
#include <set>

#include "common/base64.h"
#include "data/text_codec.h"

namespace conflux::data {
namespace {

using Json = nlohmann::ordered_json;

constexpr ColumnType kAllTypes[] = {ColumnType::kInteger,  ColumnType::kReal, ColumnType::kText,
                                    ColumnType::kBoolean,  ColumnType::kBlob, ColumnType::kDate,
                                    ColumnType::kTimestamp};

bool digits_at(std::string_view s, size_t pos, size_t n) {
  if (pos + n > s.size()) return false;
  return std::all_of(s.begin() + pos, s.begin() + pos + n, [](char c) { return c >= '0' && c <= '9'; });
}

int number_at(std::string_view s, size_t pos, size_t n) { return std::stoi(std::string(s.substr(pos, n))); }

// YYYY-MM-DD, a day that exists.
bool is_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  if (!digits_at(s, 0, 4) || !digits_at(s, 5, 2) || !digits_at(s, 8, 2)) return false;
  std::chrono::year_month_day day{std::chrono::year(number_at(s, 0, 4)),
                                  std::chrono::month(static_cast<unsigned>(number_at(s, 5, 2))),
                                  std::chrono::day(static_cast<unsigned>(number_at(s, 8, 2)))};
  return day.ok();
}

// YYYY-MM-DDTHH:MM:SSZ.
bool is_timestamp(std::string_view s) {
  if (s.size() != 20 || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z') return false;
  if (!is_date(s.substr(0, 10)) || !digits_at(s, 11, 2) || !digits_at(s, 14, 2) || !digits_at(s, 17, 2)) return false;
  return number_at(s, 11, 2) < 24 && number_at(s, 14, 2) < 60 && number_at(s, 17, 2) < 61;
}

Result<ColumnValue> value_from_json(const Json& v, ColumnType type) {
  if (v.is_null()) return ColumnValue{};
  switch (type) {
    case ColumnType::kInteger:
      if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max())) break;
      if (v.is_number_integer()) return ColumnValue{v.get<int64_t>()};
      break;
    case ColumnType::kReal:
      if (v.is_number()) return ColumnValue{v.get<double>()};
      break;
    case ColumnType::kBoolean:
      if (v.is_boolean()) return ColumnValue{v.get<bool>()};
      break;
    case ColumnType::kText:
      if (v.is_string()) return ColumnValue{v.get<std::string>()};
      break;
    case ColumnType::kBlob:
      if (v.is_string()) {
        auto bytes = base64_decode(v.get<std::string>());
        if (bytes) return ColumnValue{std::move(*bytes)};
      }
      break;
    case ColumnType::kDate:
      if (v.is_string() && is_date(v.get<std::string>())) return ColumnValue{v.get<std::string>()};
      break;
    case ColumnType::kTimestamp:
      if (v.is_string() && is_timestamp(v.get<std::string>())) return ColumnValue{v.get<std::string>()};
      break;
  }
  return Status::invalid_argument(std::string("value ") + v.dump().substr(0, 40) + " is not a valid " +
                                  column_type_name(type));
}

Json value_to_json(const Column& c) {
  return std::visit(
      [&](const auto& v) -> Json {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return nullptr;
        } else if constexpr (std::is_same_v<T, std::string>) {
          return c.type == ColumnType::kBlob ? base64_encode(v) : v;
        } else {
          return v;
        }
      },
      c.value);
}

std::string value_text(const Column& c) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return "";
        } else if constexpr (std::is_same_v<T, std::string>) {
          return v;
        } else if constexpr (std::is_same_v<T, bool>) {
          return v ? "true" : "false";
        } else {
          return Json(v).dump();
        }
      },
      c.value);
}

Result<RecordFields> parse_fields(const Json& doc) {
  if (!doc.is_object()) return Status::invalid_argument("a record is a JSON object");
  RecordFields record;
  if (!doc.contains("table") || !doc["table"].is_string() || doc["table"].get<std::string>().empty()) {
    return Status::invalid_argument("\"table\": a non-empty string is required");
  }
  record.table = doc["table"].get<std::string>();
  if (!doc.contains("columns") || !doc["columns"].is_array()) {
    return Status::invalid_argument("\"columns\": an array is required");
  }
  std::set<std::string> names;
  for (size_t i = 0; i < doc["columns"].size(); ++i) {
    const Json& c = doc["columns"][i];
    std::string where = "column " + std::to_string(i + 1);
    if (!c.is_object() || !c.contains("name") || !c["name"].is_string() || c["name"].get<std::string>().empty()) {
      return Status::invalid_argument(where + ": a non-empty \"name\" is required");
    }
    Column column;
    column.name = c["name"].get<std::string>();
    where = "column '" + column.name.substr(0, 40) + "'";
    if (!names.insert(column.name).second) return Status::invalid_argument(where + ": appears twice");
    std::string type = c.contains("type") && c["type"].is_string() ? c["type"].get<std::string>() : "";
    auto known = std::find_if(std::begin(kAllTypes), std::end(kAllTypes),
                              [&](ColumnType t) { return type == column_type_name(t); });
    if (known == std::end(kAllTypes)) {
      return Status::invalid_argument(where + ": unknown type '" + type.substr(0, 20) + "'");
    }
    column.type = *known;
    auto value = value_from_json(c.contains("value") ? c["value"] : Json(nullptr), column.type);
    if (!value) return value.error().with_context(where);
    column.value = std::move(*value);
    record.columns.push_back(std::move(column));
  }
  if (doc.contains("key")) {
    if (!doc["key"].is_array()) return Status::invalid_argument("\"key\": an array of column names is expected");
    for (const Json& k : doc["key"]) {
      if (!k.is_string() || !names.count(k.get<std::string>())) {
        return Status::invalid_argument("\"key\": " + k.dump().substr(0, 40) + " is not a column");
      }
      record.key.push_back(k.get<std::string>());
    }
  }
  return record;
}

}  // namespace

const char* column_type_name(ColumnType type) {
  switch (type) {
    case ColumnType::kInteger: return "integer";
    case ColumnType::kReal: return "real";
    case ColumnType::kText: return "text";
    case ColumnType::kBoolean: return "boolean";
    case ColumnType::kBlob: return "blob";
    case ColumnType::kDate: return "date";
    case ColumnType::kTimestamp: return "timestamp";
  }
  return "unknown";
}

const Column* RecordFields::column(std::string_view name) const {
  auto it = std::find_if(columns.begin(), columns.end(), [&](const Column& c) { return c.name == name; });
  return it == columns.end() ? nullptr : &*it;
}

Result<std::unique_ptr<Record>> Record::parse(std::string_view bytes) {
  // nlohmann-json throws on syntax errors; the exception stays here.
  Json doc = Json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Status::invalid_argument("record: not JSON");
  auto fields = parse_fields(doc);
  if (!fields) return fields.error().with_context("record");
  return std::make_unique<Record>(std::move(*fields));
}

Result<std::string> Record::write(const Format& format) const {
  if (ascii_lower(format.mime_type) != record_format().mime_type) {
    return Status::invalid_argument("a record cannot be written as " + format.to_string());
  }
  Json doc;
  doc["table"] = fields_.table;
  doc["key"] = fields_.key;
  doc["columns"] = Json::array();
  for (const Column& c : fields_.columns) {
    doc["columns"].push_back({{"name", c.name}, {"type", column_type_name(c.type)}, {"value", value_to_json(c)}});
  }
  return doc.dump();
}

std::string Record::identity_key() const {
  if (fields_.key.empty()) return "";
  std::string key = "record:" + fields_.table;
  for (const auto& name : fields_.key) {
    const Column* c = fields_.column(name);
    if (!c || c->is_null()) return "";
    key += "|" + name + "=" + value_text(*c);
  }
  return key;
}

Result<std::unique_ptr<DataObject>> Record::merged_with(const DataObject& theirs) const {
  if (theirs.kind() != DataKind::kRecord) {
    return Status::invalid_argument(std::string("cannot merge a record with a ") + data_kind_name(theirs.kind()));
  }
  const RecordFields& other = static_cast<const Record&>(theirs).fields();
  if (other.table != fields_.table) {
    return Status::invalid_argument("cannot merge a row of " + fields_.table + " with a row of " + other.table);
  }
  RecordFields result = fields_;
  for (const Column& c : other.columns) {
    auto it = std::find_if(result.columns.begin(), result.columns.end(),
                           [&](const Column& ours) { return ours.name == c.name; });
    if (it == result.columns.end()) {
      result.columns.push_back(c);
    } else if (it->is_null() && !c.is_null()) {
      *it = c;
    }
  }
  if (result.key.empty()) result.key = other.key;
  return std::unique_ptr<DataObject>(std::make_unique<Record>(std::move(result)));
}

}  // namespace conflux::data
