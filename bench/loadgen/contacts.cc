#include "contacts.h"

#include <array>
#include <cstdio>
#include <random>
#include <string_view>
#include <vector>

#include "common/base64.h"

namespace conflux::loadgen {
namespace {

constexpr std::array<std::string_view, 24> kGiven = {"Anna",  "Jürgen",   "Zoë",    "Hélène", "Søren",      "Mateo",
                                                     "Aiko",  "Olusegun", "Priya",  "Liam",   "Małgorzata", "José",
                                                     "Yuki",  "Ingrid",   "Dmitri", "Chloé",  "Björn",      "Fatima",
                                                     "Kenji", "Noémie",   "Ruairí", "Ximena", "Tomasz",     "Elif"};
constexpr std::array<std::string_view, 22> kFamily = {
    "Müller",   "Dubois",    "Sørensen",   "García",    "Tanaka",     "Okafor",  "Sharma", "O'Brien",
    "Kowalski", "Fernández", "Nakamura",   "Lindqvist", "Petrov",     "Lefèvre", "Åberg",  "Haddad",
    "Yamamoto", "Moreau",    "Ní Bhriain", "Hernández", "Wiśniewski", "Yılmaz"};
// Mailbox-safe spellings of kGiven / kFamily, index for index.
constexpr std::array<std::string_view, 24> kGivenAscii = {
    "anna",  "jurgen", "zoe",        "helene", "soren",  "mateo",  "aiko",   "olusegun",
    "priya", "liam",   "malgorzata", "jose",   "yuki",   "ingrid", "dmitri", "chloe",
    "bjorn", "fatima", "kenji",      "noemie", "ruairi", "ximena", "tomasz", "elif"};
constexpr std::array<std::string_view, 22> kFamilyAscii = {
    "muller",   "dubois",    "sorensen",  "garcia",    "tanaka",     "okafor",  "sharma", "obrien",
    "kowalski", "fernandez", "nakamura",  "lindqvist", "petrov",     "lefevre", "aberg",  "haddad",
    "yamamoto", "moreau",    "nibhriain", "hernandez", "wisniewski", "yilmaz"};

struct Place {
  std::string_view street, locality, region, code, country;
};
constexpr std::array<Place, 8> kPlaces = {{
    {"Königstraße 12", "Stuttgart", "Baden-Württemberg", "70173", "Deutschland"},
    {"8 rue de l'Église", "Besançon", "", "25000", "France"},
    {"Østergade 3", "København", "", "1100", "Danmark"},
    {"丸の内1-1-1", "東京", "東京都", "100-0005", "日本"},
    {"Calle de Alcalá 45", "Madrid", "", "28014", "España"},
    {"221b Baker Street", "London", "", "NW1 6XE", "United Kingdom"},
    {"Torggata 5", "Tromsø", "Troms", "9008", "Norge"},
    {"Rua Augusta 100", "Lisboa", "", "1100-053", "Portugal"},
}};
constexpr std::array<std::pair<std::string_view, std::string_view>, 6> kOrgs = {{
    {"Müller & Söhne GmbH", "Vertrieb"},
    {"Café Crème SARL", ""},
    {"株式会社サンプル", "開発部"},
    {"Nordlys AS", "Drift; Support"},
    {"Acme, Inc.", "R&D"},
    {"Universidad de Alcalá", "Física"},
}};
constexpr std::array<std::string_view, 7> kTitles = {
    "Engineer", "Directrice générale", "Sales Manager", "Senior Developer", "Chef de projet", "部長", "Consultant"};
constexpr std::array<std::string_view, 6> kCategories = {"Family", "Friends", "Work", "VIP", "Sports Club", "Café"};
constexpr std::array<std::string_view, 7> kTelTypes = {"CELL,VOICE", "WORK,VOICE", "HOME,VOICE", "WORK,FAX",
                                                       "HOME",       "CELL",       "PAGER"};
constexpr std::array<std::string_view, 6> kNotes = {
    "Met at the conference in Zürich, 2019; likes coffee, not tea.",
    "Prefers e-mail; call only after 18:00.",
    "Allergies: nuts; shellfish. Birthday party every year, usually in June.",
    "Line one\nLine two, with a comma; and a semicolon.",
    "Back-slash test: C:\\Users\\anna, done.",
    "Grüße aus München — schöne Tage!",
};
constexpr std::array<int, 7> kCountryCodes = {33, 44, 45, 49, 81, 34, 47};

// A fixed generator (not std::uniform_int_distribution, whose output differs
// between standard libraries) so the cards are the same everywhere.
class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}
  uint64_t below(uint64_t n) { return engine_() % n; }
  template <typename Array>
  const auto& pick(const Array& a) {
    return a[below(a.size())];
  }

 private:
  std::mt19937_64 engine_;
};

// RFC 2426 TEXT escaping: backslash, comma, semicolon, newline.
std::string escape_text(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == ',' || c == ';') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// Folds one content line at 75 octets (RFC 2425 §5.8.1); a continuation
// starts with a space and never splits a UTF-8 sequence.
std::string fold(const std::string& line) {
  std::string out;
  size_t width = 0;
  for (size_t i = 0; i < line.size();) {
    const auto lead = static_cast<unsigned char>(line[i]);
    const size_t n = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    if (width + n > 75) {
      out += "\r\n ";
      width = 1;
    }
    out.append(line, i, n);
    width += n;
    i += n;
  }
  return out;
}

std::string phone(Rng& rng) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "+%d %d %07d", rng.pick(kCountryCodes), static_cast<int>(10 + rng.below(989)),
                static_cast<int>(rng.below(10'000'000)));
  return buf;
}

std::string address(const Place& p) {
  return ";;" + escape_text(p.street) + ";" + escape_text(p.locality) + ";" + escape_text(p.region) + ";" +
         escape_text(p.code) + ";" + escape_text(p.country);
}

// A few hundred bytes that look like a JPEG (SOI, APP0/JFIF, payload, EOI);
// nothing decodes it, it only gives the card a realistic size.
std::string fake_jpeg(Rng& rng, size_t size) {
  std::string bytes = "\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x01\x00\x48\x00\x48\x00\x00";
  for (size_t i = 0; i < size; ++i) bytes += static_cast<char>(rng.below(256));
  return bytes + "\xff\xd9";
}

}  // namespace

std::string make_contact(uint64_t index, uint32_t seed) {
  Rng rng(seed * 1000003ULL + index);
  const size_t given = rng.below(kGiven.size());
  const size_t family = rng.below(kFamily.size());
  const std::string_view middle = index % 3 ? "" : std::array<std::string_view, 3>{"Maria", "J.", "van"}[rng.below(3)];
  const std::string number = std::to_string(index);
  std::vector<std::string> lines = {
      "BEGIN:VCARD",
      "VERSION:3.0",
      "N:" + escape_text(kFamily[family]) + ";" + escape_text(kGiven[given]) + ";" + escape_text(middle) + ";;",
      "FN:" + escape_text(std::string(kGiven[given]) + " " + std::string(kFamily[family]) + " " + number),
  };
  const uint64_t phones = 1 + rng.below(3);
  const size_t first_type = rng.below(kTelTypes.size());
  for (uint64_t i = 0; i < phones; ++i) {
    lines.push_back("TEL;TYPE=" + std::string(kTelTypes[(first_type + i) % kTelTypes.size()]) + ":" + phone(rng));
  }
  const std::string mailbox = std::string(kGivenAscii[given]) + "." + std::string(kFamilyAscii[family]);
  lines.push_back("EMAIL;TYPE=INTERNET,WORK:" + mailbox + "." + std::to_string(seed) + "." + number + "@example.org");
  if (index % 2) lines.push_back("EMAIL;TYPE=INTERNET,HOME:" + mailbox + number + "@mail.example.net");
  lines.push_back("ADR;TYPE=WORK:" + address(rng.pick(kPlaces)));
  if (index % 4 == 0) lines.push_back("ADR;TYPE=HOME:" + address(rng.pick(kPlaces)));
  const auto& [org, unit] = rng.pick(kOrgs);
  lines.push_back("ORG:" + escape_text(org) + (unit.empty() ? "" : ";" + escape_text(unit)));
  lines.push_back("TITLE:" + escape_text(rng.pick(kTitles)));
  lines.push_back("NOTE:" + escape_text(std::string(rng.pick(kNotes)) + " (ref " + number + ")"));
  char bday[16];
  std::snprintf(bday, sizeof bday, "%04d-%02d-%02d", static_cast<int>(1940 + rng.below(65)),
                static_cast<int>(1 + rng.below(12)), static_cast<int>(1 + rng.below(28)));
  lines.push_back(std::string("BDAY:") + bday);
  if (index % 3 != 1) {
    lines.push_back("URL:https://www.example.com/people/" + std::string(kGivenAscii[given]) + "-" + number);
  }
  const size_t category = rng.below(kCategories.size());
  std::string categories = escape_text(kCategories[category]);
  if (rng.below(2)) categories += "," + escape_text(kCategories[(category + 1) % kCategories.size()]);
  lines.push_back("CATEGORIES:" + categories);
  if (index % 5 == 0) {
    lines.push_back("PHOTO;ENCODING=b;TYPE=JPEG:" + base64_encode(fake_jpeg(rng, 200 + rng.below(200))));
  }
  lines.push_back("UID:conflux-load-" + std::to_string(seed) + "-" + number);
  lines.push_back("END:VCARD");
  std::string card;
  for (const auto& line : lines) card += fold(line) + "\r\n";
  return card;
}

std::string edit_contact(const std::string& card, uint64_t revision) {
  const std::string note = fold("NOTE:Edited on the device\\, revision " + std::to_string(revision)) + "\r\n";
  const size_t begin = card.find("\r\nNOTE:");
  if (begin == std::string::npos) {
    const size_t end = card.rfind("END:VCARD");
    return card.substr(0, end) + note + card.substr(end);
  }
  // The NOTE runs to the first line break not followed by a fold.
  size_t end = begin + 2;
  while ((end = card.find("\r\n", end)) != std::string::npos && card.compare(end + 2, 1, " ") == 0) end += 2;
  return card.substr(0, begin + 2) + note + card.substr(end + 2);
}

}  // namespace conflux::loadgen
