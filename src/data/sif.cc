#include "data/sif.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <pugixml.hpp>
#include <set>
#include <sstream>
#include <vector>

#include "common/base64.h"
#include "data/contact.h"
#include "data/note.h"
#include "data/sif_detail.h"
#include "data/text_codec.h"
#include "data/vcard.h"

namespace conflux::data {
namespace sif_detail {
namespace {

// Elements kept as X-SIF-<ELEMENT>: the model upper-cases property names, so
// the element's own spelling is recovered from this list when SIF is written
// (an element not listed comes back in upper case, still the same field to a
// SIF client's case-insensitive reader).
constexpr std::array kKnownElements = {"AssistantTelephoneNumber",
                                       "BillingInformation",
                                       "Business2TelephoneNumber",
                                       "BusyStatus",
                                       "CallbackTelephoneNumber",
                                       "Children",
                                       "Companies",
                                       "ComputerNetworkName",
                                       "CustomerID",
                                       "Email1AddressType",
                                       "Email2AddressType",
                                       "Email3AddressType",
                                       "Gender",
                                       "Hobby",
                                       "IMAddress",
                                       "Initials",
                                       "Language",
                                       "MeetingStatus",
                                       "Mileage",
                                       "OfficeLocation",
                                       "OrganizationalIDNumber",
                                       "RadioTelephoneNumber",
                                       "ReplyTime",
                                       "ReminderOptions",
                                       "ReminderSoundFile",
                                       "TelexNumber",
                                       "Color",
                                       "Height",
                                       "Width",
                                       "Left",
                                       "Top",
                                       "TeamTask",
                                       "TotalWork",
                                       "ActualWork",
                                       "YomiCompanyName",
                                       "YomiFirstName",
                                       "YomiLastName",
                                       "Folder",
                                       "Subject",
                                       "Timezone",
                                       "Status",
                                       "Sensitivity",
                                       "Importance",
                                       "Duration",
                                       "Private",
                                       "IsRecurring"};

// The element's text with Windows line ends made LF, as the models hold text.
std::string text_of(const pugi::xml_node& node) {
  std::string out;
  for (const char* c = node.child_value(); *c; ++c) {
    if (*c == '\r') {
      out.push_back('\n');
      if (c[1] == '\n') ++c;
      continue;
    }
    out.push_back(*c);
  }
  return out;
}

}  // namespace

std::string element_for(std::string_view upper) {
  for (std::string_view known : kKnownElements) {
    if (ascii_upper(known) == upper) return std::string(known);
  }
  return std::string(upper);
}

Result<SifFields> read_sif(pugi::xml_document& doc, std::string_view bytes, std::string_view root_name) {
  pugi::xml_parse_result parsed = doc.load_buffer(bytes.data(), bytes.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!parsed) {
    return Status::invalid_argument("SIF is not well-formed XML at offset " + std::to_string(parsed.offset) + ": " +
                                    parsed.description());
  }
  pugi::xml_node root = doc.document_element();
  if (root_name != root.name()) {
    return Status::invalid_argument("SIF root element is <" + std::string(root.name()) + ">, expected <" +
                                    std::string(root_name) + ">");
  }
  SifFields out;
  out.root = root;
  for (pugi::xml_node child : root.children()) {
    if (child.type() != pugi::node_element || child.first_child().type() == pugi::node_element) continue;
    out.in_order.emplace_back(child.name(), text_of(child));
    out.by_name[child.name()] = out.in_order.back().second;
  }
  return out;
}

std::string to_xml(const pugi::xml_document& doc) {
  std::ostringstream out;
  doc.save(out, "", pugi::format_raw | pugi::format_no_declaration, pugi::encoding_utf8);
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>" + out.str();
}

void add_element(pugi::xml_node& root, const std::string& name, const std::string& value) {
  root.append_child(name.c_str()).text().set(value.c_str());
}

std::vector<std::string> split_categories(const std::string& text) {
  std::vector<std::string> out;
  std::string current;
  auto flush = [&] {
    size_t b = current.find_first_not_of(' ');
    size_t e = current.find_last_not_of(' ');
    if (b != std::string::npos) out.push_back(current.substr(b, e - b + 1));
    current.clear();
  };
  for (char c : text) {
    if (c == ',' || c == ';') {
      flush();
    } else {
      current.push_back(c);
    }
  }
  flush();
  return out;
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

// Outlook's Sensitivity: 0 normal, 1 personal, 2 private, 3 confidential.
std::string class_for_sensitivity(const std::string& s) {
  if (s == "1") return "X-PERSONAL";
  if (s == "2") return "PRIVATE";
  if (s == "3") return "CONFIDENTIAL";
  return s.empty() ? "" : "PUBLIC";
}

std::string sensitivity_for_class(std::string_view cls) {
  if (cls == "X-PERSONAL") return "1";
  if (cls == "PRIVATE") return "2";
  if (cls == "CONFIDENTIAL") return "3";
  return "0";
}

std::string compact_date(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c != '-' && c != ':') out.push_back(c);
  }
  return out;
}

}  // namespace sif_detail

namespace {

using namespace sif_detail;

// --- SIF-C -----------------------------------------------------------------

struct TelSlot {
  const char* element;
  std::vector<std::string> types;
};

// In the order a vCard TEL is matched against them when SIF is written: the
// first free slot whose types the TEL has wins.
const std::vector<TelSlot>& tel_slots() {
  static const std::vector<TelSlot> slots = {
      {"HomeFaxNumber", {"FAX", "HOME"}},
      {"BusinessFaxNumber", {"FAX", "WORK"}},
      {"OtherFaxNumber", {"FAX"}},
      {"MobileTelephoneNumber", {"CELL"}},
      {"PagerNumber", {"PAGER"}},
      {"CarTelephoneNumber", {"CAR"}},
      {"CompanyMainTelephoneNumber", {"WORK", "PREF"}},
      {"BusinessTelephoneNumber", {"VOICE", "WORK"}},
      {"Business2TelephoneNumber", {"VOICE", "WORK"}},
      {"HomeTelephoneNumber", {"VOICE", "HOME"}},
      {"Home2TelephoneNumber", {"VOICE", "HOME"}},
      {"PrimaryTelephoneNumber", {"PREF", "VOICE"}},
      {"OtherTelephoneNumber", {"VOICE"}},
  };
  return slots;
}

struct EmailSlot {
  const char* element;
  const char* type;  // besides INTERNET; null for the first
};
constexpr std::array<EmailSlot, 3> kEmailSlots = {
    EmailSlot{"Email1Address", nullptr}, EmailSlot{"Email2Address", "HOME"}, EmailSlot{"Email3Address", "WORK"}};

struct AdrSlot {
  const char* prefix;  // HomeAddress, BusinessAddress, OtherAddress
  const char* type;    // null: no TYPE
};
constexpr std::array<AdrSlot, 3> kAdrSlots = {AdrSlot{"HomeAddress", "HOME"}, AdrSlot{"BusinessAddress", "WORK"},
                                              AdrSlot{"OtherAddress", nullptr}};
// ADR components after the (unused) extended address, in vCard order.
constexpr std::array<const char*, 5> kAdrParts = {"Street", "City", "State", "PostalCode", "Country"};

struct TextSlot {
  const char* element;
  const char* property;
  const char* type;  // null: none
};
constexpr std::array<TextSlot, 11> kTextSlots = {TextSlot{"NickName", "NICKNAME", nullptr},
                                                 TextSlot{"JobTitle", "TITLE", nullptr},
                                                 TextSlot{"Body", "NOTE", nullptr},
                                                 TextSlot{"Birthday", "BDAY", nullptr},
                                                 TextSlot{"Anniversary", "X-EVOLUTION-ANNIVERSARY", nullptr},
                                                 TextSlot{"Spouse", "X-EVOLUTION-SPOUSE", nullptr},
                                                 TextSlot{"ManagerName", "X-EVOLUTION-MANAGER", nullptr},
                                                 TextSlot{"AssistantName", "X-EVOLUTION-ASSISTANT", nullptr},
                                                 TextSlot{"WebPage", "URL", nullptr},
                                                 TextSlot{"HomeWebPage", "URL", "HOME"},
                                                 TextSlot{"BusinessWebPage", "URL", "WORK"}};

// Elements whose meaning the vCard model holds (everything else non-empty is
// kept as X-SIF-…).
bool is_mapped_contact_element(const std::string& name) {
  static const std::set<std::string> mapped = [] {
    std::set<std::string> s = {"FirstName",   "MiddleName", "LastName",   "Title",       "Suffix", "FileAs",
                               "CompanyName", "Department", "Categories", "Sensitivity", "Photo"};
    for (const auto& t : tel_slots()) s.insert(t.element);
    for (const auto& e : kEmailSlots) s.insert(e.element);
    for (const auto& t : kTextSlots) s.insert(t.element);
    for (const auto& a : kAdrSlots) {
      s.insert(std::string(a.prefix) + "PostOfficeBox");
      for (const char* part : kAdrParts) s.insert(std::string(a.prefix) + part);
    }
    // Horde's server spells the business address WorkAddress*.
    s.insert("WorkAddressPostOfficeBox");
    for (const char* part : kAdrParts) s.insert(std::string("WorkAddress") + part);
    return s;
  }();
  return mapped.count(name) > 0;
}

VCardProperty make_property(std::string name, std::vector<std::string> values, std::vector<std::string> types = {}) {
  VCardProperty p;
  p.kind = value_kind_for(name);
  p.name = std::move(name);
  if (!types.empty()) p.params.push_back(VCardParam{"TYPE", std::move(types)});
  p.values = std::move(values);
  return p;
}

VCard contact_from_sif(const SifFields& f) {
  VCard card;
  card.version = VCardVersion::k30;
  auto& props = card.properties;
  const std::vector<std::string> n = {f.get("LastName"), f.get("FirstName"), f.get("MiddleName"), f.get("Title"),
                                      f.get("Suffix")};
  std::string fn = f.get("FileAs");
  if (fn.empty()) {
    std::vector<std::string> shown;
    for (size_t i : {3, 1, 2, 0, 4}) {
      if (!n[i].empty()) shown.push_back(n[i]);
    }
    fn = join(shown, " ");
  }
  if (fn.empty()) fn = f.get("CompanyName");
  props.push_back(make_property("FN", {fn}));
  if (std::any_of(n.begin(), n.end(), [](const std::string& s) { return !s.empty(); })) {
    props.push_back(make_property("N", n));
  }
  if (!f.get("CompanyName").empty() || !f.get("Department").empty()) {
    props.push_back(make_property("ORG", {f.get("CompanyName"), f.get("Department")}));
  }
  for (const auto& slot : kTextSlots) {
    std::string v = f.get(slot.element);
    if (v.empty()) continue;
    std::vector<std::string> types;
    if (slot.type) types.push_back(slot.type);
    props.push_back(make_property(slot.property, {v}, types));
  }
  for (const auto& slot : tel_slots()) {
    std::string v = f.get(slot.element);
    if (!v.empty()) props.push_back(make_property("TEL", {v}, slot.types));
  }
  for (const auto& slot : kEmailSlots) {
    std::string v = f.get(slot.element);
    if (v.empty()) continue;
    std::vector<std::string> types = {"INTERNET"};
    if (slot.type) types.push_back(slot.type);
    props.push_back(make_property("EMAIL", {v}, types));
  }
  for (const auto& slot : kAdrSlots) {
    auto part = [&](const std::string& name) {
      std::string v = f.get(slot.prefix + name);
      if (v.empty() && std::string_view(slot.prefix) == "BusinessAddress") v = f.get("WorkAddress" + name);
      return v;
    };
    std::vector<std::string> adr = {part("PostOfficeBox"), ""};
    for (const char* p : kAdrParts) adr.push_back(part(p));
    if (std::all_of(adr.begin(), adr.end(), [](const std::string& s) { return s.empty(); })) continue;
    std::vector<std::string> types;
    if (slot.type) types.push_back(slot.type);
    props.push_back(make_property("ADR", adr, types));
  }
  if (auto cats = split_categories(f.get("Categories")); !cats.empty())
    props.push_back(make_property("CATEGORIES", cats));
  if (std::string cls = class_for_sensitivity(f.get("Sensitivity")); !cls.empty() && cls != "PUBLIC") {
    props.push_back(make_property("CLASS", {cls}));
  }
  if (std::string photo = f.get("Photo"); !photo.empty()) {
    std::string compact;
    for (char c : photo) {
      if (c != '\n' && c != ' ' && c != '\t') compact.push_back(c);
    }
    if (auto bytes = base64_decode(compact)) {
      auto p = make_property("PHOTO", {std::move(*bytes)});
      p.kind = ValueKind::kBinary;
      props.push_back(std::move(p));
    }
  }
  for (const auto& [name, value] : f.in_order) {
    if (value.empty() || is_mapped_contact_element(name)) continue;
    props.push_back(make_property(std::string(kSifPrefix) + ascii_upper(name), {value}));
  }
  return card;
}

bool has_all_types(const VCardProperty& p, const std::vector<std::string>& types) {
  return std::all_of(types.begin(), types.end(), [&](const std::string& t) { return p.has_type(t); });
}

std::string component(const VCardProperty& p, size_t i) { return i < p.values.size() ? p.values[i] : ""; }

}  // namespace

bool is_sif_type(std::string_view mime_type) {
  return mime_type == sif_contact_format().mime_type || mime_type == sif_event_format().mime_type ||
         mime_type == sif_task_format().mime_type || mime_type == sif_note_format().mime_type;
}

Result<std::unique_ptr<DataObject>> parse_sif(std::string_view bytes, std::string_view mime_type) {
  pugi::xml_document doc;
  if (mime_type == sif_contact_format().mime_type) {
    auto fields = read_sif(doc, bytes, "contact");
    if (!fields) return fields.error();
    return std::unique_ptr<DataObject>(std::make_unique<Contact>(contact_from_sif(*fields), sif_contact_format()));
  }
  if (mime_type == sif_event_format().mime_type || mime_type == sif_task_format().mime_type) {
    return sif_detail::parse_sif_calendar(bytes, mime_type == sif_task_format().mime_type);
  }
  if (mime_type == sif_note_format().mime_type) {
    auto fields = read_sif(doc, bytes, "note");
    if (!fields) return fields.error();
    NoteFields note;
    note.body = fields->get("Body");
    note.summary = fields->get("Subject");
    note.last_modified = compact_date(fields->get("Date"));
    for (const auto& [name, value] : fields->in_order) {
      if (value.empty() || name == "Body" || name == "Subject" || name == "Date") continue;
      if (name == "Categories") {
        note.extra.emplace_back("CATEGORIES", join(split_categories(value), ","));
      } else {
        note.extra.emplace_back(std::string(kSifPrefix) + ascii_upper(name), value);
      }
    }
    return std::unique_ptr<DataObject>(std::make_unique<Note>(std::move(note), sif_note_format()));
  }
  return Status::invalid_argument("'" + std::string(mime_type) + "' is not a SIF type");
}
std::string write_sif_contact(const VCard& card) {
  pugi::xml_document doc;
  pugi::xml_node root = doc.append_child("contact");
  const VCardProperty* n = card.first("N");
  const VCardProperty* fn = card.first("FN");
  const VCardProperty* org = card.first("ORG");
  add_element(root, "FileAs", fn ? fn->joined() : "");
  add_element(root, "LastName", n ? component(*n, 0) : "");
  add_element(root, "FirstName", n ? component(*n, 1) : "");
  add_element(root, "MiddleName", n ? component(*n, 2) : "");
  add_element(root, "Title", n ? component(*n, 3) : "");
  add_element(root, "Suffix", n ? component(*n, 4) : "");
  add_element(root, "CompanyName", org ? component(*org, 0) : "");
  add_element(root, "Department", org ? component(*org, 1) : "");
  for (const auto& slot : kTextSlots) {
    std::string value;
    for (const auto& p : card.properties) {
      if (p.name != slot.property) continue;
      // URL without HOME/WORK is WebPage; with one, the matching slot.
      const bool typed = p.has_type("HOME") || p.has_type("WORK");
      if (slot.type ? p.has_type(slot.type) : !typed) {
        value = p.joined();
        break;
      }
    }
    add_element(root, slot.element, value);
  }
  std::map<std::string, std::string> tels;
  for (const auto& p : card.properties) {
    if (p.name != "TEL" || p.empty()) continue;
    for (const auto& slot : tel_slots()) {
      // A TEL with no type at all is a voice number (vCard's default).
      const bool fits = has_all_types(p, slot.types) ||
                        (std::string_view(slot.element) == "OtherTelephoneNumber" && !p.has_type("FAX"));
      if (fits && !tels.count(slot.element)) {
        tels[slot.element] = p.joined();
        break;
      }
    }
  }
  for (const auto& slot : tel_slots()) add_element(root, slot.element, tels[slot.element]);
  std::array<std::string, 3> emails;
  std::vector<std::string> untyped;
  for (const auto& p : card.properties) {
    if (p.name != "EMAIL" || p.empty()) continue;
    size_t want = p.has_type("HOME") ? 1 : p.has_type("WORK") ? 2 : 0;
    if (emails[want].empty()) {
      emails[want] = p.joined();
    } else {
      untyped.push_back(p.joined());
    }
  }
  for (const auto& e : untyped) {
    for (auto& slot : emails) {
      if (slot.empty()) {
        slot = e;
        break;
      }
    }
  }
  for (size_t i = 0; i < kEmailSlots.size(); ++i) add_element(root, kEmailSlots[i].element, emails[i]);
  for (const auto& slot : kAdrSlots) {
    const VCardProperty* adr = nullptr;
    for (const auto& p : card.properties) {
      if (p.name != "ADR") continue;
      const bool typed = p.has_type("HOME") || p.has_type("WORK");
      if (slot.type ? p.has_type(slot.type) : !typed) {
        adr = &p;
        break;
      }
    }
    add_element(root, std::string(slot.prefix) + "PostOfficeBox", adr ? component(*adr, 0) : "");
    for (size_t i = 0; i < kAdrParts.size(); ++i) {
      add_element(root, std::string(slot.prefix) + kAdrParts[i], adr ? component(*adr, i + 2) : "");
    }
  }
  std::vector<std::string> categories;
  for (const auto& p : card.properties) {
    if (p.name == "CATEGORIES") categories.insert(categories.end(), p.values.begin(), p.values.end());
  }
  add_element(root, "Categories", join(categories, ","));
  const VCardProperty* cls = card.first("CLASS");
  add_element(root, "Sensitivity", sensitivity_for_class(cls ? ascii_upper(cls->joined()) : ""));
  const VCardProperty* photo = card.first("PHOTO");
  add_element(
      root, "Photo",
      photo && photo->kind == ValueKind::kBinary && !photo->values.empty() ? base64_encode(photo->values[0]) : "");
  for (const auto& p : card.properties) {
    if (p.name.rfind(kSifPrefix, 0) == 0) add_element(root, element_for(p.name.substr(kSifPrefix.size())), p.joined());
  }
  return to_xml(doc);
}
std::string write_sif_note(const NoteFields& note) {
  pugi::xml_document doc;
  pugi::xml_node root = doc.append_child("note");
  add_element(root, "Subject", note.summary);
  add_element(root, "Body", note.body);
  std::string categories;
  for (const auto& [name, value] : note.extra) {
    if (name == "CATEGORIES") categories = categories.empty() ? value : categories + "," + value;
  }
  add_element(root, "Categories", categories);
  add_element(root, "Date", note.last_modified.empty() ? note.created : note.last_modified);
  for (const auto& [name, value] : note.extra) {
    if (name.rfind(kSifPrefix, 0) == 0) add_element(root, element_for(name.substr(kSifPrefix.size())), value);
  }
  return to_xml(doc);
}

FormatCaps sif_caps(std::string_view mime_type) {
  FormatCaps caps;
  caps.format = Format{std::string(mime_type), "1.0"};
  auto one = [&](const char* name) { caps.properties[name] = PropertyCaps{1}; };
  auto many = [&](const char* name, uint32_t n) { caps.properties[name] = PropertyCaps{n}; };
  if (mime_type == sif_contact_format().mime_type) {
    for (const char* p : {"FN", "N", "ORG", "NICKNAME", "TITLE", "NOTE", "BDAY", "X-EVOLUTION-ANNIVERSARY",
                          "X-EVOLUTION-SPOUSE", "X-EVOLUTION-MANAGER", "X-EVOLUTION-ASSISTANT", "CLASS", "PHOTO"}) {
      one(p);
    }
    many("TEL", static_cast<uint32_t>(tel_slots().size()));
    many("EMAIL", 3);
    many("ADR", 3);
    many("URL", 3);
    many("CATEGORIES", 1);
  } else if (mime_type == sif_event_format().mime_type || mime_type == sif_task_format().mime_type) {
    for (const char* p : {"SUMMARY", "DESCRIPTION", "CATEGORIES", "CLASS", "PRIORITY", "DTSTART", "RRULE"}) one(p);
    many("EXDATE", 1000);
    many("RDATE", 1000);
    if (mime_type == sif_event_format().mime_type) {
      for (const char* p : {"LOCATION", "DTEND", "TRANSP", "X-MICROSOFT-CDO-BUSYSTATUS"}) one(p);
    } else {
      for (const char* p : {"DUE", "STATUS", "COMPLETED", "PERCENT-COMPLETE"}) one(p);
    }
  }
  return caps;
}

}  // namespace conflux::data
