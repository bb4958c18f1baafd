// Config loading: defaults, a full file, and one error per mistake naming
// "file:line: key path: what".
#include "config/config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "common/base64.h"
#include "tests/common/temp_dir.h"

namespace conflux::config {
namespace {

namespace fs = std::filesystem;

// Sets (or unsets, for nullopt) an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      ::setenv(name, value->c_str(), 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

using conflux::test::TempDir;

// The error message of loading `text` as "conf.toml"; fails the test when it loads.
std::string load_error(const std::string& text) {
  auto config = load_config_string(text, "conf.toml");
  EXPECT_FALSE(config) << "loaded although it should not:\n" << text;
  if (config) return "";
  EXPECT_EQ(config.error().code(), StatusCode::kInvalidArgument) << config.error().to_string();
  return config.error().message();
}

TEST(ConfigTest, DefaultsServeLoopbackWithFourSqliteStores) {
  Config c = default_config();
  EXPECT_EQ(c.server.listen, "127.0.0.1");
  EXPECT_EQ(c.server.port, 8080);
  EXPECT_EQ(c.server.sync_path, "/sync");
  EXPECT_TRUE(c.server.public_url.empty());
  EXPECT_EQ(c.log.level, "info");
  ASSERT_EQ(c.stores.size(), 4u);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"contacts", "text/vcard"}, {"calendar", "text/calendar"}, {"tasks", "text/calendar"}, {"notes", "text/plain"}};
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(c.stores[i].name, expected[i].first);
    EXPECT_EQ(c.stores[i].adapter, "sqlite");
    EXPECT_EQ(c.stores[i].content_type, expected[i].second);
    EXPECT_FALSE(c.stores[i].content_version.empty());
    EXPECT_TRUE(c.stores[i].options.empty());
  }
  EXPECT_FALSE(c.data_dir.empty());
}

TEST(ConfigTest, EmptyFileGivesTheDefaults) {
  auto c = load_config_string("", "conf.toml");
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(c->server.port, 8080);
  EXPECT_EQ(c->server.sync_path, "/sync");
  EXPECT_EQ(c->stores.size(), 4u);
}

TEST(ConfigTest, QuirksFileIsAServerKeyAndEmptyByDefault) {
  EXPECT_TRUE(default_config().server.quirks_file.empty());
  auto c = load_config_string("[server]\nquirks_file = \"/etc/conflux/quirks.toml\"\n", "conf.toml");
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(c->server.quirks_file, "/etc/conflux/quirks.toml");
  auto bad = load_config_string("[server]\nquirks_file = 3\n", "conf.toml");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("server.quirks_file: must be a string"), std::string::npos);
}

// Issue #11: the limits against hostile clients are keys with defaults, checked.
TEST(ConfigTest, HardeningKeysHaveDefaultsAndAreValidated) {
  const Config d = default_config();
  EXPECT_EQ(d.server.max_connections_per_address, 32u);
  EXPECT_EQ(d.server.header_timeout_seconds, 10);
  EXPECT_TRUE(d.auth.trusted_proxies.empty());
  auto c = load_config_string(
      "[server]\nmax_connections_per_address = 0\nheader_timeout_seconds = 5\n"
      "[auth]\ntrusted_proxies = [\"127.0.0.1\", \"10.0.0.0/8\", \"fd00::/8\"]\nlogin_free_failures = 3\n"
      "[storage]\nmin_free_bytes = 0\nstatement_timeout_seconds = 5\n",
      "conf.toml");
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(c->server.max_connections_per_address, 0u);
  EXPECT_EQ(c->auth.trusted_proxies.size(), 3u);
  EXPECT_EQ(c->auth.login_free_failures, 3);
  EXPECT_EQ(c->min_free_bytes, 0u);
  EXPECT_EQ(d.statement_timeout_seconds, 30);
  EXPECT_EQ(c->statement_timeout_seconds, 5);
  EXPECT_EQ(load_error("[storage]\nstatement_timeout_seconds = -1\n"),
            "conf.toml:2: storage.statement_timeout_seconds: must be between 0 and 86400");
  EXPECT_EQ(load_error("[auth]\ntrusted_proxies = [\"proxy.example\"]\n"),
            "conf.toml:2: auth.trusted_proxies: 'proxy.example' is not an IP address or network");
  EXPECT_EQ(load_error("[auth]\ntrusted_proxies = \"10.0.0.1\"\n"),
            "conf.toml:2: auth.trusted_proxies: must be an array of strings");
  EXPECT_EQ(load_error("[server]\nheader_timeout_seconds = 0\n"),
            "conf.toml:2: server.header_timeout_seconds: must be between 1 and 300");
}

TEST(ConfigTest, FullValidFile) {
  const std::string text = R"(# a complete configuration
[server]
listen = "0.0.0.0"
port = 9443
sync_path = "/funambol/ds"
public_url = "https://sync.example.org/funambol/ds"
max_body_bytes = 2097152
max_connections = 64
io_threads = 2
worker_threads = 8
session_timeout_seconds = 600
max_msg_size = 65536

[storage]
data_dir = "/var/lib/conflux"

[log]
level = "debug"

[stores.addressbook]
adapter = "sqlite"
content_type = "text/x-vcard"
content_version = "2.1"
file = "phones.db"

[stores.agenda]
adapter = "sqlite"
content_type = "text/calendar"
content_version = "2.0"
)";
  auto c = load_config_string(text, "conf.toml");
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(c->server.listen, "0.0.0.0");
  EXPECT_EQ(c->server.port, 9443);
  EXPECT_EQ(c->server.sync_path, "/funambol/ds");
  EXPECT_EQ(c->server.public_url, "https://sync.example.org/funambol/ds");
  EXPECT_EQ(c->server.max_body_bytes, 2097152u);
  EXPECT_EQ(c->server.max_connections, 64u);
  EXPECT_EQ(c->server.io_threads, 2);
  EXPECT_EQ(c->server.worker_threads, 8);
  EXPECT_EQ(c->server.session_timeout_seconds, 600);
  EXPECT_EQ(c->server.max_msg_size, 65536u);
  EXPECT_EQ(c->data_dir, "/var/lib/conflux");
  EXPECT_EQ(c->log.level, "debug");
  ASSERT_EQ(c->stores.size(), 2u);
  EXPECT_EQ(c->stores[0].name, "addressbook");
  EXPECT_EQ(c->stores[0].adapter, "sqlite");
  EXPECT_EQ(c->stores[0].content_type, "text/x-vcard");
  EXPECT_EQ(c->stores[0].content_version, "2.1");
  EXPECT_EQ(c->stores[0].options, (caf::StoreOptions{{"file", "phones.db"}}));
  EXPECT_EQ(c->stores[1].name, "agenda");
  EXPECT_TRUE(c->stores[1].options.empty());
}

TEST(ConfigTest, SyntaxErrorNamesFileAndLine) {
  std::string msg = load_error("[server]\nport = 80\nlisten = \"unterminated\n");
  EXPECT_EQ(msg.rfind("conf.toml:3: ", 0), 0u) << msg;
}

TEST(ConfigTest, UnknownKeyNamesItsPathAndLine) {
  EXPECT_EQ(load_error("[server]\nport = 8081\nprot = 8082\n"),
            "conf.toml:3: server.prot: unknown key (did you mean 'port'?)");
  EXPECT_EQ(load_error("[log]\nlevel = \"info\"\ncolour = true\n"), "conf.toml:3: log.colour: unknown key");
  EXPECT_EQ(load_error("\n[storage]\ndir = \"/x\"\n"), "conf.toml:3: storage.dir: unknown key");
}

TEST(ConfigTest, WrongTypeNamesKey) {
  EXPECT_EQ(load_error("[server]\nport = \"8080\"\n"), "conf.toml:2: server.port: must be an integer");
  EXPECT_EQ(load_error("[server]\nlisten = 127\n"), "conf.toml:2: server.listen: must be a string");
  EXPECT_EQ(load_error("server = 1\n"), "conf.toml:1: server: must be a table");
  std::string msg = load_error("[stores.contacts]\nadapter = \"sqlite\"\ncontent_type = [\"a\", \"b\"]\n");
  EXPECT_EQ(msg, "conf.toml:3: stores.contacts.content_type: must be a string, integer or boolean");
}

TEST(ConfigTest, OutOfRangePortIsRefused) {
  std::string msg = load_error("[server]\nport = 70000\n");
  EXPECT_EQ(msg, "conf.toml:2: server.port: must be between 0 and 65535");
  EXPECT_NE(load_error("[server]\nport = -1\n").find("server.port"), std::string::npos);
  EXPECT_NE(load_error("[server]\nmax_msg_size = 100\n").find("server.max_msg_size: must be between"),
            std::string::npos);
}

TEST(ConfigTest, UnknownSectionIsRefused) {
  EXPECT_EQ(load_error("[database]\nurl = \"x\"\n"), "conf.toml:1: database: unknown section");
  EXPECT_EQ(load_error("[sever]\nport = 1\n"), "conf.toml:1: sever: unknown section (did you mean 'server'?)");
}

TEST(ConfigTest, WebhooksAndPushChannelsAreReadAndChecked) {
  auto config = load_config_string(
      "[notify]\nwebhook_retry_seconds = [1, 60]\npush_debounce_seconds = 0\n"
      "[[webhooks]]\nname = \"crm\"\nurl = \"https://crm.example.org/h\"\n"
      "secret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\nstore = \"contacts\"\n"
      "[[push]]\nuser = \"ann\"\ndevice = \"phone\"\nwap_push = \"10.0.0.5:2948\"\n",
      "conf.toml");
  ASSERT_TRUE(config) << config.error().to_string();
  ASSERT_EQ(config->webhooks.size(), 1u);
  EXPECT_EQ(config->webhooks[0].store, "contacts");
  EXPECT_TRUE(config->webhooks[0].user.empty());
  EXPECT_EQ(config->notify.webhook_retry_seconds, (std::vector<int64_t>{1, 60}));
  EXPECT_EQ(config->notify.push_debounce_seconds, 0);
  ASSERT_EQ(config->push.size(), 1u);
  EXPECT_EQ(config->push[0].wap_push, "10.0.0.5:2948");

  const std::string hook = "[[webhooks]]\nname = \"crm\"\nurl = \"https://crm.example.org/h\"\n";
  EXPECT_NE(
      load_error(hook + "secret = \"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n").find("webhooks.crm.secret: must be whsec_"),
      std::string::npos);
  EXPECT_NE(load_error(hook + "secret = \"whsec_c2hvcnQ=\"\n").find("24 to 64 random bytes"), std::string::npos);
  EXPECT_NE(load_error(hook + "secret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\nstore = \"mail\"\n")
                .find("webhooks.crm.store: no datastore 'mail'"),
            std::string::npos);
  EXPECT_NE(load_error("[[webhooks]]\nname = \"x\"\nurl = \"ftp://h/\"\n").find("webhooks.x.url"), std::string::npos);
  EXPECT_NE(load_error("[[push]]\nuser = \"ann\"\ndevice = \"phone\"\n").find("exactly one of url and wap_push"),
            std::string::npos);
  EXPECT_NE(load_error("[notify]\nwebhook_retry_seconds = []\n").find("notify.webhook_retry_seconds"),
            std::string::npos);
}

TEST(ConfigTest, UnknownLogLevelIsRefused) {
  EXPECT_EQ(load_error("[log]\nlevel = \"loud\"\n"),
            "conf.toml:2: log.level: unknown level 'loud' (one of trace, debug, info, warn, error, critical, off)");
}

TEST(ConfigTest, StoresTableReplacesDefaults) {
  auto c = load_config_string("[stores.notes]\nadapter = \"sqlite\"\ncontent_type = \"text/plain\"\n", "conf.toml");
  ASSERT_TRUE(c) << c.error().to_string();
  ASSERT_EQ(c->stores.size(), 1u);
  EXPECT_EQ(c->stores[0].name, "notes");
  EXPECT_EQ(c->stores[0].content_type, "text/plain");
  // content_version is not inherited from the default "notes" store.
  EXPECT_TRUE(c->stores[0].content_version.empty());
}

TEST(ConfigTest, StoreOptionsKeepTheirTomlTypes) {
  auto c = load_config_string(
      "[stores.c]\nadapter = \"x\"\ncontent_type = \"text/vcard\"\nport = 5432\ntls = true\nhost = \"db\"\n"
      "quoted = \"5432\"\n",
      "conf.toml");
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(
      c->stores[0].options,
      (caf::StoreOptions{{"host", "db"}, {"port", int64_t{5432}}, {"tls", true}, {"quoted", std::string("5432")}}));
  // The flat key list (`conflux config show`) writes them as before.
  auto keys = config_keys(*c);
  EXPECT_EQ(keys["stores.c.port"], "5432");
  EXPECT_EQ(keys["stores.c.tls"], "true");
}

TEST(ConfigTest, StoreMissingAdapterOrContentType) {
  EXPECT_EQ(load_error("\n[stores.contacts]\ncontent_type = \"text/vcard\"\n"),
            "conf.toml:2: stores.contacts.adapter: missing");
  EXPECT_EQ(load_error("[stores.contacts]\nadapter = \"sqlite\"\n"),
            "conf.toml:1: stores.contacts.content_type: missing");
}

TEST(ConfigTest, ConflictPoliciesIncludeNewestWinsAndMerge) {
  for (const char* policy : {"server-wins", "client-wins", "newest-wins", "merge", "duplicate", "report"}) {
    auto c = load_config_string(std::string("[stores.c]\nadapter = \"x\"\ncontent_type = \"text/vcard\"\n"
                                            "conflict_policy = \"") +
                                    policy + "\"\n",
                                "conf.toml");
    ASSERT_TRUE(c) << c.error().to_string();
    EXPECT_STREQ(caf::conflict_policy_name(c->stores[0].conflict_policy), policy);
  }
  EXPECT_EQ(load_error("[stores.c]\nadapter = \"x\"\ncontent_type = \"text/vcard\"\nconflict_policy = \"newest\"\n"),
            "conf.toml:4: stores.c.conflict_policy: 'newest' is not a conflict policy: use server-wins, client-wins, "
            "newest-wins, merge, duplicate or report");
}

TEST(ConfigTest, EmptyStoresTableIsRefused) {
  std::string msg = load_error("[stores]\n");
  EXPECT_NE(msg.find("stores: no datastore configured"), std::string::npos) << msg;
  EXPECT_EQ(load_error("[stores]\ncontacts = \"sqlite\"\n"), "conf.toml:2: stores.contacts: must be a table");
}

TEST(ConfigTest, SyncPathMustStartWithSlash) {
  EXPECT_EQ(load_error("[server]\nport = 8080\nsync_path = \"sync\"\n"),
            "conf.toml:3: server.sync_path: must start with '/'");
  EXPECT_NE(load_error("[server]\nsync_path = \"\"\n").find("server.sync_path: must start with '/'"),
            std::string::npos);
}

TEST(ConfigTest, RelativeDataDirIsMadeAbsolute) {
  auto c = load_config_string("[storage]\ndata_dir = \"relative/dir\"\n", "conf.toml");
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_TRUE(fs::path(c->data_dir).is_absolute()) << c->data_dir;
  EXPECT_EQ(fs::path(c->data_dir).filename(), "dir");
}

TEST(ConfigTest, DatabaseIsEmptyByDefaultAndTakesOnlyAPostgresqlUri) {
  auto defaults = load_config_string("", "conf.toml");
  ASSERT_TRUE(defaults) << defaults.error().to_string();
  EXPECT_EQ(defaults->database, "");  // conflux.db in data_dir
  auto pg =
      load_config_string("[storage]\ndatabase = \"postgresql://conflux@/conflux?host=/run/postgresql\"\n", "conf.toml");
  ASSERT_TRUE(pg) << pg.error().to_string();
  EXPECT_EQ(pg->database, "postgresql://conflux@/conflux?host=/run/postgresql");
  EXPECT_EQ(config_keys(*pg).at("storage.database"), pg->database);
  auto other = load_config_string("[storage]\ndatabase = \"mysql://x\"\n", "conf.toml");
  ASSERT_FALSE(other);
  EXPECT_NE(other.error().message().find("storage.database"), std::string::npos) << other.error().message();
}

TEST(ConfigTest, DataDirDefaultsFollowTheEnvironment) {
  {
    ScopedEnv data("CONFLUX_DATA_DIR", "/srv/conflux-data");
    EXPECT_EQ(default_data_dir(), "/srv/conflux-data");
    EXPECT_EQ(default_config().data_dir, "/srv/conflux-data");
    auto c = load_config_string("", "conf.toml");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->data_dir, "/srv/conflux-data");
  }
  {
    ScopedEnv data("CONFLUX_DATA_DIR", "rel");
    EXPECT_TRUE(fs::path(default_data_dir()).is_absolute()) << default_data_dir();
  }
  {
    ScopedEnv data("CONFLUX_DATA_DIR", std::nullopt);
    ScopedEnv xdg("XDG_DATA_HOME", "/home/u/.data");
    EXPECT_EQ(default_data_dir(), "/home/u/.data/conflux");
  }
  {
    ScopedEnv data("CONFLUX_DATA_DIR", "");
    ScopedEnv xdg("XDG_DATA_HOME", std::nullopt);
    ScopedEnv home("HOME", "/home/u");
    EXPECT_EQ(default_data_dir(), "/home/u/.local/share/conflux");
  }
}

TEST(ConfigTest, LoadFileReadsAndNamesTheFile) {
  TempDir dir;
  std::string good = dir.write("good.toml", "[server]\nport = 9000\n");
  auto c = load_config_file(good);
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(c->server.port, 9000);

  std::string bad = dir.write("bad.toml", "[server]\n\nprot = 1\n");
  auto err = load_config_file(bad);
  ASSERT_FALSE(err);
  EXPECT_EQ(err.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(err.error().message(), bad + ":3: server.prot: unknown key (did you mean 'port'?)");
}

TEST(ConfigTest, LoadMissingFileIsNotFound) {
  TempDir dir;
  auto c = load_config_file(dir.file("nope.toml"));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), StatusCode::kNotFound);
  EXPECT_NE(c.error().message().find("nope.toml"), std::string::npos) << c.error().message();
}

}  // namespace
TEST(ConfigAuth, Md5ChallengeIsOnByDefaultAndCanBeTurnedOff) {
  EXPECT_TRUE(default_config().auth.md5);
  auto c = load_config_string("[auth]\nmd5 = false\n", "conf.toml");
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_FALSE(c->auth.md5);
  auto bad = load_config_string("[auth]\nmd5 = \"yes\"\n", "conf.toml");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("conf.toml:2: auth.md5"), std::string::npos) << bad.error().message();
}

}  // namespace conflux::config

namespace conflux::config {
namespace {

TEST(ConfigAcl, AccessLoginAndServiceAccountPerStore) {
  auto c = load_config_string(R"([storage]
data_dir = "/srv/conflux"
[stores.contacts]
adapter = "vdir"
root = "/srv/vdir"
content_type = "text/vcard"
access = "unrestricted-read"
login = "per-user"
accounts_file = "accounts"
[stores.notes]
adapter = "sqlite"
content_type = "text/plain"
access = "read-only"
service_user = "conflux"
service_password_file = "svc.secret"
)",
                              "conf.toml");
  ASSERT_TRUE(c) << c.error().to_string();
  ASSERT_EQ(c->stores.size(), 2u);
  EXPECT_EQ(c->stores[0].access, caf::TokenKind::kUnrestrictedRead);
  EXPECT_EQ(c->stores[0].login, caf::BackendLogin::kPerUser);
  EXPECT_EQ(std::get<std::string>(c->stores[0].options.at("accounts_file")), "accounts");  // the adapter's own option
  EXPECT_EQ(c->stores[1].access, caf::TokenKind::kReadOnly);
  EXPECT_EQ(c->stores[1].login, caf::BackendLogin::kService);
  EXPECT_EQ(c->stores[1].service_user, "conflux");
  EXPECT_EQ(c->stores[1].service_password_file, "/srv/conflux/svc.secret");
  EXPECT_EQ(default_config().stores[0].access, caf::TokenKind::kReadWrite);
}

TEST(ConfigAcl, BadValuesNameTheirKey) {
  const std::string head = "[stores.contacts]\nadapter = \"sqlite\"\ncontent_type = \"text/vcard\"\n";
  EXPECT_NE(load_error(head + "access = \"write-only\"\n").find("stores.contacts.access"), std::string::npos);
  EXPECT_NE(load_error(head + "login = \"anonymous\"\n").find("stores.contacts.login"), std::string::npos);
  EXPECT_NE(load_error(head + "service_user = \"svc\"\n").find("service_password_file"), std::string::npos);
  EXPECT_NE(load_error("[stores.\"a,b\"]\nadapter = \"sqlite\"\ncontent_type = \"text/vcard\"\n").find("stores.a,b"),
            std::string::npos);
}

TEST(ConfigErrors, AStoreKeyNearAKnownOneIsATypoNotAnAdapterOption) {
  const std::string head = "[stores.contacts]\nadapter = \"sqlite\"\ncontent_type = \"text/vcard\"\n";
  EXPECT_EQ(load_error(head + "conflict_polcy = \"merge\"\n"),
            "conf.toml:4: stores.contacts.conflict_polcy: unknown key (did you mean 'conflict_policy'?)");
  EXPECT_EQ(load_error(head + "cache_amout = 5\n"),
            "conf.toml:4: stores.contacts.cache_amout: unknown cache key (did you mean 'cache_amount'?)");
  // Far from every known key: an adapter option, for the adapter to judge.
  auto c = load_config_string(head + "root = \"/srv/dav\"\n", "conf.toml");
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(std::get<std::string>(c->stores[0].options.at("root")), "/srv/dav");
}

TEST(ConfigErrors, EveryEnumListsItsValues) {
  const std::string head = "[stores.contacts]\nadapter = \"sqlite\"\ncontent_type = \"text/vcard\"\n";
  EXPECT_NE(load_error(head + "access = \"write-only\"\n").find("read-write, read-only, unrestricted-read"),
            std::string::npos);
  EXPECT_NE(load_error(head + "login = \"anonymous\"\n").find("one of service, per-user"), std::string::npos);
  EXPECT_NE(load_error(head + "cache_trigger = \"often\"\n").find("amount, interval, combined"), std::string::npos);
  EXPECT_NE(load_error(head + "backend_monitor = \"watch\"\n").find("poll, push"), std::string::npos);
}

TEST(ConfigErrors, ListenMustBeAnIpAddress) {
  EXPECT_EQ(load_error("[server]\nport = 1\nlisten = \"localhost\"\n"),
            "conf.toml:3: server.listen: 'localhost' is not an IP address; use 127.0.0.1 (or ::1) for this machine "
            "only, 0.0.0.0 (or ::) for every interface");
  for (const char* ok : {"127.0.0.1", "0.0.0.0", "::1", "::"}) {
    auto c = load_config_string(std::string("[server]\nlisten = \"") + ok + "\"\n", "conf.toml");
    EXPECT_TRUE(c) << ok;
  }
}

TEST(ConfigErrors, LocateGivesLaterErrorsTheLineOfTheirKey) {
  auto c = load_config_string(
      "[storage]\ndata_dir = \"/x\"\n\n[stores.books]\nadapter = \"vdir\"\n"
      "content_type = \"text/vcard\"\nroots = \"/srv\"\n",
      "conf.toml");
  ASSERT_TRUE(c) << c.error().to_string();
  // A key the file sets: its line; a key it lacks: its section's line.
  EXPECT_EQ(locate(*c, Status::invalid_argument("stores.books.roots: unknown key for adapter vdir")).message(),
            "conf.toml:7: stores.books.roots: unknown key for adapter vdir");
  EXPECT_EQ(locate(*c, Status::invalid_argument("stores.books.root: missing")).message(),
            "conf.toml:4: stores.books.root: missing");
  EXPECT_EQ(locate(*c, Status::invalid_argument("stores.books.adapter: unknown adapter 'vdir'")).message(),
            "conf.toml:5: stores.books.adapter: unknown adapter 'vdir'");
  EXPECT_EQ(locate(*c, Status::unavailable("storage.data_dir: cannot create /x")).message(),
            "conf.toml:2: storage.data_dir: cannot create /x");
  EXPECT_EQ(locate(*c, Status::unavailable("database locked")).message(), "database locked");
  // The defaults come from no file: nothing to add.
  EXPECT_EQ(locate(default_config(), Status::invalid_argument("stores.contacts.file: bad")).message(),
            "stores.contacts.file: bad");
}

TEST(ConfigTest, SafetyNetKeysAreReadAndChecked) {
  const std::string head = "[stores.contacts]\nadapter = \"sqlite\"\ncontent_type = \"text/vcard\"\n";
  auto c = load_config_string(
      head + "history_days = 7\nhistory_versions = 5\nmass_delete_min_items = 10\nmass_delete_percent = 50\n",
      "conf.toml");
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(c->stores[0].history_days, 7);
  EXPECT_EQ(c->stores[0].history_versions, 5);
  EXPECT_NE(load_error(head + "history_versions = -3\n").find("stores.contacts.history_versions"), std::string::npos);
  EXPECT_EQ(c->stores[0].mass_delete.min_items, 10);
  EXPECT_EQ(c->stores[0].mass_delete.percent, 50);
  EXPECT_NE(load_error(head + "history_days = -1\n").find("stores.contacts.history_days"), std::string::npos);
  EXPECT_NE(load_error(head + "mass_delete_percent = 101\n").find("stores.contacts.mass_delete_percent"),
            std::string::npos);
  EXPECT_NE(load_error(head + "mass_delete_min_items = \"many\"\n").find("stores.contacts.mass_delete_min_items"),
            std::string::npos);
}

TEST(ConfigKeys, EverySettingByItsKeyPath) {
  Config c = default_config();
  c.stores[0].options["file"] = "x.db";
  auto keys = config_keys(c);
  EXPECT_EQ(keys.at("server.listen"), "127.0.0.1");
  EXPECT_EQ(keys.at("storage.data_dir"), c.data_dir);
  EXPECT_EQ(keys.at("log.level"), "info");
  EXPECT_EQ(keys.at("stores.contacts.conflict_policy"), "merge") << "the default loses nothing";
  EXPECT_EQ(keys.at("stores.contacts.history_days"), "30");
  EXPECT_EQ(keys.at("stores.contacts.history_versions"), "100");
  EXPECT_EQ(keys.at("stores.contacts.mass_delete_min_items"), "50");
  EXPECT_EQ(keys.at("stores.contacts.mass_delete_percent"), "33");
  EXPECT_EQ(keys.at("stores.contacts.access"), "read-write");
  EXPECT_EQ(keys.at("stores.contacts.cache_trigger"), "amount");
  EXPECT_EQ(keys.at("stores.contacts.file"), "x.db");
  EXPECT_TRUE(keys.count("stores.notes.adapter"));
}

}  // namespace
}  // namespace conflux::config
