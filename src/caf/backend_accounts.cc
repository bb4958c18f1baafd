#include "caf/backend_accounts.h"

#include <sodium.h>

#include <filesystem>
#include <fstream>

#include "common/digest.h"

namespace conflux::caf {
namespace {

bool same(const std::string& a, const std::string& b) {
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

std::string BackendAccounts::configured_path(const StoreSettings& settings, const AdapterEnv& env) {
  auto it = settings.options.find("accounts_file");
  if (it == settings.options.end() || it->second.empty()) return {};
  std::filesystem::path path(it->second);
  if (path.is_relative()) path = std::filesystem::path(env.data_dir) / path;
  return path.lexically_normal().string();
}

Status BackendAccounts::verify(const Credentials& creds) const {
  std::ifstream in(path_);
  if (!in) return Status::unavailable("back-end accounts file " + path_ + " cannot be read");
  const std::string prefix = creds.user.str() + ":";
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#' || !line.starts_with(prefix)) continue;
    const std::string stored = line.substr(prefix.size());
    const std::string presented = creds.scheme == CredentialScheme::kMd5Digest
                                      ? md5_base64(stored + ":" + creds.nonce)
                                      : md5_base64(creds.user.str() + ":" + creds.secret);
    const std::string expected = creds.scheme == CredentialScheme::kMd5Digest ? creds.secret : stored;
    if (same(presented, expected)) return Status::ok();
    break;
  }
  return Status::unauthenticated("back end refused user or password");
}

}  // namespace conflux::caf
