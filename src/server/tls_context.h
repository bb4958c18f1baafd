// The listener's TLS certificate and key (OpenSSL through Asio). The files
// are read at start and again on reload; a connection takes the context in
// force when it is accepted and keeps it to its end, so a reload never
// disturbs a handshake or a session under way.
//
// Threads: current() from any thread; reload() from one (the server's main
// thread, on SIGHUP).
#pragma once

#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <mutex>
#include <string>

#include "common/status.h"

namespace conflux::server {

class TlsContext {
 public:
  // Reads a PEM certificate chain (the server's certificate first, then
  // intermediates) and its PEM private key. kInvalidArgument naming the file
  // and OpenSSL's reason when one cannot be read or the two do not match.
  static Result<std::shared_ptr<TlsContext>> load(const std::string& certificate_file, const std::string& key_file);

  // Reads the files again (new paths, or new contents at the same paths,
  // e.g. a renewed certificate). On failure the context in force stays and
  // the status says why.
  Status reload(const std::string& certificate_file, const std::string& key_file);

  std::shared_ptr<boost::asio::ssl::context> current() const;

  // The certificate file in force, for the log.
  std::string certificate_file() const;

 private:
  TlsContext() = default;

  mutable std::mutex mutex_;
  std::shared_ptr<boost::asio::ssl::context> current_;  // guarded by mutex_
  std::string certificate_file_;                        // guarded by mutex_
};

}  // namespace conflux::server
