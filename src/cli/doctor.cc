// `conflux doctor`: reads the configuration and checks what the server needs,
// one line per finding with what to do: the data directory (there, owned by
// this user, private, free space), the listener's TLS files (they load, the
// key fits, the certificate is not expired), the state database, and every datastore's
// back end (its section, what its adapter checks before opening — a vdir's
// root —, opening it as the server would, which reaches the back end and
// checks a mapping against its schema, and the login the CAF uses there).
// Exit status 1 when something is broken, so scripts and health checks can
// act on it. Run it as the server's user: permissions are checked for the
// user running it.
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "adapters/builtin_adapters.h"
#include "caf/content_manager.h"
#include "cli/command.h"
#include "cli/services.h"
#include "server/tls_context.h"

namespace conflux::app {
namespace {

enum class Level { kOk, kWarn, kBroken };

// Prints each finding as it is made (a slow back end shows where it waits)
// and counts the broken ones.
class Findings {
 public:
  void add(Level level, const std::string& subject, const std::string& text) {
    const char* word = level == Level::kOk ? "ok    " : level == Level::kWarn ? "warn  " : "BROKEN";
    std::cout << word << "  " << subject << ": " << text << "\n" << std::flush;
    if (level == Level::kBroken) ++broken_;
  }
  int broken() const { return broken_; }

 private:
  int broken_ = 0;
};

// What to do about a back end's answer, by the kind of failure.
std::string advice(const Status& status) {
  switch (status.code()) {
    case StatusCode::kUnavailable:
      return "the back end is down or unreachable: start it, or correct its address in the config";
    case StatusCode::kUnauthenticated:
      return "the back end refused the login: correct the user or password the config gives";
    case StatusCode::kPermissionDenied:
      return "the back end or the system refused access: give the server's user the rights";
    default: return "correct the store's section in the config";
  }
}

std::string mebibytes(uint64_t bytes) { return std::to_string(bytes / (1024 * 1024)) + " MiB"; }

std::string octal_mode(std::filesystem::perms p) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(p) & 07777u);
  return text;
}

void check_data_dir(const config::Config& cfg, Findings& out) {
  namespace fs = std::filesystem;
  const std::string subject = "data directory " + cfg.data_dir;
  std::error_code ec;
  const fs::file_status status = fs::status(cfg.data_dir, ec);
  if (!fs::exists(status)) {
    const fs::path parent = fs::path(cfg.data_dir).parent_path();
    if (::access(parent.c_str(), W_OK | X_OK) != 0) {
      out.add(Level::kBroken, subject,
              "does not exist and cannot be created here (" + parent.string() +
                  " is not writable): create it for the "
                  "server's user, or set storage.data_dir");
    } else {
      out.add(Level::kWarn, subject, "does not exist yet; the server creates it at start (check storage.data_dir)");
    }
    return;
  }
  if (!fs::is_directory(status)) {
    out.add(Level::kBroken, subject, "is not a directory: correct storage.data_dir");
    return;
  }
  struct stat info {};
  if (::stat(cfg.data_dir.c_str(), &info) == 0 && info.st_uid != ::geteuid()) {
    out.add(Level::kWarn, subject,
            "owned by uid " + std::to_string(info.st_uid) + ", not by this user (uid " + std::to_string(::geteuid()) +
                "): run the server and its commands as its owner (sudo -u conflux ...)");
  }
  if (::access(cfg.data_dir.c_str(), R_OK | W_OK | X_OK) != 0) {
    out.add(Level::kBroken, subject, "not writable by this user: chown it to the server's user");
    return;
  }
  for (const char* file : {"conflux.db", "items.db", "cache.db"}) {
    const fs::path path = fs::path(cfg.data_dir) / file;
    if (fs::exists(path, ec) && ::access(path.c_str(), R_OK | W_OK) != 0) {
      out.add(Level::kBroken, subject,
              std::string(file) + " is not writable by this user: chown it to the server's user");
    }
  }
  const fs::perms perms = status.permissions();
  if ((perms & (fs::perms::group_all | fs::perms::others_all)) != fs::perms::none) {
    out.add(Level::kWarn, subject,
            "mode " + octal_mode(perms) + " lets others in, and it holds password hashes: chmod 700 " + cfg.data_dir);
  }
  struct statvfs fs_info {};
  if (::statvfs(cfg.data_dir.c_str(), &fs_info) != 0) {
    out.add(Level::kWarn, subject, "cannot tell the free space");
    return;
  }
  const uint64_t free_bytes = static_cast<uint64_t>(fs_info.f_bavail) * fs_info.f_frsize;
  if (free_bytes < static_cast<uint64_t>(cfg.min_free_bytes)) {
    out.add(Level::kBroken, subject,
            mebibytes(free_bytes) + " free, below storage.min_free_bytes (" +
                mebibytes(static_cast<uint64_t>(cfg.min_free_bytes)) +
                "): new sessions get 503; free some space or lower min_free_bytes");
    return;
  }
  out.add(Level::kOk, subject, "mode " + octal_mode(perms) + ", " + mebibytes(free_bytes) + " free");
}

// Certificates renewed by certbot or acme.sh are renewed this long before
// they expire; one closer than that has missed its renewal.
constexpr int kCertificateWarnDays = 14;

void check_tls(const config::Config& cfg, Findings& out) {
  const config::ServerConfig& server = cfg.server;
  if (server.tls_certificate.empty() && server.tls_key.empty()) return;  // plain HTTP, e.g. behind a proxy
  const std::string subject = "TLS " + server.tls_certificate;
  // The same load the server does at start and on reload.
  auto loaded = server::TlsContext::load(server.tls_certificate, server.tls_key);
  if (!loaded) {
    out.add(Level::kBroken, subject, loaded.error().message() + "; correct server.tls_certificate / server.tls_key");
    return;
  }
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(server.tls_certificate.c_str(), "r"), &std::fclose);
  std::unique_ptr<X509, void (*)(X509*)> cert(file ? PEM_read_X509(file.get(), nullptr, nullptr, nullptr) : nullptr,
                                              &X509_free);
  int days = 0, seconds = 0;
  if (!cert || ASN1_TIME_diff(&days, &seconds, nullptr, X509_get0_notAfter(cert.get())) != 1) {
    out.add(Level::kWarn, subject, "loads, but its expiry date cannot be read");
  } else if (days < 0 || (days == 0 && seconds <= 0)) {
    out.add(Level::kBroken, subject, "the certificate has expired: renew it, then `conflux reload`");
  } else if (days < kCertificateWarnDays) {
    out.add(Level::kWarn, subject,
            "the certificate expires in " + std::to_string(days) + (days == 1 ? " day" : " days") +
                ": renew it, then `conflux reload`");
  } else {
    out.add(Level::kOk, subject, "certificate and key load; " + std::to_string(days) + " days until it expires");
  }
}

void check_state_database(const config::Config& cfg, Findings& out) {
  const std::string subject =
      cfg.database.empty() ? "state database " + cfg.data_dir + "/conflux.db" : "state database (storage.database)";
  auto services = Services::open_accounts(cfg);
  if (!services) {
    out.add(Level::kBroken, subject, services.error().message() + "; " + advice(services.error()));
    return;
  }
  auto users = (*services)->users->list();
  if (!users) {
    out.add(Level::kBroken, subject, users.error().message() + "; " + advice(users.error()));
    return;
  }
  const std::string where = (*services)->pg_db ? (*services)->pg_db->display_uri() + ", " : std::string();
  if (users->empty()) {
    out.add(Level::kWarn, subject, where + "no users yet: add one with `conflux user add NAME`");
  } else {
    out.add(Level::kOk, subject, where + std::to_string(users->size()) + " users");
  }
}

// The login the CAF uses at a back end with accounts of its own.
void check_login(const caf::StoreSettings& store, caf::ContentAdapter& adapter, Findings& out) {
  const std::string subject = "stores." + store.name;
  if (store.login == caf::BackendLogin::kService) {
    auto password = caf::read_secret_file(store.service_password_file);
    if (!password) {
      out.add(Level::kBroken, subject,
              "service_password_file: " + password.error().message() + ": write service_user's password into it");
      return;
    }
    const Status login =
        adapter.verify_credentials(store.name, caf::Credentials::with_password(UserId(store.service_user), *password));
    if (login.is_ok()) {
      out.add(Level::kOk, subject,
              "adapter " + store.adapter + ": reachable, login as service_user '" + store.service_user + "' accepted");
    } else if (login.code() == StatusCode::kUnauthenticated) {
      out.add(Level::kBroken, subject,
              "the back end refused service_user '" + store.service_user + "' (" + login.message() +
                  "): wrong user or password; put the right password in " + store.service_password_file);
    } else {
      out.add(Level::kBroken, subject, login.message() + "; " + advice(login));
    }
    return;
  }
  // Per-user logins: no password to try, but a made-up login must be refused
  // by a back end that is up (and one that takes it checks nothing).
  const Status probe = adapter.verify_credentials(
      store.name,
      caf::Credentials::with_password(UserId("conflux-doctor"), "not-a-password-" + std::to_string(getpid())));
  if (probe.code() == StatusCode::kUnauthenticated) {
    out.add(Level::kOk, subject,
            "adapter " + store.adapter + ": reachable; each user's own password is checked when they log in");
  } else if (probe.is_ok()) {
    out.add(Level::kWarn, subject,
            "the back end accepted a made-up login ('conflux-doctor'): check its authentication");
  } else {
    out.add(Level::kBroken, subject, probe.message() + "; " + advice(probe));
  }
}

void check_stores(const config::Config& cfg, Findings& out) {
  caf::BackendRegistry registry;
  if (Status st = adapters::register_builtin_adapters(registry); !st.is_ok()) {
    out.add(Level::kBroken, "adapters", st.message());
    return;
  }
  const caf::AdapterEnv env{cfg.data_dir};
  for (const auto& store : cfg.stores) {
    const std::string subject = "stores." + store.name;
    auto problems = registry.check_store(store, env);
    for (const auto& problem : problems) out.add(Level::kBroken, subject, problem.message());
    if (!problems.empty()) continue;
    // Opening it as the server does reaches the back end and checks what the
    // adapter checks at start (a postgresql mapping against the live schema).
    if (Status opened = config::locate(cfg, registry.add_store(store, env)); !opened.is_ok()) {
      out.add(Level::kBroken, subject, opened.message() + "; " + advice(opened));
      continue;
    }
    caf::ContentAdapter& adapter = *registry.adapter_for(store.name);
    if ((adapter.caps() & caf::kCapOwnAccounts) != 0) {
      check_login(store, adapter, out);
    } else {
      out.add(Level::kOk, subject, "adapter " + store.adapter + " opened");
    }
  }
}

int run_doctor(const config::Config& cfg) {
  Findings out;
  check_data_dir(cfg, out);
  check_tls(cfg, out);
  check_state_database(cfg, out);
  check_stores(cfg, out);
  if (out.broken() == 0) {
    std::cout << "nothing broken\n";
    return 0;
  }
  std::cout << out.broken() << (out.broken() == 1 ? " thing" : " things") << " broken\n";
  return 1;
}

}  // namespace

void register_doctor_command(CLI::App& app, Context& ctx) {
  auto* doctor =
      app.add_subcommand("doctor", "check the configuration, data directory and every back end; one line per finding");
  set_action(doctor, ctx, [](const config::Config& cfg) { return run_doctor(cfg); });
}

}  // namespace conflux::app
