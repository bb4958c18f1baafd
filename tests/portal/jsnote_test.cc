#include "portal/jsnote.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace conflux::portal {
namespace {

using nlohmann::json;

TEST(JsNoteTest, PlainTextTitleIsTheFirstLine) {
  auto note = note_from_stored("Shopping\nmilk\neggs", "text/plain", "1.0");
  ASSERT_TRUE(note);
  EXPECT_EQ(*note, json::parse(R"({"@type":"Note","title":"Shopping","body":"milk\neggs"})"));
  std::vector<InvalidProperty> invalid;
  EXPECT_EQ(stored_from_note(*note, "", "text/plain", "1.0", invalid), "Shopping\nmilk\neggs");
  EXPECT_EQ(stored_from_note(json{{"title", "Only"}}, "", "text/plain", "1.0", invalid), "Only");
  EXPECT_EQ((*note_from_stored("Only", "text/plain", "1.0"))["body"], "");
  EXPECT_TRUE(invalid.empty());
}

TEST(JsNoteTest, VNoteKeepsWhatTheNoteDoesNotModel) {
  const std::string vnote =
      "BEGIN:VNOTE\r\nVERSION:1.1\r\nSUMMARY:Ideas\r\nBODY:a "
      "portal\r\nCATEGORIES:work\r\nX-COLOUR:blue\r\nEND:VNOTE\r\n";
  auto note = note_from_stored(vnote, "text/x-vnote", "1.1");
  ASSERT_TRUE(note);
  EXPECT_EQ((*note)["title"], "Ideas");
  EXPECT_EQ((*note)["body"], "a portal");
  (*note)["body"] = "a portal and a page";
  std::vector<InvalidProperty> invalid;
  auto text = stored_from_note(*note, vnote, "text/x-vnote", "1.1", invalid);
  ASSERT_TRUE(text);
  EXPECT_NE(text->find("CATEGORIES:work"), std::string::npos) << *text;
  EXPECT_NE(text->find("X-COLOUR:blue"), std::string::npos) << *text;
  EXPECT_EQ((*note_from_stored(*text, "text/x-vnote", "1.1"))["body"], "a portal and a page");
}

TEST(JsNoteTest, InvalidPropertiesAreNamed) {
  std::vector<InvalidProperty> invalid;
  EXPECT_FALSE(
      stored_from_note(json::parse(R"({"title":"a\nb","body":3,"colour":"red"})"), "", "text/plain", "1.0", invalid));
  std::vector<std::string> paths;
  for (const auto& p : invalid) paths.push_back(p.path);
  std::sort(paths.begin(), paths.end());
  EXPECT_EQ(paths, (std::vector<std::string>{"body", "colour", "title"}));
}

}  // namespace
}  // namespace conflux::portal
