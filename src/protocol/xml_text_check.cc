#include "protocol/xml_text_check.h"

#include <cctype>
#include <cstdint>
#include <string>

namespace conflux::protocol {
namespace {

// Length of the UTF-8 sequence starting at s[i], or 0 when it is invalid
// (overlong forms, surrogates and code points above U+10FFFF included).
size_t utf8_sequence_length(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t b0 = byte(i);
  if (b0 < 0x80) return 1;
  size_t len;
  uint32_t cp;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinForLength[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
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
  for (char c : digits) {
    const bool ok = hex ? std::isxdigit(static_cast<unsigned char>(c)) : std::isdigit(static_cast<unsigned char>(c));
    if (!ok) return false;
  }
  return true;
}

}  // namespace

bool is_valid_utf8(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const size_t len = utf8_sequence_length(text, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

Status check_xml_text(std::string_view xml) {
  for (size_t i = 0; i < xml.size();) {
    const size_t len = utf8_sequence_length(xml, i);
    if (len == 0) return Status::invalid_argument("message is not valid UTF-8 at byte " + std::to_string(i));
    i += len;
  }
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
