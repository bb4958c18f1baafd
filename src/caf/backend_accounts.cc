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

std::string BackendAccounts::configured_path(const std::string& accounts_file, const AdapterEnv& env) {
  if (accounts_file.empty()) return {};
  std::filesystem::path path(accounts_file);
  if (path.is_relative()) path = std::filesystem::path(env.data_dir) / path;
  return path.lexically_normal().string();
}

Status BackendAccounts::verify(const Credentials& creds) const {
  std::ifstream in(path_);
  if (!in) return Status::unavailable("back-end accounts file " + path_ + " cannot be read");
  Status refused = Status::unauthenticated("back end refused user or password");
  if (creds.user.empty() || creds.user.str().find(':') != std::string::npos) return refused;
  const std::string prefix = creds.user.str() + ":";
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#' || !line.starts_with(prefix)) continue;
    const std::string stored = line.substr(prefix.size());  // B64(MD5(user:password))
    // Basic: hash the password as stored; MD5: the digest `stored` gives with the nonce.
    const bool digest = creds.scheme == CredentialScheme::kMd5Digest;
    const std::string ours = digest ? md5_base64(stored + ":" + creds.nonce) : stored;
    const std::string theirs = digest ? creds.secret : md5_base64(creds.user.str() + ":" + creds.secret);
    return same(ours, theirs) ? Status::ok() : refused;
  }
  return refused;
}

}  // namespace conflux::caf
