// A fake AccountDirectory for tests: users and passwords in a map. Unknown
// user and wrong password give the same kUnauthenticated, as the contract
// demands; `set_unavailable` makes every call kUnavailable.
#pragma once

#include <map>
#include <string>

#include "caf/accounts.h"
#include "common/digest.h"

namespace conflux::test {

class FakeAccountDirectory final : public caf::AccountDirectory {
 public:
  void add(const std::string& user, const std::string& password) { passwords_[user] = password; }
  void set_unavailable(bool unavailable) { unavailable_ = unavailable; }
  void add_api_token(const std::string& token, const std::string& user, bool read_only) {
    api_tokens_[token] = caf::ApiTokenHolder{UserId(user), read_only};
  }
  void revoke_api_token(const std::string& token) { api_tokens_.erase(token); }
  void set_access(const std::string& user, const std::string& datastore, caf::TokenKind kind) {
    access_[user][datastore] = kind;
  }

  Status verify_password(const UserId& user, const std::string& password) override {
    if (unavailable_) return Status::unavailable("account directory down");
    auto it = passwords_.find(user.str());
    if (it == passwords_.end() || it->second != password) return Status::unauthenticated("bad user or password");
    return Status::ok();
  }

  Status verify_md5_digest(const UserId& user, const std::string& nonce, const std::string& digest) override {
    if (unavailable_) return Status::unavailable("account directory down");
    auto it = passwords_.find(user.str());
    if (it == passwords_.end() || md5_base64(md5_base64(user.str() + ":" + it->second) + ":" + nonce) != digest) {
      return Status::unauthenticated("bad user or password");
    }
    return Status::ok();
  }

  Result<std::map<std::string, caf::TokenKind>> access_overrides(const UserId& user) override {
    if (unavailable_) return Status::unavailable("account directory down");
    auto it = access_.find(user.str());
    return it == access_.end() ? std::map<std::string, caf::TokenKind>{} : it->second;
  }

  Result<caf::ApiTokenHolder> verify_api_token(const std::string& token) override {
    if (unavailable_) return Status::unavailable("account directory down");
    auto it = api_tokens_.find(token);
    if (it == api_tokens_.end()) return Status::unauthenticated("unknown API token");
    return it->second;
  }

 private:
  std::map<std::string, std::string> passwords_;
  std::map<std::string, caf::ApiTokenHolder> api_tokens_;
  std::map<std::string, std::map<std::string, caf::TokenKind>> access_;
  bool unavailable_ = false;
};

}  // namespace conflux::test
