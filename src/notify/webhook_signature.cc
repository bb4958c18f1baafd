#include "notify/webhook_signature.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/base64.h"

namespace conflux::notify {

Result<std::string> sign_webhook(std::string_view secret, std::string_view id, int64_t timestamp,
                                 std::string_view body) {
  constexpr std::string_view kPrefix = "whsec_";
  if (secret.substr(0, kPrefix.size()) != kPrefix) return Status::invalid_argument("webhook secret must start whsec_");
  auto key = base64_decode(secret.substr(kPrefix.size()));
  if (!key || key->empty()) return Status::invalid_argument("webhook secret is not whsec_ and base64");
  std::string content;
  content.reserve(id.size() + body.size() + 24);
  content.append(id).append(".").append(std::to_string(timestamp)).append(".").append(body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
  if (!HMAC(EVP_sha256(), key->data(), static_cast<int>(key->size()),
            reinterpret_cast<const unsigned char*>(content.data()), content.size(), mac, &mac_size)) {
    return Status::internal("OpenSSL HMAC-SHA256 failed");
  }
  return "v1," + base64_encode(std::string_view(reinterpret_cast<const char*>(mac), mac_size));
}

}  // namespace conflux::notify
