#include "protocol/xml_text_check.h"

#include "common/utf8.h"

#include <cctype>
#include <cstdint>
#include <string>

namespace conflux::protocol {
namespace {

// XML 1.0 §2.2 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] |
// [#x10000-#x10FFFF]. A character reference must name one too (§4.1 WFC:
// Legal Character), so "&#0;" is not well-formed.
bool xml_char(uint32_t c) {
  return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) || (c >= 0xE000 && c <= 0xFFFD) ||
         (c >= 0x10000 && c <= 0x10FFFF);
}

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
  uint32_t value = 0;
  for (char c : digits) {
    const bool ok = hex ? std::isxdigit(static_cast<unsigned char>(c)) : std::isdigit(static_cast<unsigned char>(c));
    if (!ok) return false;
    const uint32_t d = std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : (std::tolower(c) - 'a' + 10);
    value = value * (hex ? 16 : 10) + d;
    if (value > 0x10FFFF) return false;  // also keeps the sum from overflowing
  }
  return xml_char(value);
}

Status control_character_error(std::string_view xml, size_t at) {
  return Status::invalid_argument("control character " + std::to_string(static_cast<int>(xml[at])) + " at byte " +
                                  std::to_string(at) + " (not allowed in XML 1.0)");
}

bool forbidden_control(char c) {
  return static_cast<unsigned char>(c) < 0x20 && !xml_char(static_cast<unsigned char>(c));
}

// A CDATA section or comment is Char* too (XML 1.0 §2.5, §2.7): only entity
// references are literal inside them, so their bytes get the control check.
Status check_controls(std::string_view xml, size_t from, size_t to) {
  for (size_t i = from; i < to; ++i) {
    if (forbidden_control(xml[i])) return control_character_error(xml, i);
  }
  return Status::ok();
}

}  // namespace

Status check_xml_text(std::string_view xml) {
  if (!is_valid_utf8(xml)) return Status::invalid_argument("message is not valid UTF-8");
  for (size_t i = 0; i < xml.size(); ++i) {
    if (xml.compare(i, 9, "<![CDATA[") == 0) {
      const size_t end = xml.find("]]>", i);
      if (end == std::string_view::npos) return Status::invalid_argument("unterminated CDATA section");
      if (Status s = check_controls(xml, i, end); !s.is_ok()) return s;
      i = end + 2;
    } else if (xml.compare(i, 4, "<!--") == 0) {
      const size_t end = xml.find("-->", i);
      if (end == std::string_view::npos) return Status::invalid_argument("unterminated comment");
      if (Status s = check_controls(xml, i, end); !s.is_ok()) return s;
      i = end + 2;
    } else if (forbidden_control(xml[i])) {
      return control_character_error(xml, i);
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
