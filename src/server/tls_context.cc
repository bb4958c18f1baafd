#include "server/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509err.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace conflux::server {
namespace {

namespace ssl = boost::asio::ssl;

// OpenSSL's reason for a failure; clears OpenSSL's error queue, which is
// per thread and would otherwise show in a later, unrelated error.
std::string openssl_reason(const boost::system::error_code& ec) {
  const char* reason = ERR_reason_error_string(static_cast<unsigned long>(ec.value()));
  ERR_clear_error();
  return reason != nullptr ? reason : ec.message();
}

// A file that cannot be read gets the system's reason, not OpenSSL's.
Status check_readable(const char* what, const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return Status::invalid_argument(std::string(what) + " " + path + ": " + std::strerror(errno));
  std::fclose(file);
  return Status::ok();
}

Result<std::shared_ptr<ssl::context>> make_context(const std::string& certificate_file, const std::string& key_file) {
  CFX_RETURN_IF_ERROR(check_readable("TLS certificate", certificate_file));
  CFX_RETURN_IF_ERROR(check_readable("TLS key", key_file));
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  // TLS 1.2 and 1.3 only (RFC 8996 deprecates 1.0 and 1.1); no compression
  // (CRIME); a fresh key for each handshake.
  SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_compression | ssl::context::single_dh_use);
  boost::system::error_code ec;
  context->use_certificate_chain_file(certificate_file, ec);
  if (ec) {
    return Status::invalid_argument("TLS certificate " + certificate_file + ": " + openssl_reason(ec) +
                                    " (expected a PEM certificate chain, the server's certificate first)");
  }
  // OpenSSL checks that the key belongs to the certificate loaded above.
  context->use_private_key_file(key_file, ssl::context::pem, ec);
  if (ec && ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH) {
    ERR_clear_error();
    return Status::invalid_argument("TLS key " + key_file + " does not belong to the certificate " + certificate_file);
  }
  if (ec) {
    return Status::invalid_argument("TLS key " + key_file + ": " + openssl_reason(ec) +
                                    " (expected an unencrypted PEM private key)");
  }
  return context;
}

}  // namespace

Result<std::shared_ptr<TlsContext>> TlsContext::load(const std::string& certificate_file, const std::string& key_file) {
  std::shared_ptr<TlsContext> tls(new TlsContext());
  CFX_RETURN_IF_ERROR(tls->reload(certificate_file, key_file));
  return tls;
}

Status TlsContext::reload(const std::string& certificate_file, const std::string& key_file) {
  auto context = make_context(certificate_file, key_file);
  if (!context) return context.error();
  std::lock_guard lock(mutex_);
  current_ = std::move(*context);
  certificate_file_ = certificate_file;
  return Status::ok();
}

std::shared_ptr<boost::asio::ssl::context> TlsContext::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

std::string TlsContext::certificate_file() const {
  std::lock_guard lock(mutex_);
  return certificate_file_;
}

}  // namespace conflux::server
