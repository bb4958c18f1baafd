#include "notify/http_post.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>
#include <string_view>

namespace conflux::notify {
namespace {

size_t discard_body(char*, size_t size, size_t count, void*) { return size * count; }

std::string trimmed(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

// Keeps the Retry-After header's value (curl calls this once per header line).
size_t keep_retry_after(char* data, size_t size, size_t count, void* out) {
  const std::string_view line(data, size * count);
  constexpr std::string_view kName = "retry-after:";
  if (line.size() > kName.size() && std::equal(kName.begin(), kName.end(), line.begin(), [](char a, char b) {
        return a == std::tolower(static_cast<unsigned char>(b));
      })) {
    static_cast<PostResponse*>(out)->retry_after = trimmed(line.substr(kName.size()));
  }
  return size * count;
}

// Opens curl's socket unless the guard refuses the address it is for.
struct AddressCheck {
  const std::function<std::string(const std::string&)>* refuse;
  std::string refused;  // "127.0.0.1 (loopback)" once refused
};

curl_socket_t open_checked_socket(void* clientp, curlsocktype, curl_sockaddr* address) {
  auto* check = static_cast<AddressCheck*>(clientp);
  char text[INET6_ADDRSTRLEN] = {0};
  const void* raw = address->family == AF_INET6
                        ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in6*>(&address->addr)->sin6_addr)
                        : static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(&address->addr)->sin_addr);
  if ((address->family != AF_INET && address->family != AF_INET6) ||
      !inet_ntop(address->family, raw, text, sizeof text)) {
    check->refused = "an address that is not IP";
    return CURL_SOCKET_BAD;
  }
  if (const std::string what = (*check->refuse)(text); !what.empty()) {
    check->refused = std::string(text) + " (" + what + ")";
    return CURL_SOCKET_BAD;
  }
  return socket(address->family, address->socktype, address->protocol);
}

}  // namespace

Result<PostResponse> http_post(const std::string& url, const std::vector<std::string>& headers, const std::string& body,
                               const PostOptions& options) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), &curl_easy_cleanup);
  if (!curl) return Status::unavailable("curl: cannot create a handle");
  curl_slist* list = nullptr;
  for (const std::string& h : headers) list = curl_slist_append(list, h.c_str());
  list = curl_slist_append(list, "Expect:");  // no 100-continue round trip
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> list_guard(list, &curl_slist_free_all);
  char error[CURL_ERROR_SIZE] = {0};
  CURL* h = curl.get();
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_POST, 1L);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(h, CURLOPT_USERAGENT, options.user_agent.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, static_cast<long>(options.timeout_seconds));
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &discard_body);
  PostResponse response;
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &keep_retry_after);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &response);
  AddressCheck check{&options.refuse_address, ""};
  if (options.refuse_address) {
    curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, &open_checked_socket);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, &check);
  }
  const CURLcode rc = curl_easy_perform(h);
  if (!check.refused.empty()) {
    return Status::permission_denied("POST " + url + ": not sent to " + check.refused +
                                     ": not allowed for this webhook ([notify] subscription_allowed_networks)");
  }
  if (rc != CURLE_OK) {
    return Status::unavailable("POST " + url + ": " + (error[0] ? std::string(error) : curl_easy_strerror(rc)));
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

std::optional<int64_t> retry_after_seconds(const std::string& value, int64_t now) {
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (value.size() > 12) return std::nullopt;  // beyond any sane delay
    return std::stoll(value);
  }
  const time_t at = curl_getdate(value.c_str(), nullptr);
  if (at < 0) return std::nullopt;
  return std::max<int64_t>(0, static_cast<int64_t>(at) - now);
}

}  // namespace conflux::notify
