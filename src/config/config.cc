#include "config/config.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "common/base64.h"
#include "common/ip_networks.h"

namespace conflux::config {
namespace {

std::string where(const std::string& source, const toml::node& node) {
  return source + ":" + std::to_string(node.source().begin.line);
}

Status bad(const std::string& source, const toml::node& node, const std::string& key, const std::string& what) {
  return Status::invalid_argument(where(source, node) + ": " + key + ": " + what);
}

// Edits (insert, delete, replace, swap two neighbours) from a to b: optimal
// string alignment distance, for "did you mean".
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

// " (did you mean 'x'?)" for the known key nearest to a misspelt one, when
// it is near enough to be a typo (one edit per four letters); empty otherwise.
std::string did_you_mean(const std::string& key, const std::vector<std::string>& known) {
  const std::string* best = nullptr;
  size_t best_distance = std::max<size_t>(1, key.size() / 4) + 1;
  for (const auto& k : known) {
    size_t d = edit_distance(key, k);
    if (d < best_distance) best_distance = d, best = &k;
  }
  return best ? " (did you mean '" + *best + "'?)" : "";
}

// Reads one table's keys into typed fields; every key must be known.
class TableReader {
 public:
  TableReader(const toml::table& table, std::string prefix, std::string source)
      : table_(table), prefix_(std::move(prefix)), source_(std::move(source)) {}

  Status string(const char* key, std::string& out) {
    seen_.insert(key);
    const toml::node* node = table_.get(key);
    if (!node) return Status::ok();
    auto value = node->value<std::string>();
    if (!value || !node->is_string()) return bad(source_, *node, prefix_ + key, "must be a string");
    out = *value;
    return Status::ok();
  }

  Status boolean(const char* key, bool& out) {
    seen_.insert(key);
    const toml::node* node = table_.get(key);
    if (!node) return Status::ok();
    if (!node->is_boolean()) return bad(source_, *node, prefix_ + key, "must be true or false");
    out = *node->value<bool>();
    return Status::ok();
  }

  template <typename Int>
  Status integer(const char* key, Int& out, int64_t min, int64_t max) {
    seen_.insert(key);
    const toml::node* node = table_.get(key);
    if (!node) return Status::ok();
    if (!node->is_integer()) return bad(source_, *node, prefix_ + key, "must be an integer");
    int64_t v = *node->value<int64_t>();
    if (v < min || v > max) {
      return bad(source_, *node, prefix_ + key,
                 "must be between " + std::to_string(min) + " and " + std::to_string(max));
    }
    out = static_cast<Int>(v);
    return Status::ok();
  }

  Status strings(const char* key, std::vector<std::string>& out) {
    seen_.insert(key);
    const toml::node* node = table_.get(key);
    if (!node) return Status::ok();
    const toml::array* array = node->as_array();
    if (!array) return bad(source_, *node, prefix_ + key, "must be an array of strings");
    out.clear();
    for (const auto& element : *array) {
      auto value = element.value<std::string>();
      if (!value || !element.is_string()) return bad(source_, element, prefix_ + key, "must be an array of strings");
      out.push_back(*value);
    }
    return Status::ok();
  }

  Status integer_list(const char* key, std::vector<int64_t>& out, int64_t min, int64_t max) {
    seen_.insert(key);
    const toml::node* node = table_.get(key);
    if (!node) return Status::ok();
    const toml::array* array = node->as_array();
    const std::string what =
        "must be a non-empty array of integers between " + std::to_string(min) + " and " + std::to_string(max);
    if (!array || array->empty()) return bad(source_, *node, prefix_ + key, what);
    out.clear();
    for (const auto& element : *array) {
      auto value = element.value<int64_t>();
      if (!value || !element.is_integer() || *value < min || *value > max) {
        return bad(source_, element, prefix_ + key, what);
      }
      out.push_back(*value);
    }
    return Status::ok();
  }

  Status no_unknown_keys() const {
    for (const auto& [key, node] : table_) {
      if (!seen_.count(std::string(key.str()))) {
        return bad(source_, node, prefix_ + std::string(key.str()),
                   "unknown key" + did_you_mean(std::string(key.str()), {seen_.begin(), seen_.end()}));
      }
    }
    return Status::ok();
  }

 private:
  const toml::table& table_;
  const std::string prefix_;
  const std::string source_;
  std::set<std::string> seen_;
};

Status read_server(const toml::table& t, const std::string& source, ServerConfig& s) {
  TableReader r(t, "server.", source);
  CFX_RETURN_IF_ERROR(r.string("listen", s.listen));
  CFX_RETURN_IF_ERROR(r.integer("port", s.port, 0, 65535));
  CFX_RETURN_IF_ERROR(r.string("sync_path", s.sync_path));
  CFX_RETURN_IF_ERROR(r.string("public_url", s.public_url));
  CFX_RETURN_IF_ERROR(r.string("tls_certificate", s.tls_certificate));
  CFX_RETURN_IF_ERROR(r.string("tls_key", s.tls_key));
  CFX_RETURN_IF_ERROR(r.integer("max_body_bytes", s.max_body_bytes, 1024, int64_t{1} << 32));
  CFX_RETURN_IF_ERROR(r.integer("max_connections", s.max_connections, 1, 1000000));
  CFX_RETURN_IF_ERROR(r.integer("max_connections_per_address", s.max_connections_per_address, 0, 1000000));
  CFX_RETURN_IF_ERROR(r.integer("header_timeout_seconds", s.header_timeout_seconds, 1, 300));
  CFX_RETURN_IF_ERROR(r.integer("idle_timeout_seconds", s.idle_timeout_seconds, 1, 3600));
  CFX_RETURN_IF_ERROR(r.integer("io_threads", s.io_threads, 1, 256));
  CFX_RETURN_IF_ERROR(r.integer("worker_threads", s.worker_threads, 1, 1024));
  CFX_RETURN_IF_ERROR(r.integer("session_timeout_seconds", s.session_timeout_seconds, 10, 86400 * 7));
  CFX_RETURN_IF_ERROR(r.integer("max_msg_size", s.max_msg_size, 4096, int64_t{1} << 30));
  CFX_RETURN_IF_ERROR(r.string("quirks_file", s.quirks_file));
  CFX_RETURN_IF_ERROR(r.no_unknown_keys());
  if (const toml::node* listen = t.get("listen")) {
    if (Status st = check_listen_address(s.listen); !st.is_ok())
      return bad(source, *listen, "server.listen", st.message());
  }
  if (s.tls_certificate.empty() != s.tls_key.empty()) {
    const char* missing = s.tls_certificate.empty() ? "tls_certificate" : "tls_key";
    const char* present = s.tls_certificate.empty() ? "tls_key" : "tls_certificate";
    return bad(source, *t.get(present), std::string("server.") + present,
               std::string("TLS needs both files: set server.") + missing + " too, or neither");
  }
  if (s.sync_path.empty() || s.sync_path[0] != '/') {
    return bad(source, *t.get("sync_path"), "server.sync_path", "must start with '/'");
  }
  return Status::ok();
}

// The keys every [stores.<name>] section may have, whatever its adapter.
const std::vector<std::string> kStoreKeys = {"adapter",
                                             "content_type",
                                             "content_version",
                                             "conflict_policy",
                                             "access",
                                             "login",
                                             "service_user",
                                             "service_password_file",
                                             "cache",
                                             "cache_trigger",
                                             "cache_amount",
                                             "cache_interval_seconds",
                                             "backend_monitor",
                                             "backend_poll_seconds",
                                             "cache_stuck_after_attempts",
                                             "cache_tombstone_max_age_seconds",
                                             "history_days",
                                             "history_versions",
                                             "mass_delete_min_items",
                                             "mass_delete_percent"};

// The cache_* keys of a [stores.<name>] section (caf::CacheSettings); `value`
// is the node as text.
Status read_cache_key(const std::string& key, const toml::node& node, const std::string& value,
                      const std::string& source, const std::string& path, caf::CacheSettings& cache) {
  if (key == "cache") {
    if (!node.is_boolean()) return bad(source, node, path, "must be true or false");
    cache.enabled = value == "true";
    return Status::ok();
  }
  if (key == "cache_trigger") {
    if (value == "amount" && node.is_string()) {
      cache.trigger = caf::CacheTrigger::kAmount;
    } else if (value == "interval" && node.is_string()) {
      cache.trigger = caf::CacheTrigger::kInterval;
    } else if (value == "combined" && node.is_string()) {
      cache.trigger = caf::CacheTrigger::kCombined;
    } else {
      return bad(source, node, path, "must be one of amount, interval, combined");
    }
    return Status::ok();
  }
  if (key == "backend_monitor") {
    if (value == "poll" && node.is_string()) {
      cache.backend_monitor = caf::CacheSettings::BackendMonitor::kPoll;
    } else if (value == "push" && node.is_string()) {
      cache.backend_monitor = caf::CacheSettings::BackendMonitor::kPush;
    } else {
      return bad(source, node, path, "must be one of poll, push");
    }
    return Status::ok();
  }
  int64_t* target = key == "cache_amount"                      ? &cache.amount
                    : key == "cache_interval_seconds"          ? &cache.interval_seconds
                    : key == "backend_poll_seconds"            ? &cache.backend_poll_seconds
                    : key == "cache_stuck_after_attempts"      ? &cache.stuck_after_attempts
                    : key == "cache_tombstone_max_age_seconds" ? &cache.tombstone_max_age_seconds
                                                               : nullptr;
  if (target == nullptr) return bad(source, node, path, "unknown cache key" + did_you_mean(key, kStoreKeys));
  auto number = node.value<int64_t>();
  if (!node.is_integer() || !number || *number < 1 || *number > 86400 * 365) {
    return bad(source, node, path, "must be an integer from 1 to 31536000");
  }
  *target = *number;
  return Status::ok();
}

Status read_store(const std::string& name, const toml::table& t, const std::string& source, caf::StoreSettings& store) {
  store.name = name;
  store.content_type.clear();
  store.content_version.clear();
  for (const auto& [key, node] : t) {
    std::string k(key.str());
    std::string path = "stores." + name + "." + k;
    caf::OptionValue typed;
    if (auto s = node.value<std::string>(); s && node.is_string()) {
      typed = *s;
    } else if (auto i = node.value<int64_t>(); i && node.is_integer()) {
      typed = *i;
    } else if (auto b = node.value<bool>(); b && node.is_boolean()) {
      typed = *b;
    } else {
      return bad(source, node, path, "must be a string, integer or boolean");
    }
    const std::string value = caf::option_text(typed);
    if (k == "adapter") {
      store.adapter = value;
    } else if (k == "content_type") {
      store.content_type = value;
    } else if (k == "content_version") {
      store.content_version = value;
    } else if (k == "conflict_policy") {
      auto policy = caf::parse_conflict_policy(value);
      if (!policy) {
        return bad(source, node, path,
                   "'" + value +
                       "' is not a conflict policy: use server-wins, client-wins, newest-wins, merge, "
                       "duplicate or report");
      }
      store.conflict_policy = *policy;
    } else if (k == "access") {
      auto kind = caf::parse_token_kind(value);
      if (!kind || !node.is_string()) {
        return bad(source, node, path, "must be one of read-write, read-only, unrestricted-read");
      }
      store.access = *kind;
    } else if (k == "login") {
      if (value == "service" && node.is_string()) {
        store.login = caf::BackendLogin::kService;
      } else if (value == "per-user" && node.is_string()) {
        store.login = caf::BackendLogin::kPerUser;
      } else {
        return bad(source, node, path, "must be one of service, per-user");
      }
    } else if (k == "service_user") {
      store.service_user = value;
    } else if (k == "service_password_file") {
      store.service_password_file = value;
    } else if (k == "history_days") {
      auto n = node.value<int64_t>();
      if (!node.is_integer() || !n || *n < 0 || *n > 36500) {
        return bad(source, node, path, "must be a number of days from 0 (no history) to 36500");
      }
      store.history_days = static_cast<int>(*n);
    } else if (k == "history_versions") {
      auto n = node.value<int64_t>();
      if (!node.is_integer() || !n || *n < 0 || *n > 1'000'000) {
        return bad(source, node, path, "must be a number of versions per item from 1 to 1000000, or 0 (no limit)");
      }
      store.history_versions = static_cast<int>(*n);
    } else if (k == "mass_delete_min_items" || k == "mass_delete_percent") {
      auto n = node.value<int64_t>();
      const int64_t most = k == "mass_delete_percent" ? 100 : 1'000'000'000;
      if (!node.is_integer() || !n || *n < 0 || *n > most) {
        return bad(source, node, path, "must be an integer from 0 to " + std::to_string(most));
      }
      (k == "mass_delete_min_items" ? store.mass_delete.min_items : store.mass_delete.percent) = static_cast<int>(*n);
    } else if (k.starts_with("cache") || k.starts_with("backend_")) {
      CFX_RETURN_IF_ERROR(read_cache_key(k, node, value, source, path, store.cache));
    } else if (std::string hint = did_you_mean(k, kStoreKeys); !hint.empty()) {
      // Adapter options are checked by the adapter; one this close to a
      // key of every store is a typo of it.
      return bad(source, node, path, "unknown key" + hint);
    } else {
      store.options[k] = std::move(typed);  // the adapter's factory checks it against its keys
    }
  }
  // Datastore names travel in tokens and URLs: no separators there.
  if (name.empty() || name.find_first_of(",=/. ") != std::string::npos) {
    return bad(source, t, "stores." + name, "a datastore name must not be empty or hold ',', '=', '/', '.' or spaces");
  }
  if (store.service_user.empty() != store.service_password_file.empty()) {
    return bad(source, t, "stores." + name + ".service_user", "service_user and service_password_file go together");
  }
  if (store.adapter.empty()) return bad(source, t, "stores." + name + ".adapter", "missing");
  if (store.content_type.empty()) return bad(source, t, "stores." + name + ".content_type", "missing");
  if (store.cache.backend_monitor == caf::CacheSettings::BackendMonitor::kPush && !store.cache.enabled) {
    return bad(source, *t.get("backend_monitor"), "stores." + name + ".backend_monitor",
               "push needs cache = true (the Back End Monitor fills the cache)");
  }
  return Status::ok();
}

// Every table and key of `table` by its path, with where the file set it.
void record_origins(const toml::table& table, const std::string& prefix, const std::string& source,
                    std::map<std::string, std::string>& origins) {
  for (const auto& [key, node] : table) {
    const std::string path = prefix + std::string(key.str());
    origins[path] = where(source, node);
    if (const toml::table* inner = node.as_table()) record_origins(*inner, path + ".", source, origins);
  }
}

caf::StoreSettings sqlite_store(std::string name, std::string type, std::string version) {
  caf::StoreSettings s;
  s.name = std::move(name);
  s.adapter = "sqlite";
  s.content_type = std::move(type);
  s.content_version = std::move(version);
  return s;
}

Status read_notify(const toml::table& t, const std::string& source, NotifyConfig& n) {
  TableReader r(t, "notify.", source);
  CFX_RETURN_IF_ERROR(r.integer("webhook_timeout_seconds", n.webhook_timeout_seconds, 1, 300));
  CFX_RETURN_IF_ERROR(r.integer_list("webhook_retry_seconds", n.webhook_retry_seconds, 1, 7 * 86400));
  CFX_RETURN_IF_ERROR(r.integer("push_debounce_seconds", n.push_debounce_seconds, 0, 3600));
  CFX_RETURN_IF_ERROR(r.strings("subscription_allowed_networks", n.subscription_allowed_networks));
  if (auto networks = IpNetworks::parse(n.subscription_allowed_networks); !networks) {
    return bad(source, *t.get("subscription_allowed_networks"), "notify.subscription_allowed_networks",
               networks.error().message());
  }
  return r.no_unknown_keys();
}

Status read_webhook(const toml::table& t, const std::string& source, const Config& c, WebhookConfig& w) {
  TableReader r(t, "webhooks.", source);
  CFX_RETURN_IF_ERROR(r.string("name", w.name));
  CFX_RETURN_IF_ERROR(r.string("url", w.url));
  CFX_RETURN_IF_ERROR(r.string("secret", w.secret));
  CFX_RETURN_IF_ERROR(r.string("user", w.user));
  CFX_RETURN_IF_ERROR(r.string("store", w.store));
  CFX_RETURN_IF_ERROR(r.no_unknown_keys());
  if (w.name.empty()) return bad(source, t, "webhooks.name", "every webhook needs a name (the outbox keeps it)");
  if (w.name.rfind("subscription:", 0) == 0) {
    return bad(source, t, "webhooks.name", "\"subscription:\" starts the names of users' own subscriptions");
  }
  const std::string key = "webhooks." + w.name;
  for (const auto& other : c.webhooks) {
    if (other.name == w.name) return bad(source, t, key, "a second webhook of this name");
  }
  if (w.url.rfind("http://", 0) != 0 && w.url.rfind("https://", 0) != 0) {
    return bad(source, t, key + ".url", "must start with http:// or https://");
  }
  // Standard Webhooks: whsec_ and the base64 of 24 to 64 random bytes.
  std::optional<std::string> key_bytes;
  if (w.secret.rfind("whsec_", 0) == 0) key_bytes = base64_decode(std::string_view(w.secret).substr(6));
  if (!key_bytes || key_bytes->size() < 24 || key_bytes->size() > 64) {
    return bad(source, t, key + ".secret",
               "must be whsec_ and the base64 of 24 to 64 random bytes (e.g. \"whsec_$(openssl rand -base64 32)\")");
  }
  if (!w.store.empty() &&
      std::none_of(c.stores.begin(), c.stores.end(), [&](const caf::StoreSettings& s) { return s.name == w.store; })) {
    return bad(source, t, key + ".store", "no datastore '" + w.store + "' is configured");
  }
  return Status::ok();
}

Status read_push(const toml::table& t, const std::string& source, const Config& c, PushConfig& p) {
  TableReader r(t, "push.", source);
  CFX_RETURN_IF_ERROR(r.string("user", p.user));
  CFX_RETURN_IF_ERROR(r.string("device", p.device));
  CFX_RETURN_IF_ERROR(r.string("url", p.url));
  CFX_RETURN_IF_ERROR(r.string("wap_push", p.wap_push));
  CFX_RETURN_IF_ERROR(r.string("server_id", p.server_id));
  CFX_RETURN_IF_ERROR(r.no_unknown_keys());
  if (p.user.empty() || p.device.empty()) return bad(source, t, "push", "every [[push]] needs user and device");
  const std::string key = "push." + p.user + "." + p.device;
  for (const auto& other : c.push) {
    if (other.user == p.user && other.device == p.device)
      return bad(source, t, key, "a second [[push]] for this device");
  }
  if (p.url.empty() == p.wap_push.empty()) return bad(source, t, key, "give exactly one of url and wap_push");
  if (!p.url.empty() && p.url.rfind("http://", 0) != 0 && p.url.rfind("https://", 0) != 0) {
    return bad(source, t, key + ".url", "must start with http:// or https://");
  }
  if (p.server_id.size() > 255) return bad(source, t, key + ".server_id", "at most 255 bytes (SAN)");
  return Status::ok();
}

}  // namespace

std::string default_data_dir() {
  if (const char* dir = std::getenv("CONFLUX_DATA_DIR"); dir && *dir) return std::filesystem::absolute(dir);
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) return std::string(xdg) + "/conflux";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.local/share/conflux";
}

Config default_config() {
  Config c;
  c.data_dir = default_data_dir();
  c.stores = {
      sqlite_store("contacts", "text/vcard", "3.0"),
      sqlite_store("calendar", "text/calendar", "2.0"),
      sqlite_store("tasks", "text/calendar", "2.0"),
      sqlite_store("notes", "text/plain", "1.0"),
  };
  return c;
}

Result<Config> load_config_string(const std::string& text, const std::string& source) {
  // Debian's toml++ is built with exceptions: catch at this edge.
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& err) {
    return Status::invalid_argument(source + ":" + std::to_string(err.source().begin.line) + ": " +
                                    std::string(err.description()));
  }
  Config c = default_config();
  for (const auto& [key, node] : root) {
    std::string k(key.str());
    if (k == "server" || k == "auth" || k == "log" || k == "storage" || k == "stores" || k == "notify") {
      if (!node.is_table()) return bad(source, node, k, "must be a table");
      continue;
    }
    if (k == "webhooks" || k == "push") {
      if (!node.is_array_of_tables()) return bad(source, node, k, "must be [[" + k + "]] tables");
      continue;
    }
    return bad(source, node, k,
               "unknown section" +
                   did_you_mean(k, {"server", "auth", "log", "storage", "stores", "notify", "webhooks", "push"}));
  }
  if (const toml::table* t = root["server"].as_table()) CFX_RETURN_IF_ERROR(read_server(*t, source, c.server));
  if (const toml::table* t = root["storage"].as_table()) {
    TableReader r(*t, "storage.", source);
    CFX_RETURN_IF_ERROR(r.string("data_dir", c.data_dir));
    CFX_RETURN_IF_ERROR(r.string("database", c.database));
    CFX_RETURN_IF_ERROR(r.string("node_id", c.node_id));
    if (!c.database.empty() && c.database.rfind("postgresql://", 0) != 0 && c.database.rfind("postgres://", 0) != 0) {
      return Status::invalid_argument(source +
                                      ": storage.database: expected a postgresql:// URI (leave it out to "
                                      "keep everything in conflux.db)");
    }
    CFX_RETURN_IF_ERROR(r.integer("min_free_bytes", c.min_free_bytes, 0, int64_t{1} << 50));
    CFX_RETURN_IF_ERROR(r.integer("statement_timeout_seconds", c.statement_timeout_seconds, 0, 86400));
    CFX_RETURN_IF_ERROR(r.no_unknown_keys());
    c.data_dir = std::filesystem::absolute(c.data_dir);
  }
  if (const toml::table* t = root["auth"].as_table()) {
    TableReader r(*t, "auth.", source);
    CFX_RETURN_IF_ERROR(r.boolean("md5", c.auth.md5));
    CFX_RETURN_IF_ERROR(r.strings("trusted_proxies", c.auth.trusted_proxies));
    CFX_RETURN_IF_ERROR(r.integer("login_free_failures", c.auth.login_free_failures, 1, 1000));
    CFX_RETURN_IF_ERROR(r.integer("login_first_delay_seconds", c.auth.login_first_delay_seconds, 1, 3600));
    CFX_RETURN_IF_ERROR(r.integer("login_max_delay_seconds", c.auth.login_max_delay_seconds, 1, 86400));
    CFX_RETURN_IF_ERROR(r.integer("unauthenticated_burst", c.auth.unauthenticated_burst, 1, 1000000));
    CFX_RETURN_IF_ERROR(r.integer("unauthenticated_per_minute", c.auth.unauthenticated_per_minute, 1, 1000000));
    CFX_RETURN_IF_ERROR(r.no_unknown_keys());
    if (auto proxies = IpNetworks::parse(c.auth.trusted_proxies); !proxies) {
      return bad(source, *t->get("trusted_proxies"), "auth.trusted_proxies", proxies.error().message());
    }
  }
  if (const toml::table* t = root["log"].as_table()) {
    TableReader r(*t, "log.", source);
    CFX_RETURN_IF_ERROR(r.string("level", c.log.level));
    CFX_RETURN_IF_ERROR(r.string("format", c.log.format));
    CFX_RETURN_IF_ERROR(r.no_unknown_keys());
    if (c.log.format != "text" && c.log.format != "json") {
      return bad(source, *t->get("format"), "log.format", "unknown format '" + c.log.format + "' (text or json)");
    }
    static const std::set<std::string> levels = {"trace", "debug", "info", "warn", "error", "critical", "off"};
    if (!levels.count(c.log.level)) {
      return bad(source, *t->get("level"), "log.level",
                 "unknown level '" + c.log.level + "' (one of trace, debug, info, warn, error, critical, off)");
    }
  }
  if (const toml::table* t = root["stores"].as_table()) {
    c.stores.clear();
    for (const auto& [name, node] : *t) {
      if (!node.is_table()) return bad(source, node, "stores." + std::string(name.str()), "must be a table");
      caf::StoreSettings store;
      CFX_RETURN_IF_ERROR(read_store(std::string(name.str()), *node.as_table(), source, store));
      c.stores.push_back(std::move(store));
    }
    if (c.stores.empty()) return bad(source, *t, "stores", "no datastore configured");
  }
  if (const toml::table* t = root["notify"].as_table()) CFX_RETURN_IF_ERROR(read_notify(*t, source, c.notify));
  if (const toml::array* hooks = root["webhooks"].as_array()) {
    for (const auto& node : *hooks) {
      WebhookConfig hook;
      CFX_RETURN_IF_ERROR(read_webhook(*node.as_table(), source, c, hook));
      c.webhooks.push_back(std::move(hook));
    }
  }
  if (const toml::array* pushes = root["push"].as_array()) {
    for (const auto& node : *pushes) {
      PushConfig push;
      CFX_RETURN_IF_ERROR(read_push(*node.as_table(), source, c, push));
      c.push.push_back(std::move(push));
    }
  }
  record_origins(root, "", source, c.origins);
  for (auto& store : c.stores) {
    if (!store.service_password_file.empty() && std::filesystem::path(store.service_password_file).is_relative()) {
      store.service_password_file = (std::filesystem::path(c.data_dir) / store.service_password_file).string();
    }
  }
  return c;
}

Status locate(const Config& config, const Status& error) {
  if (error.is_ok()) return error;
  const std::string& message = error.message();
  // The longest key path the message starts with: "stores.x.root" before "stores.x".
  std::string path = message.substr(0, message.find(':'));
  while (!path.empty()) {
    if (auto it = config.origins.find(path); it != config.origins.end()) {
      return error.with_context(it->second);
    }
    auto dot = path.rfind('.');
    if (dot == std::string::npos) break;
    path.resize(dot);
  }
  return error;
}

Status check_listen_address(const std::string& address) {
  unsigned char bytes[sizeof(in6_addr)];
  if (inet_pton(AF_INET, address.c_str(), bytes) == 1 || inet_pton(AF_INET6, address.c_str(), bytes) == 1) {
    return Status::ok();
  }
  return Status::invalid_argument("'" + address +
                                  "' is not an IP address; use 127.0.0.1 (or ::1) for this "
                                  "machine only, 0.0.0.0 (or ::) for every interface");
}

std::map<std::string, std::string> config_keys(const Config& c) {
  std::map<std::string, std::string> keys;
  const ServerConfig& s = c.server;
  keys["server.listen"] = s.listen;
  keys["server.port"] = std::to_string(s.port);
  keys["server.sync_path"] = s.sync_path;
  keys["server.public_url"] = s.public_url;
  keys["server.tls_certificate"] = s.tls_certificate;
  keys["server.tls_key"] = s.tls_key;
  keys["server.max_body_bytes"] = std::to_string(s.max_body_bytes);
  keys["server.max_connections"] = std::to_string(s.max_connections);
  keys["server.io_threads"] = std::to_string(s.io_threads);
  keys["server.worker_threads"] = std::to_string(s.worker_threads);
  keys["server.session_timeout_seconds"] = std::to_string(s.session_timeout_seconds);
  keys["server.max_msg_size"] = std::to_string(s.max_msg_size);
  keys["server.max_connections_per_address"] = std::to_string(s.max_connections_per_address);
  keys["server.header_timeout_seconds"] = std::to_string(s.header_timeout_seconds);
  keys["server.idle_timeout_seconds"] = std::to_string(s.idle_timeout_seconds);
  keys["storage.min_free_bytes"] = std::to_string(c.min_free_bytes);
  keys["storage.statement_timeout_seconds"] = std::to_string(c.statement_timeout_seconds);
  std::string proxies;
  for (const auto& p : c.auth.trusted_proxies) proxies += (proxies.empty() ? "" : ",") + p;
  keys["auth.trusted_proxies"] = proxies;
  keys["auth.login_free_failures"] = std::to_string(c.auth.login_free_failures);
  keys["auth.login_first_delay_seconds"] = std::to_string(c.auth.login_first_delay_seconds);
  keys["auth.login_max_delay_seconds"] = std::to_string(c.auth.login_max_delay_seconds);
  keys["auth.unauthenticated_burst"] = std::to_string(c.auth.unauthenticated_burst);
  keys["auth.unauthenticated_per_minute"] = std::to_string(c.auth.unauthenticated_per_minute);
  keys["storage.data_dir"] = c.data_dir;
  keys["storage.database"] = c.database;  // compared only, never logged (may hold a password)
  keys["auth.md5"] = c.auth.md5 ? "true" : "false";
  keys["log.level"] = c.log.level;
  keys["log.format"] = c.log.format;
  for (const auto& store : c.stores) {
    const std::string p = "stores." + store.name + ".";
    keys[p + "adapter"] = store.adapter;
    keys[p + "content_type"] = store.content_type;
    keys[p + "content_version"] = store.content_version;
    keys[p + "conflict_policy"] = caf::conflict_policy_name(store.conflict_policy);
    keys[p + "history_days"] = std::to_string(store.history_days);
    keys[p + "history_versions"] = std::to_string(store.history_versions);
    keys[p + "mass_delete_min_items"] = std::to_string(store.mass_delete.min_items);
    keys[p + "mass_delete_percent"] = std::to_string(store.mass_delete.percent);
    keys[p + "access"] = caf::token_kind_name(store.access);
    keys[p + "login"] = caf::backend_login_name(store.login);
    keys[p + "service_user"] = store.service_user;
    keys[p + "service_password_file"] = store.service_password_file;
    keys[p + "cache"] = store.cache.enabled ? "true" : "false";
    keys[p + "cache_trigger"] = store.cache.trigger == caf::CacheTrigger::kAmount     ? "amount"
                                : store.cache.trigger == caf::CacheTrigger::kInterval ? "interval"
                                                                                      : "combined";
    keys[p + "cache_amount"] = std::to_string(store.cache.amount);
    keys[p + "cache_interval_seconds"] = std::to_string(store.cache.interval_seconds);
    keys[p + "backend_poll_seconds"] = std::to_string(store.cache.backend_poll_seconds);
    for (const auto& [key, value] : store.options) keys[p + key] = caf::option_text(value);
  }
  return keys;
}

Result<Config> load_config_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return Status::not_found("config file " + path + " does not exist");
  std::ifstream in(path);
  std::stringstream buf;
  buf << in.rdbuf();
  if (!in.good() && !in.eof()) return Status::invalid_argument("cannot read config file " + path);
  return load_config_string(buf.str(), path);
}

}  // namespace conflux::config
