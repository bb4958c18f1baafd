#include <gtest/gtest.h>

#include "common/base64.h"
#include "data/record.h"

namespace conflux::data {
namespace {

const char* kOrder = R"({"table":"orders","key":["id"],"columns":[
  {"name":"id","type":"integer","value":9007199254740993},
  {"name":"total","type":"real","value":12.5},
  {"name":"customer","type":"text","value":"Zo\u00eb \"Z\""},
  {"name":"paid","type":"boolean","value":false},
  {"name":"scan","type":"blob","value":"AAECAw=="},
  {"name":"due","type":"date","value":"2024-02-29"},
  {"name":"shipped","type":"timestamp","value":"2024-03-01T23:59:59Z"},
  {"name":"note","type":"text","value":null}]})";

const Record& as_record(const DataObject& o) { return static_cast<const Record&>(o); }

TEST(RecordTest, ParsesEveryColumnType) {
  auto obj = parse(kOrder, record_format());
  ASSERT_TRUE(obj.has_value()) << obj.error().to_string();
  ASSERT_EQ((*obj)->kind(), DataKind::kRecord);
  const RecordFields& r = as_record(**obj).fields();
  EXPECT_EQ(r.table, "orders");
  EXPECT_EQ(r.key, std::vector<std::string>{"id"});
  ASSERT_EQ(r.columns.size(), 8u);
  EXPECT_EQ(std::get<int64_t>(r.column("id")->value), 9007199254740993LL);  // beyond a double's precision
  EXPECT_EQ(std::get<double>(r.column("total")->value), 12.5);
  EXPECT_EQ(std::get<std::string>(r.column("customer")->value), "Zo\xC3\xAB \"Z\"");
  EXPECT_EQ(std::get<bool>(r.column("paid")->value), false);
  EXPECT_EQ(std::get<std::string>(r.column("scan")->value), std::string("\0\1\2\3", 4));
  EXPECT_EQ(r.column("scan")->type, ColumnType::kBlob);
  EXPECT_EQ(std::get<std::string>(r.column("due")->value), "2024-02-29");
  EXPECT_EQ(r.column("shipped")->type, ColumnType::kTimestamp);
  EXPECT_TRUE(r.column("note")->is_null());
  EXPECT_EQ(r.column("missing"), nullptr);
}

TEST(RecordTest, WriteAndParseAgainIsEqualAndKeepsColumnOrder) {
  auto obj = Record::parse(kOrder);
  ASSERT_TRUE(obj.has_value());
  auto text = (*obj)->write(record_format());
  ASSERT_TRUE(text.has_value());
  auto again = Record::parse(*text);
  ASSERT_TRUE(again.has_value()) << again.error().to_string() << "\n" << *text;
  EXPECT_EQ((*again)->fields(), (*obj)->fields());
  EXPECT_LT(text->find("\"id\""), text->find("\"total\""));
  EXPECT_LT(text->find("\"total\""), text->find("\"customer\""));
  EXPECT_EQ(*(*again)->write(record_format()), *text);
}

TEST(RecordTest, RealColumnAcceptsAnIntegerAndStaysReal) {
  auto obj = Record::parse(R"({"table":"t","columns":[{"name":"x","type":"real","value":3}]})");
  ASSERT_TRUE(obj.has_value()) << obj.error().to_string();
  auto again = Record::parse(*(*obj)->write(record_format()));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(std::get<double>((*again)->fields().column("x")->value), 3.0);
}

TEST(RecordTest, OnlyItsOwnFormat) {
  auto obj = Record::parse(kOrder);
  ASSERT_TRUE(obj.has_value());
  EXPECT_EQ((*obj)->supported_formats(), std::vector<Format>{record_format()});
  auto refused = (*obj)->write(Format{"text/csv", ""});
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), StatusCode::kInvalidArgument);
}

TEST(RecordTest, BrokenRecordsAreRejectedNamingTheColumn) {
  struct Case {
    const char* json;
    const char* says;
  };
  const Case cases[] = {
      {"{", "not JSON"},
      {"[1]", "JSON object"},
      {R"({"columns":[]})", "\"table\""},
      {R"({"table":"t"})", "\"columns\""},
      {R"({"table":"t","columns":[{"type":"text"}]})", "column 1"},
      {R"({"table":"t","columns":[{"name":"a","type":"text"},{"name":"a","type":"text"}]})", "'a': appears twice"},
      {R"({"table":"t","columns":[{"name":"a","type":"varchar"}]})", "'a': unknown type 'varchar'"},
      {R"({"table":"t","columns":[{"name":"n","type":"integer","value":"7"}]})", "'n'"},
      {R"({"table":"t","columns":[{"name":"n","type":"integer","value":1.5}]})", "not a valid integer"},
      {R"({"table":"t","columns":[{"name":"n","type":"integer","value":18446744073709551615}]})", "integer"},
      {R"({"table":"t","columns":[{"name":"b","type":"boolean","value":1}]})", "boolean"},
      {R"({"table":"t","columns":[{"name":"b","type":"blob","value":"!!"}]})", "blob"},
      {R"({"table":"t","columns":[{"name":"d","type":"date","value":"2023-02-29"}]})", "'d'"},
      {R"({"table":"t","columns":[{"name":"d","type":"date","value":"2023-2-1"}]})", "date"},
      {R"({"table":"t","columns":[{"name":"s","type":"timestamp","value":"2023-01-01T25:00:00Z"}]})", "'s'"},
      {R"({"table":"t","columns":[{"name":"s","type":"timestamp","value":"2023-01-01T10:00:00"}]})", "timestamp"},
      {R"({"table":"t","key":["id"],"columns":[{"name":"x","type":"text"}]})", "\"key\""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.json);
    auto obj = parse(c.json, record_format());
    ASSERT_FALSE(obj.has_value());
    EXPECT_EQ(obj.error().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(obj.error().message().find(c.says), std::string::npos) << obj.error().message();
  }
}

TEST(RecordTest, IdentityIsTableAndPrimaryKey) {
  auto a = Record::parse(R"({"table":"p","key":["cc","no"],"columns":[{"name":"cc","type":"text","value":"de"},
      {"name":"no","type":"integer","value":7},{"name":"x","type":"text","value":"a"}]})");
  auto b = Record::parse(R"({"table":"p","key":["cc","no"],"columns":[{"name":"no","type":"integer","value":7},
      {"name":"cc","type":"text","value":"de"},{"name":"x","type":"text","value":"b"}]})");
  auto null_key =
      Record::parse(R"({"table":"p","key":["no"],"columns":[{"name":"no","type":"integer","value":null}]})");
  auto no_key = Record::parse(R"({"table":"p","columns":[{"name":"no","type":"integer","value":1}]})");
  ASSERT_TRUE(a && b && null_key && no_key);
  EXPECT_EQ((*a)->identity_key(), "record:p|cc=de|no=7");
  EXPECT_EQ((*a)->identity_key(), (*b)->identity_key());
  EXPECT_EQ((*null_key)->identity_key(), "");
  EXPECT_EQ((*no_key)->identity_key(), "");
}

TEST(RecordTest, MergeColumnByColumnOursWinning) {
  auto ours = Record::parse(R"({"table":"t","key":["id"],"columns":[{"name":"id","type":"integer","value":1},
      {"name":"a","type":"text","value":"ours"},{"name":"b","type":"text","value":null}]})");
  auto theirs = Record::parse(R"({"table":"t","columns":[{"name":"id","type":"integer","value":1},
      {"name":"a","type":"text","value":"theirs"},{"name":"b","type":"integer","value":5},
      {"name":"c","type":"boolean","value":true}]})");
  ASSERT_TRUE(ours && theirs);
  auto merged = merge(**ours, **theirs);
  ASSERT_TRUE(merged.has_value());
  const RecordFields& m = as_record(**merged).fields();
  EXPECT_EQ(std::get<std::string>(m.column("a")->value), "ours");
  EXPECT_EQ(std::get<int64_t>(m.column("b")->value), 5);
  EXPECT_EQ(m.column("b")->type, ColumnType::kInteger);
  EXPECT_EQ(std::get<bool>(m.column("c")->value), true);
  EXPECT_EQ(m.key, std::vector<std::string>{"id"});
  EXPECT_TRUE((*ours)->fields().column("b")->is_null());  // inputs unchanged

  auto other_table = Record::parse(R"({"table":"u","columns":[]})");
  ASSERT_TRUE(other_table.has_value());
  auto refused = (*ours)->merged_with(**other_table);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), StatusCode::kInvalidArgument);
}

TEST(RecordTest, CloneIsEqual) {
  auto obj = Record::parse(kOrder);
  ASSERT_TRUE(obj.has_value());
  auto copy = (*obj)->clone();
  EXPECT_EQ(as_record(*copy).fields(), (*obj)->fields());
  EXPECT_EQ(*copy->write(record_format()), *(*obj)->write(record_format()));
}

}  // namespace
}  // namespace conflux::data
