#include "fuzz/properties.h"

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <vector>

namespace conflux::fuzz {
namespace {

using protocol::Command;
using protocol::Item;
using protocol::LocRef;
using protocol::MapItem;
using protocol::Message;
using protocol::Meta;

// Quoted and cut short: item data can be large and binary.
std::string show(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s.substr(0, 80)) {
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  out += s.size() > 80 ? "\"…(" + std::to_string(s.size()) + " bytes)" : "\"";
  return out;
}

std::string show(uint64_t v) { return std::to_string(v); }
std::string show(int v) { return std::to_string(v); }
std::string show(bool v) { return v ? "true" : "false"; }

// Collects the first difference; later comparisons are skipped once one is found.
class Differ {
 public:
  explicit Differ(RoundTrip rule) : rule_(rule) {}
  const std::string& result() const { return diff_; }

  template <typename T>
  void value(const std::string& path, const T& a, const T& b) {
    if (diff_.empty() && !(a == b)) diff_ = path + ": " + show(a) + " vs " + show(b);
  }

  template <typename T, typename Fn>
  void optional(const std::string& path, const std::optional<T>& a, const std::optional<T>& b, Fn&& fn) {
    if (!diff_.empty()) return;
    if (a.has_value() != b.has_value()) {
      diff_ = path + ": " + (a ? "present" : "absent") + " vs " + (b ? "present" : "absent");
      return;
    }
    if (a) fn(path, *a, *b);
  }

  template <typename T, typename Fn>
  void list(const std::string& path, const std::vector<T>& a, const std::vector<T>& b, Fn&& fn) {
    if (!diff_.empty()) return;
    if (a.size() != b.size()) {
      diff_ = path + ".size: " + std::to_string(a.size()) + " vs " + std::to_string(b.size());
      return;
    }
    for (size_t i = 0; i < a.size() && diff_.empty(); ++i) fn(path + "[" + std::to_string(i) + "]", a[i], b[i]);
  }

  void loc_ref(const std::string& p, const LocRef& a, const LocRef& b) {
    value(p + ".loc_uri", a.loc_uri, b.loc_uri);
    value(p + ".loc_name", a.loc_name, b.loc_name);
  }

  void meta(const std::string& p, const Meta& a, const Meta& b) {
    value(p + ".type", a.type, b.type);
    value(p + ".format", a.format, b.format);
    value(p + ".version", a.version, b.version);
    value(p + ".mark", a.mark, b.mark);
    value(p + ".next_nonce", a.next_nonce, b.next_nonce);
    auto number = [this](const std::string& q, uint64_t x, uint64_t y) { value(q, x, y); };
    optional(p + ".size", a.size, b.size, number);
    optional(p + ".max_msg_size", a.max_msg_size, b.max_msg_size, number);
    optional(p + ".max_obj_size", a.max_obj_size, b.max_obj_size, number);
    optional(p + ".anchor", a.anchor, b.anchor, [this](const std::string& q, const auto& x, const auto& y) {
      optional(q + ".last", x.last, y.last,
               [this](const std::string& r, const std::string& s, const std::string& t) { value(r, s, t); });
      value(q + ".next", x.next, y.next);
    });
  }

  void item(const std::string& p, const Item& a, const Item& b) {
    auto ref = [this](const std::string& q, const LocRef& x, const LocRef& y) { loc_ref(q, x, y); };
    optional(p + ".target", a.target, b.target, ref);
    optional(p + ".source", a.source, b.source, ref);
    optional(p + ".source_parent", a.source_parent, b.source_parent, ref);
    optional(p + ".target_parent", a.target_parent, b.target_parent, ref);
    optional(p + ".meta", a.meta, b.meta,
             [this](const std::string& q, const Meta& x, const Meta& y) { meta(q, x, y); });
    const bool xml_as_text = rule_ == RoundTrip::kXmlDataMayBecomeText && a.data_kind == protocol::DataKind::kXml &&
                             b.data_kind == protocol::DataKind::kText;
    if (!xml_as_text) value(p + ".data_kind", static_cast<int>(a.data_kind), static_cast<int>(b.data_kind));
    value(p + ".data", a.data, b.data);
    value(p + ".more_data", a.more_data, b.more_data);
  }

  void command(const std::string& p, const Command& a, const Command& b) {
    value(p + ".kind", std::string(protocol::command_name(a.kind)), std::string(protocol::command_name(b.kind)));
    value(p + ".cmd_id", uint64_t{a.cmd_id}, uint64_t{b.cmd_id});
    value(p + ".no_resp", a.no_resp, b.no_resp);
    optional(p + ".cred", a.cred, b.cred, [this](const std::string& q, const auto& x, const auto& y) {
      meta(q + ".meta", x.meta, y.meta);
      value(q + ".data", x.data, y.data);
    });
    optional(p + ".meta", a.meta, b.meta,
             [this](const std::string& q, const Meta& x, const Meta& y) { meta(q, x, y); });
    list(p + ".items", a.items, b.items, [this](const std::string& q, const Item& x, const Item& y) { item(q, x, y); });
    value(p + ".code", a.code, b.code);
    value(p + ".msg_ref", a.msg_ref, b.msg_ref);
    value(p + ".cmd_ref", a.cmd_ref, b.cmd_ref);
    value(p + ".cmd_name", a.cmd_name, b.cmd_name);
    auto str = [this](const std::string& q, const std::string& x, const std::string& y) { value(q, x, y); };
    list(p + ".target_refs", a.target_refs, b.target_refs, str);
    list(p + ".source_refs", a.source_refs, b.source_refs, str);
    optional(p + ".chal", a.chal, b.chal,
             [this](const std::string& q, const auto& x, const auto& y) { meta(q + ".meta", x.meta, y.meta); });
    auto ref = [this](const std::string& q, const LocRef& x, const LocRef& y) { loc_ref(q, x, y); };
    optional(p + ".target", a.target, b.target, ref);
    optional(p + ".source", a.source, b.source, ref);
    optional(p + ".number_of_changes", a.number_of_changes, b.number_of_changes,
             [this](const std::string& q, uint32_t x, uint32_t y) { value(q, uint64_t{x}, uint64_t{y}); });
    list(p + ".map_items", a.map_items, b.map_items, [this](const std::string& q, const MapItem& x, const MapItem& y) {
      value(q + ".target", x.target, y.target);
      value(q + ".source", x.source, y.source);
    });
    list(p + ".children", a.children, b.children,
         [this](const std::string& q, const Command& x, const Command& y) { command(q, x, y); });
    value(p + ".archive", a.archive, b.archive);
    value(p + ".sft_del", a.sft_del, b.sft_del);
    value(p + ".lang", a.lang, b.lang);
  }

  void message(const Message& a, const Message& b) {
    value("version", static_cast<int>(a.version), static_cast<int>(b.version));
    value("hdr.ver_dtd", a.hdr.ver_dtd, b.hdr.ver_dtd);
    value("hdr.ver_proto", a.hdr.ver_proto, b.hdr.ver_proto);
    value("hdr.session_id", a.hdr.session_id, b.hdr.session_id);
    value("hdr.msg_id", a.hdr.msg_id, b.hdr.msg_id);
    loc_ref("hdr.target", a.hdr.target, b.hdr.target);
    loc_ref("hdr.source", a.hdr.source, b.hdr.source);
    value("hdr.resp_uri", a.hdr.resp_uri, b.hdr.resp_uri);
    value("hdr.no_resp", a.hdr.no_resp, b.hdr.no_resp);
    optional("hdr.cred", a.hdr.cred, b.hdr.cred, [this](const std::string& q, const auto& x, const auto& y) {
      meta(q + ".meta", x.meta, y.meta);
      value(q + ".data", x.data, y.data);
    });
    optional("hdr.meta", a.hdr.meta, b.hdr.meta,
             [this](const std::string& q, const Meta& x, const Meta& y) { meta(q, x, y); });
    list("commands", a.commands, b.commands,
         [this](const std::string& q, const Command& x, const Command& y) { command(q, x, y); });
    value("final", a.final, b.final);
  }

 private:
  const RoundTrip rule_;
  std::string diff_;
};

}  // namespace

std::string message_diff(const Message& a, const Message& b, RoundTrip rule) {
  Differ d(rule);
  d.message(a, b);
  return d.result();
}

protocol::DecodeLimits fuzz_limits() {
  protocol::DecodeLimits limits;
  limits.max_depth = 24;
  limits.max_elements = 4000;
  limits.max_commands = 500;
  return limits;
}

std::string hex(std::string_view bytes, size_t max) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes.substr(0, max)) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  if (bytes.size() > max) out += "…";
  return out;
}

Result<Message> check_codec(std::string_view input, DecodeFn decode, EncodeFn encode, std::string_view codec,
                            RoundTrip rule) {
  const std::string name(codec);
  auto first = decode(input, fuzz_limits());
  if (!first) {
    const StatusCode code = first.error().code();
    if (code != StatusCode::kInvalidArgument && code != StatusCode::kResourceExhausted) {
      property_failed(name + " rejected input with an unexpected status", first.error().to_string());
    }
    return first;
  }
  const std::string encoded = encode(*first);
  auto second = decode(encoded, protocol::DecodeLimits{});
  if (!second) {
    property_failed(name + ": our own encoding does not decode",
                    second.error().to_string() + "\nencoded (hex): " + hex(encoded, 4096));
  }
  // The one normalisation the encoders document by code: an empty VerDTD or
  // VerProto is written as the message version's (add_header), so an input
  // with <VerDTD/> comes back with "1.2". The server never re-encodes what a
  // client sent, so this is not a finding; compare against that form.
  Message expected = *first;
  if (expected.hdr.ver_dtd.empty()) expected.hdr.ver_dtd = protocol::ver_dtd(expected.version);
  if (expected.hdr.ver_proto.empty()) expected.hdr.ver_proto = protocol::ver_proto(expected.version);
  if (std::string diff = message_diff(expected, *second, rule); !diff.empty()) {
    property_failed(name + ": decode(encode(m)) != m", diff + "\nencoded (hex): " + hex(encoded, 4096));
  }
  return first;
}

void property_failed(std::string_view what, std::string_view detail) {
  std::fprintf(stderr, "\n*** property failed: %.*s\n%.*s\n", static_cast<int>(what.size()), what.data(),
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

}  // namespace conflux::fuzz
