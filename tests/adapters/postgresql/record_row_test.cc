#include "adapters/postgresql/record_row.h"

#include <gtest/gtest.h>

namespace conflux::adapters {
namespace {

// An orders table: id serial, customer text, total numeric, paid boolean,
// due date, updated timestamptz, scan bytea.
RecordMapping orders() {
  return RecordMapping("orders", "shop.orders", "id", ColumnKind::kInteger,
                       {{"customer", ColumnKind::kText},
                        {"total", ColumnKind::kReal},
                        {"paid", ColumnKind::kBool},
                        {"due", ColumnKind::kDate},
                        {"updated", ColumnKind::kTimestamp},
                        {"scan", ColumnKind::kBytes}});
}

std::unique_ptr<data::Record> parsed(const std::string& json) {
  auto record = data::Record::parse(json);
  EXPECT_TRUE(record.has_value()) << json;
  return record ? std::move(*record) : nullptr;
}

TEST(RecordRow, ColumnTypesGiveTheRecordTypes) {
  struct Case {
    const char* type_name;
    const char* category;
    std::optional<ColumnKind> kind;
  };
  const Case cases[] = {
      {"int2", "N", ColumnKind::kInteger},
      {"int4", "N", ColumnKind::kInteger},
      {"int8", "N", ColumnKind::kInteger},
      {"float4", "N", ColumnKind::kReal},
      {"float8", "N", ColumnKind::kReal},
      {"numeric", "N", ColumnKind::kReal},
      {"text", "S", ColumnKind::kText},
      {"varchar", "S", ColumnKind::kText},
      {"bpchar", "S", ColumnKind::kText},
      {"bool", "B", ColumnKind::kBool},
      {"bytea", "U", ColumnKind::kBytes},
      {"date", "D", ColumnKind::kDate},
      {"timestamp", "D", ColumnKind::kTimestamp},
      {"timestamptz", "D", ColumnKind::kTimestamp},
      {"jsonb", "U", std::nullopt},
      {"uuid", "U", std::nullopt},
      {"_int4", "A", std::nullopt},
      {"money", "N", std::nullopt},
      {"time", "D", std::nullopt},
      {"interval", "T", std::nullopt},
  };
  for (const Case& c : cases) EXPECT_EQ(record_kind_for(c.type_name, c.category), c.kind) << c.type_name;
  EXPECT_EQ(record_type_of(ColumnKind::kInteger), data::ColumnType::kInteger);
  EXPECT_EQ(record_type_of(ColumnKind::kReal), data::ColumnType::kReal);
  EXPECT_EQ(record_type_of(ColumnKind::kText), data::ColumnType::kText);
  EXPECT_EQ(record_type_of(ColumnKind::kBool), data::ColumnType::kBoolean);
  EXPECT_EQ(record_type_of(ColumnKind::kBytes), data::ColumnType::kBlob);
  EXPECT_EQ(record_type_of(ColumnKind::kDate), data::ColumnType::kDate);
  EXPECT_EQ(record_type_of(ColumnKind::kTimestamp), data::ColumnType::kTimestamp);
}

TEST(RecordRow, ARecordBecomesColumnTextAndUnknownColumnsAreKept) {
  auto row = orders().to_row(
      R"({"table": "orders", "key": ["id"], "columns": [
          {"name": "id", "type": "integer", "value": 999},
          {"name": "customer", "type": "text", "value": "Acme"},
          {"name": "total", "type": "real", "value": 12.5},
          {"name": "paid", "type": "boolean", "value": true},
          {"name": "due", "type": "date", "value": "2026-03-01"},
          {"name": "updated", "type": "timestamp", "value": "2026-02-03T04:05:06Z"},
          {"name": "scan", "type": "blob", "value": "AAEC"},
          {"name": "colour", "type": "text", "value": "red"}]})");
  ASSERT_TRUE(row.has_value()) << row.error().to_string();
  const std::map<std::string, std::string> want = {{"customer", "Acme"},
                                                   {"total", "12.5"},
                                                   {"paid", "true"},
                                                   {"due", "2026-03-01"},
                                                   {"updated", "2026-02-03 04:05:06"},
                                                   {"scan", std::string("\0\1\2", 3)}};
  EXPECT_EQ(row->fields, want);  // the key column's 999 is not the device's to write
  auto kept = parsed(row->extra);
  ASSERT_TRUE(kept);
  ASSERT_EQ(kept->fields().columns.size(), 1u);
  EXPECT_EQ(kept->fields().columns[0], (data::Column{"colour", data::ColumnType::kText, std::string("red")}));
}

TEST(RecordRow, ARowReadBackIsARecordWithTheKeyAndTheKeptColumns) {
  MappedRow row;
  row.key = "7";
  row.fields = {{"customer", "Acme"}, {"total", "12.50"}, {"paid", "false"}, {"updated", "2026-02-03 04:05:06"}};
  row.extra = R"({"table": "orders", "columns": [{"name": "colour", "type": "text", "value": "red"}]})";
  auto item = orders().to_item(row);
  ASSERT_TRUE(item.has_value()) << item.error().to_string();
  auto record = parsed(*item);
  ASSERT_TRUE(record);
  const data::RecordFields& f = record->fields();
  EXPECT_EQ(f.table, "orders");
  EXPECT_EQ(f.key, std::vector<std::string>{"id"});
  const std::vector<data::Column> want = {
      {"id", data::ColumnType::kInteger, int64_t{7}},
      {"customer", data::ColumnType::kText, std::string("Acme")},
      {"total", data::ColumnType::kReal, 12.5},
      {"paid", data::ColumnType::kBoolean, false},
      {"due", data::ColumnType::kDate, std::monostate{}},  // NULL
      {"updated", data::ColumnType::kTimestamp, std::string("2026-02-03T04:05:06Z")},
      {"scan", data::ColumnType::kBlob, std::monostate{}},
      {"colour", data::ColumnType::kText, std::string("red")},
  };
  EXPECT_EQ(f.columns, want);
  EXPECT_EQ(record->identity_key(), "record:orders|id=7");
}

TEST(RecordRow, ARecordGoesThroughTheRowUnchanged) {
  const std::string sent =
      R"({"table":"orders","key":["id"],"columns":[{"name":"id","type":"integer","value":3},)"
      R"({"name":"customer","type":"text","value":"Bolt \"and\" Nut"},{"name":"total","type":"real","value":0.1},)"
      R"({"name":"paid","type":"boolean","value":null},{"name":"due","type":"date","value":"2024-02-29"},)"
      R"({"name":"updated","type":"timestamp","value":"1999-12-31T23:59:59Z"},)"
      R"({"name":"scan","type":"blob","value":"/9j/4AAQ"},{"name":"note","type":"text","value":"kept"}]})";
  auto row = orders().to_row(sent);
  ASSERT_TRUE(row.has_value()) << row.error().to_string();
  row->key = "3";
  auto back = orders().to_item(*row);
  ASSERT_TRUE(back.has_value()) << back.error().to_string();
  EXPECT_EQ(parsed(*back)->fields(), parsed(sent)->fields());
}

TEST(RecordRow, AnIntegerIsTakenForARealAndOtherMismatchesAreRefusedNamingTheColumn) {
  auto widened =
      orders().to_row(R"({"table": "orders", "columns": [{"name": "total", "type": "integer", "value": 40}]})");
  ASSERT_TRUE(widened.has_value()) << widened.error().to_string();
  EXPECT_EQ(widened->fields.at("total"), "40");

  auto refused =
      orders().to_row(R"({"table": "orders", "columns": [{"name": "paid", "type": "text", "value": "yes"}]})");
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.error().message().find("'paid'"), std::string::npos) << refused.error().to_string();
  EXPECT_NE(refused.error().message().find("boolean"), std::string::npos) << refused.error().to_string();
}

TEST(RecordRow, ARecordOfAnotherTableOrNoRecordIsRefused) {
  auto other = orders().to_row(R"({"table": "invoices", "columns": []})");
  ASSERT_FALSE(other.has_value());
  EXPECT_NE(other.error().message().find("invoices"), std::string::npos);
  EXPECT_TRUE(orders().to_row(R"({"table": "shop.orders", "columns": []})").has_value());
  EXPECT_FALSE(orders().to_row("BEGIN:VCARD\r\nEND:VCARD\r\n").has_value());
}

TEST(RecordRow, AValueNoRecordCanCarryFailsTheRowNamingTheColumn) {
  MappedRow row;
  row.key = "1";
  row.fields = {{"total", "NaN"}};
  auto item = orders().to_item(row);
  ASSERT_FALSE(item.has_value());
  EXPECT_NE(item.error().message().find("'total'"), std::string::npos) << item.error().to_string();
}

TEST(RecordRow, ATextKeyTravelsAsText) {
  RecordMapping codes("codes", "public.codes", "code", ColumnKind::kText, {{"label", ColumnKind::kText}});
  MappedRow row;
  row.key = "A-17";
  auto item = codes.to_item(row);
  ASSERT_TRUE(item.has_value());
  EXPECT_EQ(parsed(*item)->fields().columns[0], (data::Column{"code", data::ColumnType::kText, std::string("A-17")}));
}

}  // namespace
}  // namespace conflux::adapters
