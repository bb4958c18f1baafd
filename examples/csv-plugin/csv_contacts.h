// Contacts as rows of a CSV address book in the column layout Google Contacts
// and Outlook export, and as vCard 3.0. Only what both hold: names, nickname,
// birthday, notes, up to three e-mail addresses and three phones, company and
// job title. Plain C++17, no Conflux headers: the plugin's own business.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace csv_plugin {

enum class Layout { kGoogle, kOutlook };

// The column that keeps each row's Conflux id; added to a book that lacks it.
// Google's and Outlook's importers ignore columns they do not know.
inline constexpr const char* kIdColumn = "Conflux ID";

struct Contact {
  std::string id;  // the Conflux id (kIdColumn)
  std::string formatted_name, given, additional, family, prefix, suffix;
  std::string nickname, birthday, note, organization, title;
  std::vector<std::pair<std::string, std::string>> emails;  // (type, address); type "Home", "Work", "Other"
  std::vector<std::pair<std::string, std::string>> phones;  // (type, number); "Mobile", "Home", "Work", "Other"
};

// RFC 4180: records of fields, quoted when they hold , " CR or LF. A UTF-8
// byte order mark (Outlook writes one) is skipped.
std::vector<std::vector<std::string>> parse_csv(const std::string& text);
std::string write_csv_record(const std::vector<std::string>& fields);

// The header row of a layout, and the layout a header row is in (false: neither).
std::vector<std::string> header_of(Layout layout);
bool detect_layout(const std::vector<std::string>& header, Layout& layout);

Contact from_row(Layout layout, const std::vector<std::string>& header, const std::vector<std::string>& row);
std::vector<std::string> to_row(Layout layout, const std::vector<std::string>& header, const Contact& contact);

// vCard 2.1, 3.0 or 4.0 in; false when it is no vCard.
bool from_vcard(const std::string& vcard, Contact& contact);
std::string to_vcard(const Contact& contact);

}  // namespace csv_plugin
