// The CalDAV/CardDAV back end: each user's contacts, events or tasks live in
// a collection of a DAV server (Radicale, Baïkal, Nextcloud, SOGo, Cyrus).
// Registered as adapter kind "caldav".
//
// Which collection: `collection_url` with "{user}" names it directly; or
// `url` is a base URL and the collection is discovered (RFC 6764 §6: the URL
// itself, else /.well-known/carddav|caldav → current-user-principal →
// addressbook-home-set / calendar-home-set → the first address book, or the
// first calendar whose supported-calendar-component-set holds `component`;
// `collection` picks one by its last path segment).
//
// Changes: a caf::RevisionTracker keeps the listing last seen and the change
// counter (<data_dir>/caldav-<store>.db); an item's revision is its ETag.
// One listing serves a whole sync session (the calls carrying the same
// StoreRef::session): its later calls cost no request, and a write sends the
// ETag of that listing, so another client's change since is a 412, not
// overwritten. Calls without a session (monitors, the portal) list every time.
// DavCollections lists a collection with RFC 6578 sync-collection when the
// collection offers it (looping while the server says 507 "truncated" on
// the collection), else with a PROPFIND of the ETags, skipped while the
// CS:getctag is unchanged. A sync token the server no longer knows (403/409
// with DAV:valid-sync-token) makes it list everything from an empty token;
// the tracker then deletes what vanished and updates what changed, so nothing
// is lost or doubled. Items without an ETag, and every item on a server whose
// quirks say its ETags are unreliable, get the SHA-256 of their content as
// revision. The sync token lives in memory: after a restart the first call
// lists the collection in full (one request; unchanged ETags are no change).
//
// Reads: the tracker announces which items it will read (prefetch); they
// come in addressbook-multiget / calendar-multiget batches of
// `multiget_batch` hrefs, not one GET each.
//
// Writes: an item without a UID gets one (RFC 6352 §5.1, RFC 4791 §4.1):
// its id when new, the server's UID of the item on an edit. A create PUTs
// with If-None-Match: *; an update or delete sends the
// exact ETag in If-Match (never "*": Radicale refuses it). 412 on an update
// or delete: the item changed on the server since the listing — kAborted for
// that item, and the next call lists again; the engine then decides the
// conflict at once with the server's version (its conflict policy, the loser
// in the conflict record). 409/403 with no-uid-conflict on a create: the
// server holds the UID under another href, found by a UID query (Radicale's
// error names none) — the create becomes an update of that member, reported
// with its id. 403 other: kPermissionDenied; 507: kResourceExhausted; each
// fails that item alone. 401: kUnauthenticated.
// No connection, a timeout or a 5xx: kUnavailable (with cache = true devices
// go on syncing against the cache and the Cache Monitor retries).
//
// Logins: login = "service" logs in with service_user (password in
// service_password_file) for every user, at that user's collection URL;
// login = "per-user" logs in with the user's own credentials as the device
// presented them (syncml:auth-basic; the password is kept in memory only,
// from the user's last login). TLS verifies against the system's CAs, or
// `ca_file`.
//
// Threading: any method from any thread; the tracker serialises the calls,
// a mutex guards the per-user state.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "adapters/caldav/dav_http.h"
#include "adapters/caldav/dav_quirks.h"
#include "adapters/caldav/dav_xml.h"
#include "caf/backend_registry.h"
#include "caf/content_adapter.h"
#include "caf/revision_tracker.h"
#include "caf/typed_adapter_factory.h"

namespace conflux::adapters {

// The store section (CaldavAdapterFactory::parse); `http.ca_file` as written,
// service_login and tracker_file filled when the adapter is made.
struct CaldavAdapterConfig {
  std::string url;             // base URL for discovery; empty when collection_url is set
  std::string collection_url;  // with "{user}"; empty when discovering
  std::string collection;      // discovery: the collection's last path segment; empty = the first that fits
  DavKind kind = DavKind::kAddressbook;
  std::string component;     // calendars: VEVENT or VTODO
  std::string content_type;  // of PUT bodies: "text/vcard", "text/calendar"
  std::string extension;     // of the hrefs Conflux creates: ".vcf", ".ics"
  size_t multiget_batch = 100;
  DavServerQuirks quirks;
  DavHttpOptions http;
  caf::BackendLogin login = caf::BackendLogin::kService;
  std::optional<DavLogin> service_login;  // login = service
  std::string tracker_file;
};

// The collections of one store: the primitives caf::RevisionTracker works with.
class DavCollections final : public caf::TrackedBackend {
 public:
  explicit DavCollections(const CaldavAdapterConfig& config);

  // Remembers the credentials of a user's login (per-user mode).
  void remember_login(const UserId& user, DavLogin login);
  // Checks that `login` may read `user`'s collection (one PROPFIND).
  Status check_login(const UserId& user, const DavLogin& login);
  // Forgets the sync token of every user: the next listing is a full one.
  void forget_sync_tokens();

  // caf::TrackedBackend
  Result<std::map<std::string, std::string>> list(const caf::StoreRef& store) override;
  Result<std::string> read(const caf::StoreRef& store, const std::string& id) override;
  Result<std::string> write(const caf::StoreRef& store, const std::string& id, std::string_view raw,
                            WriteMode mode) override;
  // A 409/403 no-uid-conflict: the member holding the UID is looked up and
  // the create becomes an update of it.
  Result<Created> create(const caf::StoreRef& store, const std::string& id, std::string_view raw) override;
  Status remove(const caf::StoreRef& store, const std::string& id) override;
  void prefetch(const caf::StoreRef& store, const std::vector<std::string>& ids) override;

  // Requests sent so far, by method ("REPORT sync-collection" …), for
  // `conflux` statistics and tests.
  std::map<std::string, int64_t> request_counts() const;

 private:
  struct Member {
    std::string href;
    std::string etag;      // as the server sent it; empty when it sent none
    std::string revision;  // what list() reports
    std::string uid;       // of the content, once read or written; empty when not known
  };
  struct UserState {
    std::string url;  // the collection, ending in '/'
    bool probed = false;
    bool sync_collection = false;
    std::string sync_token;
    std::string ctag;
    std::map<std::string, Member> members;      // by id
    std::map<std::string, std::string> bodies;  // prefetched, by id; read() takes them
    std::string listed_in_session;              // the sync session (StoreRef::session) the last listing was made for
  };

  Result<DavLogin> login_for(const caf::StoreRef& store);
  Result<std::string> discover(const UserId& user, const DavLogin& login);
  Result<UserState*> state_for(const caf::StoreRef& store, const DavLogin& login);
  Status probe(UserState& state, const DavLogin& login);
  Status list_by_sync_collection(UserState& state, const DavLogin& login);
  Status list_by_propfind(UserState& state, const DavLogin& login);
  // Fills revisions; fetches content where the revision is a hash.
  Status settle_revisions(UserState& state, const DavLogin& login, const std::map<std::string, std::string>& old_etags);
  static std::map<std::string, std::string> listing_of(const UserState& state);
  Status multiget(UserState& state, const DavLogin& login, const std::vector<std::string>& ids);
  Result<HttpResponse> send(const std::string& label, const std::string& method, const std::string& url,
                            const DavLogin& login, const std::vector<std::string>& headers, const std::string& body);
  std::string id_for_href(const std::string& href, const std::map<std::string, Member>& taken) const;
  // The member `id` as a listing found it at `path` with `etag`; its revision
  // and UID carry over from the last listing while the ETag is unchanged.
  static Member listed_member(const UserState& state, const std::string& id, const std::string& path,
                              const std::string& etag);
  // PUTs one item with its precondition; `uid_taken`, when given, is set
  // when the server refuses it with no-uid-conflict.
  Result<std::string> put(UserState& state, const DavLogin& login, const std::string& id, std::string_view raw,
                          WriteMode mode, bool* uid_taken);
  // The id of the member whose UID is `uid` (one query REPORT; the server
  // need not name the member in its no-uid-conflict: Radicale does not);
  // empty when there is none.
  Result<std::string> find_by_uid(UserState& state, const DavLogin& login, const std::string& uid);
  std::string if_match(const std::string& etag) const;
  Result<std::string> etag_after_put(UserState& state, const DavLogin& login, const std::string& href,
                                     const HttpResponse& response);

  const CaldavAdapterConfig config_;
  const DavHttp http_;
  mutable std::mutex mutex_;                     // guards the members below
  std::map<std::string, UserState> states_;      // by user
  std::map<std::string, DavLogin> user_logins_;  // per-user mode; passwords never logged
  std::map<std::string, int64_t> requests_;
};

class CaldavAdapter final : public caf::ContentAdapter {
 public:
  static Result<std::shared_ptr<CaldavAdapter>> open(const CaldavAdapterConfig& config,
                                                     const caf::StoreSettings& settings);

  // caf::ContentAdapter
  // kCapOwnAccounts: the DAV server checks logins.
  caf::AdapterCaps caps() const override;
  // One PROPFIND of the user's collection with `creds` (per-user mode: the
  // user's own; service mode: the service account). kUnauthenticated on 401
  // or for an MD5 digest (the password is needed to log in to the server).
  Status verify_credentials(const std::string& database, const caf::Credentials& creds) override;
  Status begin_connect(const UserId& user, const caf::Credentials* credentials) override;
  Result<Anchor> current_anchor(const caf::StoreRef& store) override;
  Result<caf::ChangeSet> changes_since(const caf::StoreRef& store, const Anchor& since) override;
  // Items of another content type fail with kInvalidArgument.
  std::vector<caf::ApplyResult> apply(const caf::StoreRef& store, std::vector<caf::SyncObj>&& batch) override;
  Result<std::vector<caf::SyncObj>> search(const caf::StoreRef& store, const caf::Query& query) override;
  // "count": live items. "rescan": lists now, output = changes by others.
  // "resync": forgets the sync tokens, lists in full, output = changes found.
  // "requests": the requests sent so far by kind. Others: kUnimplemented.
  Result<caf::ExecResult> execute(const caf::StoreRef& store, const caf::Command& command) override;

  DavCollections& collections() { return *collections_; }

 private:
  CaldavAdapter(const CaldavAdapterConfig& config, const caf::StoreSettings& settings);

  const std::string store_name_;
  const std::string content_type_;
  const std::unique_ptr<DavCollections> collections_;  // before tracker_, which uses it
  std::unique_ptr<caf::RevisionTracker> tracker_;      // set once by open()
};

// Adapter kind "caldav". Options: `url` or `collection_url` (one of them),
// `collection`, `component` (text/calendar: VEVENT or VTODO, default VEVENT),
// `ca_file`, `multiget_batch` (1–1000, default 100), `server_quirks`
// (dav_quirks.h, default "generic"), `timeout_seconds` (default 120).
class CaldavAdapterFactory final : public caf::TypedAdapterFactory<CaldavAdapterConfig> {
 public:
  static constexpr const char* kKind = "caldav";

  std::string kind() const override { return kKind; }

 protected:
  Result<caf::OptionKeys> keys(const caf::StoreSettings& settings) const override;
  // url xor collection_url (with {user}), component for calendars only,
  // collection only with url, login = "service" only with collection_url.
  Result<CaldavAdapterConfig> read(const caf::CheckedOptions& options,
                                   const caf::StoreSettings& settings) const override;
  // Reads the service account's password and checks ca_file, then opens the adapter.
  Result<std::shared_ptr<caf::ContentAdapter>> make(CaldavAdapterConfig config, const caf::StoreSettings& settings,
                                                    const caf::AdapterEnv& env) override;
};

}  // namespace conflux::adapters
