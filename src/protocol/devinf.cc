// DevInf 1.1/1.2 (OMA-TS-DS_DevInf). Element order on output follows the
// DevInf DTDs: 1.1 keeps CTCap at the top level after the DataStores, 1.2
// moves it inside each DataStore (reference §11).
#include "protocol/devinf.h"

#include <pugixml.hpp>

#include <charconv>
#include <new>
#include <utility>

#include "protocol/xml_string_writer.h"

namespace conflux::protocol {
namespace {

std::string_view local_name(const char* qname) {
  std::string_view name(qname);
  size_t colon = name.rfind(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string text_of(pugi::xml_node node) {
  std::string out;
  for (pugi::xml_node c = node.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) out += c.value();
  }
  size_t b = 0;
  while (b < out.size() && is_space(out[b])) ++b;
  size_t e = out.size();
  while (e > b && is_space(out[e - 1])) --e;
  return out.substr(b, e - b);
}

template <typename T>
std::optional<T> number_of(pugi::xml_node node) {
  std::string text = text_of(node);
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Iterates the element children of `node` as (local name, element).
template <typename Fn>
void for_each_element(pugi::xml_node node, Fn&& fn) {
  for (pugi::xml_node c : node.children()) {
    if (c.type() == pugi::node_element) fn(local_name(c.name()), c);
  }
}

ContentTypeRef parse_content_type(pugi::xml_node node) {
  ContentTypeRef ref;
  for_each_element(node, [&](std::string_view name, pugi::xml_node c) {
    if (name == "CTType")
      ref.type = text_of(c);
    else if (name == "VerCT")
      ref.version = text_of(c);
  });
  return ref;
}

std::string upper(std::string s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return s;
}

CTCapProperty parse_ctcap_property(pugi::xml_node node) {
  CTCapProperty prop;
  for_each_element(node, [&](std::string_view name, pugi::xml_node c) {
    if (name == "PropName") {
      prop.name = upper(text_of(c));
    } else if (name == "MaxOccur") {
      prop.max_occur = number_of<uint32_t>(c);
    } else if (name == "PropParam") {
      for_each_element(c, [&](std::string_view pname, pugi::xml_node p) {
        if (pname == "ParamName") prop.params.push_back(upper(text_of(p)));
      });
    }
  });
  return prop;
}

// Both CTCap layouts: 1.2 (CTType, VerCT, Property*) and 1.1's flat list,
// where each CTType starts the next type and each PropName the next property
// (ParamName belongs to the PropName before it). Entries before the first
// CTType have nothing to belong to and are dropped.
void parse_ctcap(pugi::xml_node node, std::vector<CTCap>& out) {
  CTCap* current = nullptr;
  for_each_element(node, [&](std::string_view name, pugi::xml_node c) {
    if (name == "CTType") {
      out.push_back(CTCap{ContentTypeRef{text_of(c), ""}, {}});
      current = &out.back();
    } else if (!current) {
      return;
    } else if (name == "VerCT") {
      current->type.version = text_of(c);
    } else if (name == "Property") {
      current->properties.push_back(parse_ctcap_property(c));
    } else if (name == "PropName") {
      current->properties.push_back(CTCapProperty{upper(text_of(c)), std::nullopt, {}});
    } else if (name == "ParamName" && !current->properties.empty()) {
      current->properties.back().params.push_back(upper(text_of(c)));
    }
  });
}

// Devices are sloppy here (MaxGUIDSize "", SyncType "x"); DevInf only
// informs, so unreadable numbers are dropped rather than failing the Put.
DevInfDataStore parse_datastore(pugi::xml_node node) {
  DevInfDataStore ds;
  for_each_element(node, [&](std::string_view name, pugi::xml_node c) {
    if (name == "SourceRef") {
      ds.source_ref = text_of(c);
    } else if (name == "DisplayName") {
      ds.display_name = text_of(c);
    } else if (name == "MaxGUIDSize") {
      ds.max_guid_size = number_of<uint32_t>(c);
    } else if (name == "Rx-Pref") {
      ds.rx_pref = parse_content_type(c);
    } else if (name == "Rx") {
      ds.rx.push_back(parse_content_type(c));
    } else if (name == "Tx-Pref") {
      ds.tx_pref = parse_content_type(c);
    } else if (name == "Tx") {
      ds.tx.push_back(parse_content_type(c));
    } else if (name == "SyncCap") {
      for_each_element(c, [&](std::string_view sname, pugi::xml_node s) {
        if (sname != "SyncType") return;
        if (auto type = number_of<int>(s)) ds.sync_types.push_back(*type);
      });
    } else if (name == "CTCap") {
      parse_ctcap(c, ds.ctcaps);
    }
    // DSMem, Filter-Rx, FilterCap, SupportHierarchicalSync: skipped.
  });
  return ds;
}

Result<DevInf> parse_document(std::string_view xml) {
  pugi::xml_document doc;
  const unsigned options = (pugi::parse_default & ~pugi::parse_eol) | pugi::parse_fragment;
  pugi::xml_parse_result parsed = doc.load_buffer(xml.data(), xml.size(), options);
  if (!parsed) {
    return Status::invalid_argument(std::string("DevInf is not well-formed XML: ") + parsed.description());
  }
  pugi::xml_node root;
  for (pugi::xml_node c : doc.children()) {
    if (c.type() == pugi::node_element) {
      root = c;
      break;
    }
  }
  if (!root || local_name(root.name()) != "DevInf") {
    return Status::invalid_argument(std::string("expected <DevInf>, got <") + (root ? root.name() : "") + ">");
  }

  DevInf devinf;
  for_each_element(root, [&](std::string_view name, pugi::xml_node c) {
    if (name == "VerDTD")
      devinf.ver_dtd = text_of(c);
    else if (name == "Man")
      devinf.man = text_of(c);
    else if (name == "Mod")
      devinf.mod = text_of(c);
    else if (name == "OEM")
      devinf.oem = text_of(c);
    else if (name == "FwV")
      devinf.fw_v = text_of(c);
    else if (name == "SwV")
      devinf.sw_v = text_of(c);
    else if (name == "HwV")
      devinf.hw_v = text_of(c);
    else if (name == "DevID")
      devinf.dev_id = text_of(c);
    else if (name == "DevTyp")
      devinf.dev_typ = text_of(c);
    else if (name == "UTC")
      devinf.utc = true;
    else if (name == "SupportLargeObjs")
      devinf.support_large_objs = true;
    else if (name == "SupportNumberOfChanges")
      devinf.support_number_of_changes = true;
    else if (name == "DataStore")
      devinf.datastores.push_back(parse_datastore(c));
    else if (name == "CTCap")
      parse_ctcap(c, devinf.ctcaps);  // 1.1: top level
    // Ext: skipped.
  });
  return devinf;
}

// ---------------------------------------------------------------------------

pugi::xml_node add_text(pugi::xml_node parent, const char* name, std::string_view text) {
  pugi::xml_node node = parent.append_child(name);
  if (!text.empty()) node.append_child(pugi::node_pcdata).set_value(text.data(), text.size());
  return node;
}

void add_content_type(pugi::xml_node parent, const char* name, const ContentTypeRef& ct) {
  pugi::xml_node node = parent.append_child(name);
  add_text(node, "CTType", ct.type);
  add_text(node, "VerCT", ct.version);
}

}  // namespace

Result<DevInf> parse_devinf_xml(std::string_view xml) {
  try {
    return parse_document(xml);
  } catch (const std::bad_alloc&) {
    return Status::resource_exhausted("out of memory parsing DevInf");
  }
}

std::string write_devinf_xml(const DevInf& devinf, SyncMLVersion version) {
  const bool v12 = version == SyncMLVersion::k12;
  const bool v10 = version == SyncMLVersion::k10;
  pugi::xml_document doc;
  pugi::xml_node root = doc.append_child("DevInf");
  root.append_attribute("xmlns").set_value("syncml:devinf");

  // DevInf (VerDTD, Man?, Mod?, OEM?, FwV, SwV, HwV, DevID, DevTyp, UTC?,
  //         SupportLargeObjs?, SupportNumberOfChanges?, DataStore+, CTCap? (1.1), Ext*)
  add_text(root, "VerDTD", v12 ? "1.2" : (v10 ? "1.0" : "1.1"));
  if (!devinf.man.empty()) add_text(root, "Man", devinf.man);
  if (!devinf.mod.empty()) add_text(root, "Mod", devinf.mod);
  if (!devinf.oem.empty()) add_text(root, "OEM", devinf.oem);
  // DevInf 1.2 makes FwV, SwV and HwV mandatory (empty is allowed, as Buteo
  // sends them); 1.1 has them optional.
  if (v12 || !devinf.fw_v.empty()) add_text(root, "FwV", devinf.fw_v);
  if (v12 || !devinf.sw_v.empty()) add_text(root, "SwV", devinf.sw_v);
  if (v12 || !devinf.hw_v.empty()) add_text(root, "HwV", devinf.hw_v);
  add_text(root, "DevID", devinf.dev_id);
  add_text(root, "DevTyp", devinf.dev_typ);
  // UTC, SupportLargeObjs and SupportNumberOfChanges came with DevInf 1.1.
  if (devinf.utc && !v10) root.append_child("UTC");
  if (devinf.support_large_objs && !v10) root.append_child("SupportLargeObjs");
  if (devinf.support_number_of_changes && !v10) root.append_child("SupportNumberOfChanges");

  // DataStore (SourceRef, DisplayName?, MaxGUIDSize?, Rx-Pref, Rx*, Tx-Pref,
  //            Tx*, CTCap* (1.2), DSMem?, SupportHierarchicalSync? (1.2), SyncCap, …)
  for (const DevInfDataStore& ds : devinf.datastores) {
    pugi::xml_node node = root.append_child("DataStore");
    add_text(node, "SourceRef", ds.source_ref);
    if (!ds.display_name.empty()) add_text(node, "DisplayName", ds.display_name);
    if (ds.max_guid_size) add_text(node, "MaxGUIDSize", std::to_string(*ds.max_guid_size));
    add_content_type(node, "Rx-Pref", ds.rx_pref);
    for (const ContentTypeRef& ct : ds.rx) add_content_type(node, "Rx", ct);
    add_content_type(node, "Tx-Pref", ds.tx_pref);
    for (const ContentTypeRef& ct : ds.tx) add_content_type(node, "Tx", ct);
    if (v12 && ds.ctcaps.empty()) {
      // Names the preferred type only.
      pugi::xml_node ctcap = node.append_child("CTCap");
      add_text(ctcap, "CTType", ds.rx_pref.type);
      add_text(ctcap, "VerCT", ds.rx_pref.version);
    }
    for (const CTCap& cap : v12 ? ds.ctcaps : std::vector<CTCap>{}) {
      pugi::xml_node ctcap = node.append_child("CTCap");
      add_text(ctcap, "CTType", cap.type.type);
      add_text(ctcap, "VerCT", cap.type.version);
      for (const CTCapProperty& prop : cap.properties) {
        pugi::xml_node p = ctcap.append_child("Property");
        add_text(p, "PropName", prop.name);
        if (prop.max_occur) add_text(p, "MaxOccur", std::to_string(*prop.max_occur));
        for (const std::string& param : prop.params) add_text(p.append_child("PropParam"), "ParamName", param);
      }
    }
    pugi::xml_node sync_cap = node.append_child("SyncCap");
    for (int type : ds.sync_types) add_text(sync_cap, "SyncType", std::to_string(type));
  }

  std::string out;
  StringWriter writer(out);
  root.print(writer, "", pugi::format_raw, pugi::encoding_utf8);
  return out;
}

}  // namespace conflux::protocol
