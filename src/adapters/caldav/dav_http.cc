#include "adapters/caldav/dav_http.h"

#include <curl/curl.h>

#include <algorithm>
#include <memory>
#include <mutex>

namespace conflux::adapters {
namespace {

size_t collect_body(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

size_t collect_header(char* data, size_t size, size_t count, void* user) {
  auto& headers = *static_cast<std::map<std::string, std::string>*>(user);
  std::string line(data, size * count);
  const size_t colon = line.find(':');
  if (line.rfind("HTTP/", 0) == 0) headers.clear();  // a new response (after a 100 Continue)
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    std::string value = line.substr(colon + 1);
    const size_t begin = value.find_first_not_of(" \t");
    const size_t end = value.find_last_not_of(" \t\r\n");
    headers[name] = begin == std::string::npos ? "" : value.substr(begin, end - begin + 1);
  }
  return size * count;
}

void global_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

DavHttp::DavHttp(DavHttpOptions options) : options_(std::move(options)) { global_init_once(); }

Result<HttpResponse> DavHttp::request(const std::string& method, const std::string& url, const DavLogin& login,
                                      const std::vector<std::string>& headers, const std::string& body) const {
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), &curl_easy_cleanup);
  if (!curl) return Status::unavailable("curl: cannot create a handle");
  curl_slist* list = nullptr;
  for (const std::string& h : headers) list = curl_slist_append(list, h.c_str());
  // libcurl would send "Expect: 100-continue" on big bodies; Radicale's
  // HTTP/1.0 server answers it late, costing a second per PUT.
  list = curl_slist_append(list, "Expect:");
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> list_guard(list, &curl_slist_free_all);

  HttpResponse response;
  char error[CURL_ERROR_SIZE] = {0};
  CURL* h = curl.get();
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "Conflux-caldav");  // DAV servers log it: tells our requests apart
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);                 // worker threads: no SIGALRM for DNS timeouts
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout_ms));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.request_timeout_ms));
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  // Discovery follows /.well-known redirects (RFC 6764 §5); the method stays,
  // and curl sends the login to the same host only.
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_POSTREDIR, static_cast<long>(CURL_REDIR_POST_ALL));
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, options_.ca_file.c_str());
  if (!login.user.empty()) {
    curl_easy_setopt(h, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
    curl_easy_setopt(h, CURLOPT_USERNAME, login.user.c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, login.password.c_str());
  }
  if (!body.empty() || method == "PUT" || method == "REPORT" || method == "PROPFIND") {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &collect_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &collect_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &response.headers);

  const CURLcode rc = curl_easy_perform(h);
  if (rc != CURLE_OK) {
    return Status::unavailable(method + " " + url_path(url) + ": " + (error[0] ? error : curl_easy_strerror(rc)));
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

Status http_status_error(const std::string& what, const HttpResponse& response) {
  std::string msg = what + ": HTTP " + std::to_string(response.status);
  const long s = response.status;
  if (s == 401) return Status::unauthenticated(msg + " (the DAV server refuses the login)");
  if (s == 403) return Status::permission_denied(std::move(msg));
  if (s == 404 || s == 410) return Status::not_found(std::move(msg));
  if (s == 409) return Status::already_exists(std::move(msg));
  if (s == 412) return Status::aborted(msg + " (changed on the DAV server meanwhile)");
  if (s == 413 || s == 507) return Status::resource_exhausted(std::move(msg));
  if (s >= 500 || s == 408 || s == 429) return Status::unavailable(std::move(msg));
  return Status::failed_precondition(std::move(msg));
}

std::string url_origin(const std::string& url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) return "";
  const size_t path = url.find('/', scheme + 3);
  return path == std::string::npos ? url : url.substr(0, path);
}

std::string absolute_url(const std::string& base, const std::string& href) {
  if (href.find("://") != std::string::npos) return href;
  return url_origin(base) + (href.empty() || href[0] != '/' ? "/" : "") + href;
}

std::string url_path(const std::string& url) {
  const std::string origin = url_origin(url);
  if (origin.empty()) return url;
  std::string path = url.substr(origin.size());
  return path.empty() ? "/" : path;
}

}  // namespace conflux::adapters
