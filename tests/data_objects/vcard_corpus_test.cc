// The corpus walk (data objects issue, acceptance): every vCard in
// tests/data/vcard parses; written back in its own version and parsed again it
// is equal field by field; converted to each other version and back, no field
// is lost; malformed inputs give kInvalidArgument naming the line.
// "A field both versions can hold" is every property here: what one version
// lacks is carried under an X-VCARD4- / X-VCARD3- name by the other and
// restored (vcard_write.cc), so the round trip must give back all fields.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "data/contact.h"
#include "data/vcard.h"
#include "field_key.h"

namespace conflux::data {
namespace {

namespace fs = std::filesystem;
using testing::field_keys;
using testing::missing_keys;

const fs::path kVcardDir = fs::path(CONFLUX_TEST_DATA_DIR) / "vcard";

// Files in the vCard folder that hold no vCard at all.
const char* const kNotVcards[] = {"libical/user-cal.vcf"};  // a vCalendar 1.0 file

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<fs::path> corpus_files(const std::string& exclude_dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(kVcardDir)) {
    if (!entry.is_regular_file() || entry.path().filename() == "MANIFEST.md") continue;
    auto rel = fs::relative(entry.path(), kVcardDir);
    if (rel.begin()->string() == exclude_dir) continue;
    files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

bool is_not_vcard(const fs::path& path) {
  auto rel = fs::relative(path, kVcardDir).generic_string();
  return std::find(std::begin(kNotVcards), std::end(kNotVcards), rel) != std::end(kNotVcards);
}

std::string describe(const std::vector<std::string>& keys) {
  std::string out;
  for (const auto& k : keys) out += "\n    " + k.substr(0, 160);
  return out;
}

const VCardVersion kVersions[] = {VCardVersion::k21, VCardVersion::k30, VCardVersion::k40};

TEST(VCardCorpusTest, EveryCardParsesRoundTripsAndConvertsWithoutLoss) {
  auto files = corpus_files("malformed");
  ASSERT_GE(files.size(), 30u) << "corpus not found under " << kVcardDir;
  size_t cards_seen = 0;
  for (const auto& path : files) {
    SCOPED_TRACE(path.string());
    auto cards = parse_vcards(read_file(path));
    if (is_not_vcard(path)) {
      ASSERT_FALSE(cards.has_value());
      EXPECT_EQ(cards.error().code(), StatusCode::kInvalidArgument);
      continue;
    }
    ASSERT_TRUE(cards.has_value()) << cards.error().to_string();
    for (size_t i = 0; i < cards->size(); ++i) {
      SCOPED_TRACE("card " + std::to_string(i + 1));
      const VCard& card = (*cards)[i];
      ++cards_seen;
      auto original = field_keys(card);

      // Own format.
      std::string own = write_vcard(card, card.version);
      auto reparsed = parse_vcard(own);
      ASSERT_TRUE(reparsed.has_value()) << reparsed.error().to_string() << "\n" << own;
      auto again = field_keys(*reparsed);
      EXPECT_EQ(original, again) << "lost:" << describe(missing_keys(original, again))
                                 << "\n  gained:" << describe(missing_keys(again, original)) << "\n"
                                 << own;

      // Every other version and back.
      for (VCardVersion other : kVersions) {
        if (other == card.version) continue;
        SCOPED_TRACE(std::string("via ") + vcard_version_name(other));
        std::string converted = write_vcard(card, other);
        auto there = parse_vcard(converted);
        ASSERT_TRUE(there.has_value()) << there.error().to_string() << "\n" << converted;
        EXPECT_EQ(there->version, other);
        std::string back_text = write_vcard(*there, card.version);
        auto back = parse_vcard(back_text);
        ASSERT_TRUE(back.has_value()) << back.error().to_string() << "\n" << back_text;
        auto back_keys = field_keys(*back);
        EXPECT_EQ(original, back_keys) << "lost:" << describe(missing_keys(original, back_keys))
                                       << "\n  gained:" << describe(missing_keys(back_keys, original)) << "\n"
                                       << converted;
      }

      // As a data object: identity key is stable across versions.
      auto contact = Contact::parse(own);
      ASSERT_TRUE(contact.has_value());
      for (VCardVersion other : kVersions) {
        auto converted = Contact::parse(write_vcard(card, other));
        ASSERT_TRUE(converted.has_value());
        EXPECT_EQ((*contact)->identity_key(), (*converted)->identity_key());
      }
    }
  }
  // 110 cards in 34 vCard files at the time of writing.
  EXPECT_GE(cards_seen, 100u);
  std::cout << "[ corpus ] " << files.size() << " files, " << cards_seen << " vCards\n";
}

TEST(VCardCorpusTest, MalformedInputsFailCleanly) {
  size_t seen = 0;
  for (const auto& entry : fs::directory_iterator(kVcardDir / "malformed")) {
    SCOPED_TRACE(entry.path().string());
    ++seen;
    auto cards = parse_vcards(read_file(entry.path()));
    ASSERT_FALSE(cards.has_value());
    EXPECT_EQ(cards.error().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(cards.error().message().find("line "), std::string::npos) << cards.error().message();
  }
  EXPECT_EQ(seen, 3u);
}

// Every prefix of every corpus file: broken input (a card cut anywhere) gives
// a status or a card, never a crash (run under ASan/UBSan).
TEST(VCardCorpusTest, TruncatedInputsNeverCrash) {
  for (const auto& path : corpus_files("")) {
    std::string bytes = read_file(path);
    size_t step = bytes.size() > 4000 ? 97 : 7;
    for (size_t n = 0; n < bytes.size(); n += step) {
      auto cards = parse_vcards(std::string_view(bytes).substr(0, n));
      if (!cards) {
        EXPECT_EQ(cards.error().code(), StatusCode::kInvalidArgument);
        continue;
      }
      for (const auto& card : *cards) {
        for (VCardVersion v : kVersions) EXPECT_TRUE(parse_vcard(write_vcard(card, v)).has_value());
      }
    }
  }
}

}  // namespace
}  // namespace conflux::data
