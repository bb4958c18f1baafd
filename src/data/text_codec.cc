#include "data/text_codec.h"

#include <iconv.h>

#include <algorithm>
#include <cerrno>

namespace conflux::data {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Charset spellings seen on devices that iconv does not know by that name.
std::string iconv_name(std::string_view charset) {
  std::string up = ascii_upper(charset);
  if (up == "UTF8") return "UTF-8";
  if (up == "ANSI" || up == "CP1252") return "WINDOWS-1252";
  if (up == "LATIN1") return "ISO-8859-1";
  return up;
}

}  // namespace

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string ascii_upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 'a' + 'A');
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 'a' + 'A');
    if (x != y) return false;
  }
  return true;
}

std::string qp_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c != '=') {
      out.push_back(c);
      continue;
    }
    // Soft break: "=\r\n" or "=\n" (and a lone "=" at the very end).
    if (i + 1 == text.size()) break;
    if (text[i + 1] == '\n') {
      ++i;
      continue;
    }
    if (text[i + 1] == '\r' && i + 2 < text.size() && text[i + 2] == '\n') {
      i += 2;
      continue;
    }
    if (i + 2 < text.size()) {
      int hi = hex_value(text[i + 1]);
      int lo = hex_value(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back('=');  // stray '=': keep it
  }
  return out;
}

std::string qp_encode(std::string_view bytes, size_t first_line_room) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  static constexpr size_t kLineMax = 75;  // plus the '=' of the soft break
  std::string out;
  size_t room = first_line_room < 4 ? 4 : first_line_room;
  size_t used = 0;
  auto emit = [&](std::string_view piece) {
    if (used + piece.size() > room) {
      out += "=\r\n";
      room = kLineMax;
      used = 0;
    }
    out += piece;
    used += piece.size();
  };
  for (size_t i = 0; i < bytes.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(bytes[i]);
    bool last = i + 1 == bytes.size();
    if (c == '\n') {
      emit("=0D=0A");
      continue;
    }
    bool plain = (c >= 33 && c <= 126 && c != '=') || (c == ' ' && !last);
    if (plain) {
      char s[1] = {static_cast<char>(c)};
      emit(std::string_view(s, 1));
    } else {
      char s[3] = {'=', kHex[c >> 4], kHex[c & 15]};
      emit(std::string_view(s, 3));
    }
  }
  return out;
}

std::string text_line_10(const std::string& name, std::string_view value) {
  std::string escaped;
  for (char c : value) {
    if (c == '\\' || c == ';') escaped.push_back('\\');
    escaped.push_back(c);
  }
  bool plain = std::all_of(escaped.begin(), escaped.end(), [](char c) {
    return static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f;
  });
  if (plain && (escaped.empty() || (escaped.front() != ' ' && escaped.back() != ' '))) {
    return name + ":" + escaped + "\r\n";
  }
  std::string head = name + ";CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:";
  return head + qp_encode(escaped, head.size() < 70 ? 75 - head.size() : 5) + "\r\n";
}

Result<std::string> to_utf8(std::string_view bytes, std::string_view charset) {
  std::string name = iconv_name(charset);
  if (name == "UTF-8" || name == "US-ASCII" || name == "ASCII") {
    if (!is_valid_utf8(bytes)) return Status::invalid_argument("bytes are not valid " + name);
    return std::string(bytes);
  }
  iconv_t cd = iconv_open("UTF-8", name.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1)) {  // NOLINT(performance-no-int-to-ptr): iconv_open's error value
    return Status::invalid_argument("unsupported CHARSET " + std::string(charset));
  }
  std::string out;
  std::string in(bytes);
  char* in_ptr = in.data();
  size_t in_left = in.size();
  char buf[1024];
  Status status;
  while (in_left > 0) {
    char* out_ptr = buf;
    size_t out_left = sizeof buf;
    size_t rc = iconv(cd, &in_ptr, &in_left, &out_ptr, &out_left);
    out.append(buf, static_cast<size_t>(out_ptr - buf));
    if (rc == static_cast<size_t>(-1) && errno != E2BIG) {
      status = Status::invalid_argument("bytes are not valid " + std::string(charset));
      break;
    }
  }
  iconv_close(cd);
  if (!status.is_ok()) return status;
  return out;
}

size_t utf8_prefix_length(std::string_view text, size_t max_octets) {
  if (text.size() <= max_octets) return text.size();
  size_t n = max_octets;
  // Step back over continuation bytes so the cut lands on a sequence start.
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  return n == 0 ? max_octets : n;
}

std::string undeclared_to_utf8(std::string_view bytes) {
  if (is_valid_utf8(bytes)) return std::string(bytes);
  if (auto cp1252 = to_utf8(bytes, "WINDOWS-1252")) return std::move(*cp1252);
  auto latin1 = to_utf8(bytes, "ISO-8859-1");
  return latin1 ? std::move(*latin1) : std::string();  // every byte is ISO-8859-1: not reached
}

std::string escape_text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case ';': out += "\\;"; break;
      case ',': out += "\\,"; break;
      case '\n': out += "\\n"; break;
      case '\r': break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string unescape_text(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      const char n = s[i + 1];
      if (n == 'n' || n == 'N') {
        out.push_back('\n');
        ++i;
        continue;
      }
      if (n == ';' || n == ',' || n == '\\') {
        out.push_back(n);
        ++i;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

std::string normalise_newlines(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      out.push_back('\n');
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::vector<std::string> unfold_21_lines(std::string_view bytes) {
  std::vector<std::string> lines;
  bool qp_continues = false;
  size_t pos = 0;
  while (pos <= bytes.size()) {
    size_t end = bytes.find('\n', pos);
    if (end == std::string_view::npos) end = bytes.size();
    std::string raw(bytes.substr(pos, end - pos));
    pos = end + 1;
    if (!raw.empty() && raw.back() == '\r') raw.pop_back();
    if (qp_continues && !lines.empty()) {
      lines.back() += "\n" + raw;
    } else if (!raw.empty() && (raw[0] == ' ' || raw[0] == '\t') && !lines.empty()) {
      lines.back() += raw;
    } else if (!raw.empty()) {
      lines.push_back(raw);
    }
    const std::string head = lines.empty() ? "" : ascii_upper(lines.back().substr(0, lines.back().find(':')));
    qp_continues = !raw.empty() && raw.back() == '=' && head.find("QUOTED-PRINTABLE") != std::string::npos;
  }
  return lines;
}

std::string collapse_lower(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return ascii_lower(out);
}

}  // namespace conflux::data
