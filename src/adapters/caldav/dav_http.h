// HTTP for the caldav adapter, over libcurl: one blocking request at a time
// per call, with Basic authentication, TLS verified against the system's CAs
// or a configured CA file, and bounded timeouts.
//
// The one place an HTTP outcome becomes a Status (http_status_error): a
// connection error or a 5xx is kUnavailable ("back end down, try later"),
// 401 kUnauthenticated, 403 kPermissionDenied, 404/410 kNotFound, 412 kAborted
// (someone changed the item meanwhile), 507 kResourceExhausted.
//
// Threading: any thread; a DavHttp holds only constant settings, each request
// uses its own curl handle. Passwords are never logged.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace conflux::adapters {

struct DavLogin {
  std::string user;
  std::string password;  // never logged
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // names lower-case; the last value of a repeated header
  std::string body;

  const std::string* header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? nullptr : &it->second;
  }
};

struct DavHttpOptions {
  std::string ca_file;  // empty: the system's CAs
  int64_t connect_timeout_ms = 10000;
  int64_t request_timeout_ms = 120000;  // a multiget of a big batch may take a while on a slow server
};

class DavHttp {
 public:
  explicit DavHttp(DavHttpOptions options);

  // Sends one request. A response of any status is a value; only a failure to
  // get one (no connection, TLS refused, timeout) is an error (kUnavailable).
  Result<HttpResponse> request(const std::string& method, const std::string& url, const DavLogin& login,
                               const std::vector<std::string>& headers, const std::string& body) const;

 private:
  const DavHttpOptions options_;
};

// The Status for a response that is not the success the caller wanted;
// `what` names the request for the message ("PUT /u/contacts/x.vcf").
Status http_status_error(const std::string& what, const HttpResponse& response);

// "https://host:port" of an absolute URL (empty when `url` has no scheme).
std::string url_origin(const std::string& url);
// An href from a multistatus (absolute path or absolute URL) as an absolute URL
// on the server of `base`.
std::string absolute_url(const std::string& base, const std::string& href);
// The path of an absolute URL ("/u/contacts/"); `url` itself when it has no scheme.
std::string url_path(const std::string& url);

}  // namespace conflux::adapters
