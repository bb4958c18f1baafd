// The XML of WebDAV (RFC 4918), CardDAV (RFC 6352), CalDAV (RFC 4791) and
// collection synchronisation (RFC 6578) the caldav adapter sends and reads,
// with pugixml. Parsing is by local name: servers differ in the prefixes
// they choose, and no two names read here collide across the namespaces.
//
// Untrusted input: a body that is no multistatus is kUnavailable (a proxy's
// error page, a server out of order), never an assertion.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "common/status.h"

namespace conflux::adapters {

enum class DavKind : uint8_t { kAddressbook, kCalendar };

// One <response> of a multistatus. Properties come only from propstats with
// a 2xx status.
struct DavResponse {
  std::string href;  // as the server wrote it (percent-encoded path or absolute URL)
  long status = 0;   // the <response>'s own <status> (sync-collection: 404 = deleted), else 0
  std::string etag;  // getetag, with its quotes
  std::string data;  // address-data or calendar-data
  bool has_data = false;
  std::string ctag;        // CS:getctag
  std::string sync_token;  // DAV:sync-token property (PROPFIND)
  bool is_collection = false;
  bool is_addressbook = false;
  bool is_calendar = false;
  std::set<std::string> components;  // supported-calendar-component-set (VEVENT, VTODO …)
  std::set<std::string> reports;     // supported-report-set local names (sync-collection …)
  std::string principal_href;        // current-user-principal
  std::string home_href;             // addressbook-home-set or calendar-home-set
};

struct Multistatus {
  std::vector<DavResponse> responses;
  std::string sync_token;  // the top-level DAV:sync-token of a sync-collection report
};

// kUnavailable when `body` is not a DAV:multistatus.
Result<Multistatus> parse_multistatus(const std::string& body);

// The local names of the conditions in a DAV:error body (RFC 4918 §16),
// e.g. "valid-sync-token", "no-uid-conflict"; empty for any other body.
std::vector<std::string> parse_error_conditions(const std::string& body);
// The href inside a no-uid-conflict condition (RFC 6352 §6.3.2.1,
// RFC 4791 §5.3.2.1): the member already holding the UID; empty when absent.
std::string parse_no_uid_conflict_href(const std::string& body);

// Request bodies.
std::string propfind_collection_body();  // resourcetype, getctag, sync-token, supported-report-set, components
std::string propfind_etags_body();       // getetag and resourcetype of the members
std::string propfind_discovery_body();   // current-user-principal, both home sets, resourcetype
std::string sync_collection_body(const std::string& token);
std::string multiget_body(DavKind kind, const std::vector<std::string>& hrefs);
// addressbook-query / calendar-query (of `component`) for the members whose
// UID is `uid`, with their ETag and data (CalDAV's text-match is a substring
// match: the caller compares the UIDs it gets).
std::string uid_query_body(DavKind kind, const std::string& component, const std::string& uid);

// XML-escapes text for element content.
std::string xml_escape(const std::string& text);

}  // namespace conflux::adapters
