// Internal to data/sif*.cc: the parts of SIF every format shares (reading
// and writing the flat XML, categories, sensitivity, X-SIF-… properties).
#pragma once

#include <pugixml.hpp>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "data/data_object.h"

namespace conflux::data::sif_detail {

// Model properties that keep SIF elements vCard/iCalendar have no place for.
inline constexpr std::string_view kSifPrefix = "X-SIF-";

// The element name for an X-SIF-<ELEMENT> property (the model upper-cases
// names; known elements get their SIF spelling back).
std::string element_for(std::string_view upper);

// A SIF item's flat elements (nested ones, such as Exceptions, via root).
struct SifFields {
  std::vector<std::pair<std::string, std::string>> in_order;  // element, text (empty ones included)
  std::map<std::string, std::string> by_name;
  pugi::xml_node root;

  std::string get(const std::string& name) const {
    auto it = by_name.find(name);
    return it == by_name.end() ? "" : it->second;
  }
};

// Parses `bytes` into `doc`; kInvalidArgument for broken XML or another root.
Result<SifFields> read_sif(pugi::xml_document& doc, std::string_view bytes, std::string_view root_name);
std::string to_xml(const pugi::xml_document& doc);
void add_element(pugi::xml_node& root, const std::string& name, const std::string& value);
// "a, b;c" -> {"a", "b", "c"}.
std::vector<std::string> split_categories(const std::string& text);
std::string join(const std::vector<std::string>& parts, std::string_view sep);
// Outlook's Sensitivity (0 normal, 1 personal, 2 private, 3 confidential) and CLASS.
std::string class_for_sensitivity(const std::string& s);
std::string sensitivity_for_class(std::string_view cls);
// "2007-01-01" or "20070101" -> "20070101"; a date-time is kept as sent.
std::string compact_date(std::string_view v);

// SIF-E (or SIF-T when `task`) as an Event (Task); sif_calendar.cc.
Result<std::unique_ptr<DataObject>> parse_sif_calendar(std::string_view bytes, bool task);

}  // namespace conflux::data::sif_detail
