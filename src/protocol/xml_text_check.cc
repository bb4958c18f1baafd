#include "protocol/xml_text_check.h"

#include "common/utf8.h"

#include <cctype>
#include <cstdint>
#include <string>

namespace conflux::protocol {
namespace {

bool known_entity(std::string_view name) {
  if (name == "lt" || name == "gt" || name == "amp" || name == "apos" || name == "quot") return true;
  if (name.size() < 2 || name[0] != '#') return false;
  std::string_view digits = name.substr(1);
  bool hex = false;
  if (digits[0] == 'x') {
    hex = true;
    digits.remove_prefix(1);
  }
  if (digits.empty()) return false;
  for (char c : digits) {
    const bool ok = hex ? std::isxdigit(static_cast<unsigned char>(c)) : std::isdigit(static_cast<unsigned char>(c));
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Status check_xml_text(std::string_view xml) {
  if (!is_valid_utf8(xml)) return Status::invalid_argument("message is not valid UTF-8");
  for (size_t i = 0; i < xml.size(); ++i) {
    if (xml.compare(i, 9, "<![CDATA[") == 0) {
      const size_t end = xml.find("]]>", i);
      if (end == std::string_view::npos) return Status::invalid_argument("unterminated CDATA section");
      i = end + 2;
    } else if (xml.compare(i, 4, "<!--") == 0) {
      const size_t end = xml.find("-->", i);
      if (end == std::string_view::npos) return Status::invalid_argument("unterminated comment");
      i = end + 2;
    } else if (xml[i] == '&') {
      const size_t semi = xml.find(';', i);
      if (semi == std::string_view::npos || semi - i > 12 || !known_entity(xml.substr(i + 1, semi - i - 1))) {
        return Status::invalid_argument("undeclared entity or stray '&' at byte " + std::to_string(i));
      }
    }
  }
  return Status::ok();
}

}  // namespace conflux::protocol
