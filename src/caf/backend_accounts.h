// The account list a back end keeps for itself, for the embedded back ends
// (sqlite, vdir), which have no login of their own: with their
// `accounts_file` option set they verify credentials against this file
// instead of trusting Conflux's accounts, as an IMAP or LDAP server would
// against its own. This is what "log in to the back end" means for them —
// the `login = "service"` account or each user's own (`login = "per-user"`).
//
// File: one account per line, "<user>:<B64(MD5(user:password))>" (the
// password-equivalent syncml:auth-md5 needs, as Conflux keeps for its own
// users); empty lines and lines starting with '#' are skipped. Make a line with
//   printf 'alice:%s\n' "$(printf 'alice:secret' | openssl md5 -binary | base64)"
// The file is read at every check, so an account removed from it is refused
// from the next check on — a write with an unrestricted-read token included.
#pragma once

#include <string>

#include "caf/backend_registry.h"
#include "caf/content_adapter.h"

namespace conflux::caf {

class BackendAccounts {
 public:
  explicit BackendAccounts(std::string path) : path_(std::move(path)) {}

  // OK when the file lists the user and the password (kPassword) or the
  // digest made with creds.nonce (kMd5Digest) matches; kUnauthenticated for an
  // unknown user and a wrong secret alike; kUnavailable when the file cannot
  // be read.
  Status verify(const Credentials& creds) const;

  const std::string& path() const { return path_; }

  // A store's `accounts_file` option made absolute against env.data_dir;
  // empty when the option is empty or not set (the back end trusts Conflux's accounts).
  static std::string configured_path(const std::string& accounts_file, const AdapterEnv& env);

 private:
  const std::string path_;
};

}  // namespace conflux::caf
