#include "adapters/caldav/dav_xml.h"

#include <pugixml.hpp>

#include <cstdlib>
#include <cstring>

namespace conflux::adapters {
namespace {

const char* local_name(const pugi::xml_node& node) {
  const char* name = node.name();
  const char* colon = std::strrchr(name, ':');
  return colon ? colon + 1 : name;
}

bool is(const pugi::xml_node& node, const char* name) { return std::strcmp(local_name(node), name) == 0; }

pugi::xml_node child(const pugi::xml_node& node, const char* name) {
  for (pugi::xml_node c : node.children()) {
    if (c.type() == pugi::node_element && is(c, name)) return c;
  }
  return {};
}

// "HTTP/1.1 404 Not Found" -> 404; 0 when unreadable.
long status_code(const pugi::xml_node& status) {
  const std::string text = status.child_value();
  const size_t space = text.find(' ');
  if (space == std::string::npos) return 0;
  return std::strtol(text.c_str() + space + 1, nullptr, 10);
}

std::string trimmed(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

std::string href_in(const pugi::xml_node& prop) { return trimmed(child(prop, "href").child_value()); }

void read_prop(const pugi::xml_node& prop, DavResponse& r) {
  for (pugi::xml_node p : prop.children()) {
    if (p.type() != pugi::node_element) continue;
    if (is(p, "getetag")) {
      r.etag = trimmed(p.child_value());
    } else if (is(p, "address-data") || is(p, "calendar-data")) {
      r.data = p.text().get();  // text or CDATA, unescaped
      r.has_data = true;
    } else if (is(p, "getctag")) {
      r.ctag = trimmed(p.child_value());
    } else if (is(p, "sync-token")) {
      r.sync_token = trimmed(p.child_value());
    } else if (is(p, "resourcetype")) {
      r.is_collection = static_cast<bool>(child(p, "collection"));
      r.is_addressbook = static_cast<bool>(child(p, "addressbook"));
      r.is_calendar = static_cast<bool>(child(p, "calendar"));
    } else if (is(p, "supported-calendar-component-set")) {
      for (pugi::xml_node comp : p.children()) {
        if (comp.type() == pugi::node_element && is(comp, "comp")) r.components.insert(comp.attribute("name").value());
      }
    } else if (is(p, "supported-report-set")) {
      for (pugi::xml_node supported : p.children()) {
        for (pugi::xml_node name : child(supported, "report").children()) {
          if (name.type() == pugi::node_element) r.reports.insert(local_name(name));
        }
      }
    } else if (is(p, "current-user-principal")) {
      r.principal_href = href_in(p);
    } else if (is(p, "addressbook-home-set") || is(p, "calendar-home-set")) {
      r.home_href = href_in(p);
    }
  }
}

const char* data_element(DavKind kind) { return kind == DavKind::kAddressbook ? "C:address-data" : "C:calendar-data"; }

}  // namespace

Result<Multistatus> parse_multistatus(const std::string& body) {
  pugi::xml_document doc;
  pugi::xml_parse_result parsed = doc.load_buffer(body.data(), body.size(), pugi::parse_default);
  if (!parsed) return Status::unavailable(std::string("DAV response is no XML: ") + parsed.description());
  pugi::xml_node root = doc.document_element();
  if (!is(root, "multistatus")) {
    return Status::unavailable(std::string("DAV response is no multistatus but <") + root.name() + ">");
  }
  Multistatus ms;
  for (pugi::xml_node node : root.children()) {
    if (node.type() != pugi::node_element) continue;
    if (is(node, "sync-token")) {
      ms.sync_token = trimmed(node.child_value());
      continue;
    }
    if (!is(node, "response")) continue;
    DavResponse r;
    r.href = trimmed(child(node, "href").child_value());
    if (pugi::xml_node status = child(node, "status")) r.status = status_code(status);
    for (pugi::xml_node ps : node.children()) {
      if (ps.type() != pugi::node_element || !is(ps, "propstat")) continue;
      const long s = status_code(child(ps, "status"));
      if (s >= 200 && s < 300) read_prop(child(ps, "prop"), r);
    }
    ms.responses.push_back(std::move(r));
  }
  return ms;
}

std::vector<std::string> parse_error_conditions(const std::string& body) {
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size())) return {};
  pugi::xml_node root = doc.document_element();
  if (!is(root, "error")) return {};
  std::vector<std::string> names;
  for (pugi::xml_node c : root.children()) {
    if (c.type() == pugi::node_element) names.emplace_back(local_name(c));
  }
  return names;
}

std::string parse_no_uid_conflict_href(const std::string& body) {
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size())) return "";
  return href_in(child(doc.document_element(), "no-uid-conflict"));
}

std::string xml_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string propfind_collection_body() {
  return R"(<?xml version="1.0" encoding="utf-8"?>)"
         R"(<D:propfind xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/" )"
         R"(xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:resourcetype/><CS:getctag/><D:sync-token/>)"
         R"(<D:supported-report-set/><C:supported-calendar-component-set/></D:prop></D:propfind>)";
}

std::string propfind_etags_body() {
  return R"(<?xml version="1.0" encoding="utf-8"?>)"
         R"(<D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/><D:getetag/></D:prop></D:propfind>)";
}

std::string propfind_discovery_body() {
  return R"(<?xml version="1.0" encoding="utf-8"?>)"
         R"(<D:propfind xmlns:D="DAV:" xmlns:A="urn:ietf:params:xml:ns:carddav" )"
         R"(xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:current-user-principal/><D:resourcetype/>)"
         R"(<A:addressbook-home-set/><C:calendar-home-set/><C:supported-calendar-component-set/></D:prop>)"
         R"(</D:propfind>)";
}

std::string sync_collection_body(const std::string& token) {
  // RFC 6578 §3.2: an empty sync-token element asks for every member.
  return R"(<?xml version="1.0" encoding="utf-8"?>)"
         R"(<D:sync-collection xmlns:D="DAV:"><D:sync-token>)" +
         xml_escape(token) +
         R"(</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop>)"
         R"(</D:sync-collection>)";
}

std::string multiget_body(DavKind kind, const std::vector<std::string>& hrefs) {
  std::string body = R"(<?xml version="1.0" encoding="utf-8"?>)";
  if (kind == DavKind::kAddressbook) {
    body += R"(<C:addressbook-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav">)";
  } else {
    body += R"(<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">)";
  }
  body += std::string("<D:prop><D:getetag/><") + data_element(kind) + "/></D:prop>";
  for (const std::string& href : hrefs) body += "<D:href>" + xml_escape(href) + "</D:href>";
  body += kind == DavKind::kAddressbook ? "</C:addressbook-multiget>" : "</C:calendar-multiget>";
  return body;
}

std::string uid_query_body(DavKind kind, const std::string& component, const std::string& uid) {
  std::string body = R"(<?xml version="1.0" encoding="utf-8"?>)";
  const std::string match = "<C:prop-filter name=\"UID\"><C:text-match collation=\"i;octet\"" +
                            std::string(kind == DavKind::kAddressbook ? " match-type=\"equals\"" : "") + ">" +
                            xml_escape(uid) + "</C:text-match></C:prop-filter>";
  if (kind == DavKind::kAddressbook) {
    body += R"(<C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav">)";
    body += "<D:prop><D:getetag/><C:address-data/></D:prop><C:filter>" + match + "</C:filter>";
    return body + "</C:addressbook-query>";
  }
  body += R"(<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">)";
  body += R"(<D:prop><D:getetag/><C:calendar-data/></D:prop><C:filter><C:comp-filter name="VCALENDAR">)";
  body += "<C:comp-filter name=\"" + xml_escape(component) + "\">" + match + "</C:comp-filter>";
  return body + "</C:comp-filter></C:filter></C:calendar-query>";
}

}  // namespace conflux::adapters
