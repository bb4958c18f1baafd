// The session id a client gets in RespURI (`?sid=…`) is a bearer secret: with
// it and the device id a client continues the session without credentials
// (issue #11). So the id is "<key>.<tag>": the key names the session in the
// state store, the log and reports; the tag, an HMAC of the key under the
// server's secret, is in the RespURI alone and never stored or logged. A key
// read from a log line, a report or a database dump opens nothing.
#pragma once

#include <optional>
#include <string>

#include "common/ids.h"

namespace conflux::engine {

class SessionIds {
 public:
  // `secret`: the server's key (every node shares it, so any node can check
  // an id); empty: a random one for this process.
  explicit SessionIds(const std::string& secret);

  std::string id_for(const SessionKey& key) const;
  // The key of an id this server issued; nullopt for anything else.
  std::optional<SessionKey> key_of(const std::string& id) const;

 private:
  std::string tag(const SessionKey& key) const;

  const std::string key_;
};

}  // namespace conflux::engine
