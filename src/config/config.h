// One Config tree from one TOML file (or the built-in defaults), validated
// whole before anything starts. Every error names its key path and line.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "caf/backend_registry.h"
#include "common/status.h"

namespace conflux::config {

struct ServerConfig {
  std::string listen = "127.0.0.1";  // loopback by default: expose deliberately
  uint16_t port = 8080;
  std::string sync_path = "/sync";  // where devices POST SyncML
  // Base URL devices reach the server by, used in RespURI. Empty: the URL the
  // client addressed (SyncHdr Target), which is right unless a proxy rewrites it.
  std::string public_url;
  // TLS on the listener: a PEM certificate chain (the server's certificate
  // first) and its unencrypted PEM key, both set or neither. Re-read on every
  // reload, so a renewed certificate needs no restart; switching TLS on or
  // off does. Empty: plain HTTP (e.g. behind a proxy that terminates TLS).
  std::string tls_certificate;
  std::string tls_key;
  uint64_t max_body_bytes = 4 * 1024 * 1024;  // larger requests get HTTP 413
  uint64_t max_connections = 256;             // concurrent sockets
  // Sockets one client address may hold (0: no cap); proxies in
  // auth.trusted_proxies are exempt. More get 503 with Retry-After.
  uint64_t max_connections_per_address = 32;
  // A request header must be complete this long after its first byte; a
  // keep-alive connection may wait idle_timeout_seconds for its next request.
  int64_t header_timeout_seconds = 10;
  int64_t idle_timeout_seconds = 60;
  int io_threads = 1;
  int worker_threads = 4;                  // handlers block on the database: a few more than cores
  int64_t session_timeout_seconds = 1800;  // idle SyncML sessions are forgotten after this
  uint64_t max_msg_size = 1024 * 1024;     // largest message we accept, announced to clients
  // Device quirk rules (engine/device_quirks.h). Empty: the rules built
  // into the binary (config/quirks.toml at build time); a file replaces them
  // whole and is re-read on reload.
  std::string quirks_file;
};

struct AuthConfig {
  // Challenge clients with syncml:auth-md5 (a fresh nonce per device and
  // session) instead of basic; both are accepted either way. MD5 keeps the
  // password off the wire but needs B64(MD5(user:password)) on file, which
  // `conflux user add|passwd` stores beside the argon2id hash.
  bool md5 = true;
  // Reverse proxies (addresses or networks, "10.0.0.0/8") whose
  // X-Forwarded-For / Forwarded header names the client. From anyone else
  // those headers are ignored: a client could name any address.
  std::vector<std::string> trusted_proxies;
  // Wrong passwords for one user from one address are free this many times;
  // each further one doubles the wait (login_first_delay_seconds, then twice
  // that ... up to login_max_delay_seconds) before that pair's next attempt
  // is checked.
  // A device that logged in before with the right password is never refused.
  int login_free_failures = 5;
  int64_t login_first_delay_seconds = 1;
  int64_t login_max_delay_seconds = 900;
  // Messages that do not authenticate (a first message, wrong credentials)
  // per client address: a burst of this many, then this many per minute.
  // More get HTTP 429 with Retry-After. Nothing is stored for them either way.
  int unauthenticated_burst = 60;
  int unauthenticated_per_minute = 120;
};

struct LogConfig {
  std::string level = "info";  // trace, debug, info, warn, error, off
  // "text" (the default, for people) or "json": one object per line with
  // time, level, logger, message and the sync's session, user, device and
  // datastore (common/log_context.h), for a log collector.
  std::string format = "text";
};

// [[webhooks]]: a program told of every batch of changes to a user's
// datastore, signed per Standard Webhooks (src/notify/).
struct WebhookConfig {
  std::string name;    // unique; the outbox names the subscription by it
  std::string url;     // http:// or https://
  std::string secret;  // whsec_ + base64 of 24 to 64 random bytes
  std::string user;    // empty: every user
  std::string store;   // empty: every datastore
};

// [[push]]: how to alert one device of changes with a Server Alerted
// Notification (DS 1.2 package 0), so it starts a sync (src/notify/).
struct PushConfig {
  std::string user;
  std::string device;     // the device id it syncs with
  std::string url;        // HTTP POST of the SAN (application/vnd.syncml.ds.notification), or
  std::string wap_push;   // "host:port" (port 2948 when left out): WAP Push over UDP, e.g. an SMS gateway
  std::string server_id;  // the server id in the device's profile; empty: the user name
};

// [notify]
struct NotifyConfig {
  // Delay before each retry of a failed webhook; after the last one the
  // message goes to the dead letters (`conflux webhooks failed|retry`).
  // Standard Webhooks' example schedule, about three days in all.
  std::vector<int64_t> webhook_retry_seconds = {5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400};
  int webhook_timeout_seconds = 15;
  // A device is alerted this long after the last change of a burst, once.
  int push_debounce_seconds = 5;
  // Networks that users' webhook subscriptions (made through the portal API)
  // may target although they are loopback, link-local or private ("10.0.0.0/8",
  // "::1"); by default none: only public addresses.
  std::vector<std::string> subscription_allowed_networks;
};

struct Config {
  ServerConfig server;
  std::string data_dir;  // absolute; holds conflux.db and the SQLite adapter's items.db
  // Where users, devices, nonces, sessions, anchors, maps, conflicts and
  // reports are kept: empty (the default) for conflux.db in data_dir, or a
  // postgresql:// URI for a PostgreSQL database several servers share.
  std::string database;
  // With `database`: a statement running longer (a locked table) is
  // cancelled and the call fails as "try later"; 0 waits for ever.
  int64_t statement_timeout_seconds = 30;
  // Names this server in the leases of the cache's replication queue, which
  // several servers may share; empty: the host name. Each node needs its own.
  std::string node_id;
  // Free space the data directory's file system must keep before a session
  // starts (SQLite's journal and WAL need room to finish what was begun);
  // below it new sessions get 503 and the log says how much is needed.
  uint64_t min_free_bytes = 64ull * 1024 * 1024;
  AuthConfig auth;
  LogConfig log;
  std::vector<caf::StoreSettings> stores;
  std::vector<WebhookConfig> webhooks;
  std::vector<PushConfig> push;
  NotifyConfig notify;
  // Where the loaded file set each key and section ("stores.contacts.root",
  // "stores.contacts", "storage.data_dir" → "conflux.toml:12"), for errors
  // found after loading (adapters, the data directory): see locate().
  std::map<std::string, std::string> origins;
};

// The data directory used when none is configured: $CONFLUX_DATA_DIR, else
// $XDG_DATA_HOME/conflux, else ~/.local/share/conflux.
std::string default_data_dir();

// Defaults: SQLite for contacts (vCard 3.0), calendar and tasks (iCalendar
// 2.0) and notes (text/plain).
Config default_config();

// Loads `path` over the defaults. kInvalidArgument with "file:line: key: what"
// for syntax errors, unknown keys and bad values; kNotFound when the file is
// missing. A [stores.*] table in the file replaces the default store list.
Result<Config> load_config_file(const std::string& path);
Result<Config> load_config_string(const std::string& toml_text, const std::string& source_name);

// An error found after loading that begins with a key path ("stores.x.root:
// missing") gets the file and line that key (else its section) came from in
// front, as load errors have; other errors come back as they are.
Status locate(const Config& config, const Status& error);

// Checks an address to listen on: an IP address (a host name would need a
// resolver at start and may name several addresses). kInvalidArgument says
// what to write instead.
Status check_listen_address(const std::string& address);

// Every setting of `config` by its key path ("server.listen",
// "stores.contacts.conflict_policy", adapter options included) with its value
// as text: what a reload compares to find what changed.
std::map<std::string, std::string> config_keys(const Config& config);

}  // namespace conflux::config
