#include "caf/revision_tracker.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>

#include "common/base64.h"

namespace conflux::caf {
namespace {

namespace fs = std::filesystem;

// A back end held in memory: per collection, id -> (revision, bytes). Tests
// edit `collections` directly to play "another program".
class MemoryBackend final : public TrackedBackend {
 public:
  struct Item {
    std::string revision;
    std::string raw;
  };
  using Collection = std::map<std::string, Item>;

  static std::string key(const StoreRef& store) { return store.user.str() + "/" + store.database; }

  Result<std::map<std::string, std::string>> list(const StoreRef& store) override {
    ++lists;
    if (down) return Status::unavailable("memory back end down");
    auto it = collections.find(key(store));
    if (it == collections.end()) return Status::not_found("no collection");
    std::map<std::string, std::string> listing;
    for (const auto& [id, item] : it->second) listing[id] = item.revision;
    return listing;
  }
  Result<std::string> read(const StoreRef& store, const std::string& id) override {
    ++reads;
    auto& c = collections[key(store)];
    auto it = c.find(id);
    if (it == c.end()) return Status::not_found("no item " + id);
    return it->second.raw;
  }
  Result<std::string> write(const StoreRef& store, const std::string& id, std::string_view raw,
                            WriteMode mode) override {
    if (down) return Status::unavailable("memory back end down");
    if (id.find('/') != std::string::npos) return Status::invalid_argument("bad id");
    auto& c = collections[key(store)];
    const bool exists = c.count(id) > 0;
    if (mode == WriteMode::kCreate && exists) return Status::already_exists(id);
    if (mode == WriteMode::kReplace && !exists) return Status::not_found(id);
    c[id] = Item{"r" + std::to_string(++next_revision), std::string(raw)};
    return c[id].revision;
  }
  Status remove(const StoreRef& store, const std::string& id) override {
    if (down) return Status::unavailable("memory back end down");
    auto& c = collections[key(store)];
    if (!c.erase(id)) return Status::not_found(id);
    return Status::ok();
  }

  void prefetch(const StoreRef& store, const std::vector<std::string>& ids) override { prefetched.push_back(ids); }
  bool costly_listing() const override { return costly; }

  // As a DAV server that keys items by UID: while `holder` is set, a create
  // lands on that existing item instead.
  Result<Created> create(const StoreRef& store, const std::string& id, std::string_view raw) override {
    if (holder.empty()) return TrackedBackend::create(store, id, raw);
    auto revision = write(store, holder, raw, WriteMode::kReplace);
    if (!revision) return revision.error();
    return Created{*revision, holder};
  }
  std::string holder;

  // "Another program" edits.
  void put(const StoreRef& store, const std::string& id, const std::string& raw) {
    collections[key(store)][id] = Item{"x" + std::to_string(++next_revision), raw};
  }

  std::map<std::string, Collection> collections;
  bool down = false;
  bool costly = false;  // as a database table
  int lists = 0;
  int reads = 0;
  std::vector<std::vector<std::string>> prefetched;  // each prefetch() call's ids
  int next_revision = 0;
};

StoreRef ref(const std::string& user, const std::string& database) {
  StoreRef r;
  r.user = UserId(user);
  r.database = database;
  return r;
}

SyncObj change(Action action, const std::string& guid, const std::string& raw = "") {
  SyncObj obj;
  obj.action = action;
  obj.guid = Guid(guid);
  obj.raw = raw;
  return obj;
}

int64_t num(const Anchor& a) { return std::stoll(a.str()); }

class RevisionTrackerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("conflux-tracker-test-" + random_hex(8));
    fs::create_directories(dir_);
    reopen();
    backend_.collections[MemoryBackend::key(alice_)];  // alice's collection exists, empty
  }
  void TearDown() override {
    tracker_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void reopen() {
    tracker_.reset();
    auto t = RevisionTracker::open((dir_ / "tracker.db").string(), backend_, "text/vcard");
    ASSERT_TRUE(t) << t.error().to_string();
    tracker_ = std::move(*t);
  }
  ApplyResult apply1(SyncObj obj, const StoreRef& store) {
    std::vector<SyncObj> batch;
    batch.push_back(std::move(obj));
    auto results = tracker_->apply(store, std::move(batch));
    EXPECT_EQ(results.size(), 1u);
    return results.empty() ? ApplyResult{} : results[0];
  }
  ChangeSet changes(const Anchor& since, const StoreRef& store) {
    auto set = tracker_->changes_since(store, since);
    EXPECT_TRUE(set) << set.error().to_string();
    return set ? *set : ChangeSet{};
  }
  // guid -> action of a change set.
  static std::map<std::string, Action> actions(const ChangeSet& set) {
    std::map<std::string, Action> out;
    for (const auto& obj : set.changes) out[obj.guid.str()] = obj.action;
    return out;
  }

  fs::path dir_;
  MemoryBackend backend_;
  std::unique_ptr<RevisionTracker> tracker_;
  const StoreRef alice_ = ref("alice", "contacts");
  const StoreRef bob_ = ref("bob", "contacts");
};

TEST_F(RevisionTrackerTest, EmptyCollectionHasAnchorZero) {
  EXPECT_EQ(*tracker_->current_anchor(alice_), Anchor("0"));
  EXPECT_TRUE(changes(Anchor(), alice_).changes.empty());
  // A collection that does not exist yet is empty as long as nothing is tracked.
  EXPECT_EQ(*tracker_->current_anchor(bob_), Anchor("0"));
}

TEST_F(RevisionTrackerTest, OwnWritesAreRecordedNotReportedTwice) {
  ApplyResult created = apply1(change(Action::kCreate, "", "A"), alice_);
  ASSERT_TRUE(created.status.is_ok()) << created.status.to_string();
  EXPECT_EQ(created.outcome, ApplyOutcome::kCreated);
  EXPECT_EQ(created.guid.str().size(), 16u);  // random hex
  EXPECT_EQ(*tracker_->current_anchor(alice_), created.anchor);
  // The listing after our own write finds nothing new.
  EXPECT_EQ(*tracker_->refresh(alice_), 0);
  EXPECT_TRUE(changes(created.anchor, alice_).changes.empty());

  ApplyResult updated = apply1(change(Action::kUpdate, created.guid.str(), "A2"), alice_);
  ASSERT_TRUE(updated.status.is_ok());
  EXPECT_EQ(updated.outcome, ApplyOutcome::kUpdated);
  EXPECT_GT(num(updated.anchor), num(created.anchor));
  ChangeSet set = changes(created.anchor, alice_);
  ASSERT_EQ(set.changes.size(), 1u);
  EXPECT_EQ(set.changes[0].action, Action::kUpdate);
  EXPECT_EQ(set.changes[0].raw, "A2");
  EXPECT_EQ(set.changes[0].content_type, "text/vcard");
  EXPECT_EQ(set.changes[0].anchor, updated.anchor);

  // search reports the same per-item anchor the write returned.
  Query meta;
  meta.metadata_only = true;
  auto found = tracker_->search(alice_, meta);
  ASSERT_TRUE(found);
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].anchor, updated.anchor);
  EXPECT_TRUE((*found)[0].raw.empty());

  ApplyResult deleted = apply1(change(Action::kDelete, created.guid.str()), alice_);
  EXPECT_EQ(deleted.outcome, ApplyOutcome::kDeleted);
  EXPECT_GT(num(deleted.anchor), num(updated.anchor));
  set = changes(updated.anchor, alice_);
  ASSERT_EQ(set.changes.size(), 1u);
  EXPECT_EQ(set.changes[0].action, Action::kDelete);
  EXPECT_EQ(set.anchor, deleted.anchor);
  EXPECT_EQ(apply1(change(Action::kDelete, created.guid.str()), alice_).outcome, ApplyOutcome::kAlreadyDeleted);
}

TEST_F(RevisionTrackerTest, ChangesByOthersAreDetected) {
  backend_.put(alice_, "a", "A");
  backend_.put(alice_, "b", "B");
  backend_.put(alice_, "c", "C");
  ChangeSet first = changes(Anchor(), alice_);
  EXPECT_EQ(first.changes.size(), 3u);
  EXPECT_EQ(first.anchor, Anchor("3"));

  backend_.put(alice_, "d", "D");                     // created
  backend_.put(alice_, "b", "B2");                    // edited
  backend_.collections["alice/contacts"].erase("c");  // deleted
  ChangeSet next = changes(first.anchor, alice_);
  EXPECT_EQ(actions(next),
            (std::map<std::string, Action>{{"b", Action::kUpdate}, {"c", Action::kDelete}, {"d", Action::kCreate}}));
  EXPECT_GT(num(next.anchor), num(first.anchor));
  for (const auto& obj : next.changes) {
    EXPECT_GT(num(obj.anchor), num(first.anchor));
    if (obj.guid.str() == "b") {
      EXPECT_EQ(obj.raw, "B2");
    }
    if (obj.guid.str() == "c") {
      EXPECT_TRUE(obj.raw.empty());
    }
  }
  // Oldest first.
  for (size_t i = 1; i < next.changes.size(); ++i) {
    EXPECT_LT(num(next.changes[i - 1].anchor), num(next.changes[i].anchor));
  }
  EXPECT_TRUE(changes(next.anchor, alice_).changes.empty());

  // An id that comes back after its delete is a create again.
  backend_.put(alice_, "c", "C again");
  EXPECT_EQ(actions(changes(next.anchor, alice_)), (std::map<std::string, Action>{{"c", Action::kCreate}}));
  // Since the beginning: live items only, no deletes.
  EXPECT_EQ(changes(Anchor(), alice_).changes.size(), 4u);
}

// A back end whose listing is a query over a whole table: one listing per
// sync session, whatever the calls (a slow sync searches every item in each
// message), and an item is read again only when its revision changed. What
// another program does meanwhile comes with the next session; calls without
// a session list every time.
TEST_F(RevisionTrackerTest, ACostlyBackEndIsListedOncePerSessionAndEachRevisionReadOnce) {
  backend_.costly = true;
  backend_.put(alice_, "a", "A");
  backend_.put(alice_, "b", "B");
  StoreRef first = alice_;
  first.session = "session-1";
  ASSERT_TRUE(tracker_->current_anchor(first));
  auto all = tracker_->search(first, Query{});
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 2u);
  const ApplyResult edited = apply1(change(Action::kUpdate, "a", "A2"), first);
  ASSERT_TRUE(edited.status.is_ok()) << edited.status.to_string();
  backend_.put(alice_, "c", "C");  // another program, during the session
  all = tracker_->search(first, Query{});
  ASSERT_TRUE(all);
  std::map<std::string, std::string> seen;
  for (const auto& obj : *all) seen[obj.guid.str()] = obj.raw;
  EXPECT_EQ(seen, (std::map<std::string, std::string>{{"a", "A2"}, {"b", "B"}}));
  EXPECT_EQ(backend_.lists, 1);
  EXPECT_EQ(backend_.reads, 3);  // a and b, then a at its new revision

  StoreRef second = alice_;
  second.session = "session-2";
  EXPECT_EQ(actions(changes(edited.anchor, second)), (std::map<std::string, Action>{{"c", Action::kCreate}}));
  EXPECT_EQ(backend_.lists, 2);
  ASSERT_TRUE(tracker_->current_anchor(alice_));
  ASSERT_TRUE(tracker_->current_anchor(alice_));
  EXPECT_EQ(backend_.lists, 4);
}

TEST_F(RevisionTrackerTest, TheBackEndHearsOnceWhichItemsWillBeRead) {
  backend_.put(alice_, "a", "A");
  backend_.put(alice_, "b", "B");
  ChangeSet first = changes(Anchor(), alice_);
  ASSERT_EQ(backend_.prefetched.size(), 1u);
  EXPECT_EQ(backend_.prefetched[0], (std::vector<std::string>{"a", "b"}));

  // Deletes are not read: only the edited item is announced.
  backend_.put(alice_, "b", "B2");
  backend_.collections["alice/contacts"].erase("a");
  changes(first.anchor, alice_);
  ASSERT_EQ(backend_.prefetched.size(), 2u);
  EXPECT_EQ(backend_.prefetched[1], std::vector<std::string>{"b"});

  Query some;
  some.guids = {Guid("b"), Guid("nope")};
  ASSERT_TRUE(tracker_->search(alice_, some));
  ASSERT_EQ(backend_.prefetched.size(), 3u);
  EXPECT_EQ(backend_.prefetched[2], std::vector<std::string>{"b"});

  // A listing of metadata reads nothing.
  Query meta;
  meta.metadata_only = true;
  ASSERT_TRUE(tracker_->search(alice_, meta));
  EXPECT_EQ(backend_.prefetched.size(), 3u);
}

TEST_F(RevisionTrackerTest, ACreateTheBackEndTakesAsAnUpdateIsRecordedAsOne) {
  backend_.put(alice_, "held", "by another program");
  auto before = tracker_->current_anchor(alice_);
  ASSERT_TRUE(before);
  backend_.holder = "held";
  ApplyResult r = apply1(change(Action::kCreate, "", "by the device"), alice_);
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  EXPECT_EQ(r.guid.str(), "held");
  EXPECT_EQ(r.outcome, ApplyOutcome::kUpdated);
  EXPECT_EQ(backend_.collections[MemoryBackend::key(alice_)].size(), 1u);
  ChangeSet set = changes(*before, alice_);
  ASSERT_EQ(set.changes.size(), 1u);
  EXPECT_EQ(set.changes[0].guid.str(), "held");
  EXPECT_EQ(set.changes[0].action, Action::kUpdate);
  EXPECT_EQ(set.changes[0].raw, "by the device");
  EXPECT_EQ(set.changes[0].anchor, r.anchor);
  EXPECT_TRUE(changes(set.anchor, alice_).changes.empty()) << "our own write came back as a change";
}

TEST_F(RevisionTrackerTest, UsersAreIsolated) {
  backend_.put(alice_, "a", "A");
  ASSERT_TRUE(apply1(change(Action::kCreate, "", "bob's"), bob_).status.is_ok());
  EXPECT_EQ(actions(changes(Anchor(), alice_)), (std::map<std::string, Action>{{"a", Action::kCreate}}));
  auto bobs = changes(Anchor(), bob_);
  ASSERT_EQ(bobs.changes.size(), 1u);
  EXPECT_EQ(bobs.changes[0].raw, "bob's");
  EXPECT_EQ(apply1(change(Action::kUpdate, "a", "hijack"), bob_).status.code(), StatusCode::kNotFound);
  SyncObj foreign = change(Action::kCreate, "", "x");
  foreign.user = UserId("alice");
  EXPECT_EQ(apply1(foreign, bob_).status.code(), StatusCode::kInvalidArgument);
}

TEST_F(RevisionTrackerTest, ApplyContract) {
  // An update of an unknown id is an error, never a re-create.
  ApplyResult missing = apply1(change(Action::kUpdate, "nope", "x"), alice_);
  EXPECT_EQ(missing.status.code(), StatusCode::kNotFound);
  EXPECT_FALSE(backend_.collections["alice/contacts"].count("nope"));
  EXPECT_EQ(apply1(change(Action::kUpdate, "", "x"), alice_).status.code(), StatusCode::kInvalidArgument);
  // A create keeps a usable guid it carries, and refuses to reuse a taken one.
  EXPECT_EQ(apply1(change(Action::kCreate, "mine", "1"), alice_).guid, Guid("mine"));
  ApplyResult again = apply1(change(Action::kCreate, "mine", "2"), alice_);
  ASSERT_TRUE(again.status.is_ok());
  EXPECT_NE(again.guid, Guid("mine"));
  // An id the back end refuses gets a random one instead.
  ApplyResult bad = apply1(change(Action::kCreate, "a/b", "3"), alice_);
  ASSERT_TRUE(bad.status.is_ok());
  EXPECT_EQ(bad.guid.str().find('/'), std::string::npos);
  EXPECT_EQ(backend_.collections["alice/contacts"]["mine"].raw, "1");
}

TEST_F(RevisionTrackerTest, BackendDownLosesNothing) {
  backend_.put(alice_, "a", "A");
  Anchor anchor = changes(Anchor(), alice_).anchor;
  backend_.down = true;
  EXPECT_EQ(tracker_->current_anchor(alice_).error().code(), StatusCode::kUnavailable);
  EXPECT_EQ(tracker_->changes_since(alice_, anchor).error().code(), StatusCode::kUnavailable);
  std::vector<SyncObj> batch;
  batch.push_back(change(Action::kCreate, "", "new"));
  batch.push_back(change(Action::kDelete, "a"));
  for (const auto& r : tracker_->apply(alice_, std::move(batch))) {
    EXPECT_EQ(r.status.code(), StatusCode::kUnavailable);
  }
  backend_.down = false;
  EXPECT_EQ(*tracker_->current_anchor(alice_), anchor);
  EXPECT_EQ(backend_.collections["alice/contacts"].size(), 1u);
}

TEST_F(RevisionTrackerTest, VanishedCollectionIsNotEmptied) {
  backend_.put(alice_, "a", "A");
  Anchor anchor = *tracker_->current_anchor(alice_);
  backend_.collections.erase("alice/contacts");
  auto gone = tracker_->current_anchor(alice_);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code(), StatusCode::kUnavailable);
  EXPECT_EQ(apply1(change(Action::kCreate, "", "x"), alice_).status.code(), StatusCode::kUnavailable);
  // Recreated empty: now the delete is real.
  backend_.collections["alice/contacts"];
  EXPECT_EQ(actions(changes(anchor, alice_)), (std::map<std::string, Action>{{"a", Action::kDelete}}));
}

TEST_F(RevisionTrackerTest, StateSurvivesReopen) {
  backend_.put(alice_, "a", "A");
  ApplyResult mine = apply1(change(Action::kCreate, "", "M"), alice_);
  Anchor anchor = *tracker_->current_anchor(alice_);
  reopen();
  EXPECT_EQ(*tracker_->current_anchor(alice_), anchor);
  EXPECT_TRUE(changes(anchor, alice_).changes.empty());
  backend_.put(alice_, "a", "A2");
  ApplyResult next = apply1(change(Action::kCreate, "", "N"), alice_);
  EXPECT_GT(num(next.anchor), num(mine.anchor));  // the counter never goes back
  EXPECT_EQ(changes(anchor, alice_).changes.size(), 2u);
}

TEST_F(RevisionTrackerTest, SearchFiltersAndOrders) {
  backend_.put(alice_, "a", "Anna");
  backend_.put(alice_, "b", "Bert");
  backend_.put(alice_, "c", "Carla");
  Query by_guid;
  by_guid.guids = {Guid("c"), Guid("zz"), Guid("a"), Guid("c")};
  auto found = tracker_->search(alice_, by_guid);
  ASSERT_TRUE(found);
  ASSERT_EQ(found->size(), 2u);
  EXPECT_EQ((*found)[0].guid, Guid("c"));
  EXPECT_EQ((*found)[0].raw, "Carla");
  EXPECT_EQ((*found)[1].guid, Guid("a"));
  Query contains;
  contains.contains = "er";
  found = tracker_->search(alice_, contains);
  ASSERT_TRUE(found);
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].guid, Guid("b"));
  Query limited;
  limited.limit = 2;
  EXPECT_EQ(tracker_->search(alice_, limited)->size(), 2u);
  EXPECT_EQ(tracker_->changes_since(alice_, Anchor("x1")).error().code(), StatusCode::kInvalidArgument);
}

// A state file written by the released schema (module "caf.revision_tracker",
// step 1), made here with that step's SQL as it shipped: counters 1 a seen,
// 2 b seen, 3 c seen, 4 b changed, 5 c gone.
constexpr const char* kReleasedLayout =
    "CREATE TABLE schema_migrations(module TEXT NOT NULL, version INTEGER NOT NULL, PRIMARY KEY(module, version));"
    "INSERT INTO schema_migrations VALUES ('caf.revision_tracker', 1);"
    "CREATE TABLE items("
    "  user TEXT NOT NULL, database TEXT NOT NULL, id TEXT NOT NULL,"
    "  revision TEXT NOT NULL, created INTEGER NOT NULL, changed INTEGER NOT NULL,"
    "  deleted INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY(user, database, id));"
    "CREATE INDEX items_by_changed ON items(user, database, changed);"
    "CREATE TABLE seq(id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);"
    "INSERT INTO seq(id, value) VALUES (1, 5);"
    "INSERT INTO items VALUES ('alice', 'contacts', 'a', 'r1', 1, 1, 0),"
    " ('alice', 'contacts', 'b', 'r4', 2, 4, 0), ('alice', 'contacts', 'c', '', 3, 5, 1);";

TEST_F(RevisionTrackerTest, AStateFileOfTheReleasedLayoutIsReadAndContinued) {
  {
    auto db = SqliteDb::open((dir_ / "released.db").string());
    ASSERT_TRUE(db) << db.error().to_string();
    ASSERT_TRUE((*db)->exec(kReleasedLayout).is_ok());
  }
  backend_.collections[MemoryBackend::key(alice_)] = {{"a", {"r1", "A"}}, {"b", {"r4", "B2"}}};
  auto opened = RevisionTracker::open((dir_ / "released.db").string(), backend_, "text/vcard");
  ASSERT_TRUE(opened) << opened.error().to_string();
  RevisionTracker& tracker = **opened;

  // The listing matches what the file recorded: nothing new.
  EXPECT_EQ(*tracker.current_anchor(alice_), Anchor("5"));
  auto all = tracker.changes_since(alice_, Anchor());
  ASSERT_TRUE(all) << all.error().to_string();
  EXPECT_EQ(all->anchor, Anchor("5"));
  EXPECT_EQ(actions(*all), (std::map<std::string, Action>{{"a", Action::kCreate}, {"b", Action::kCreate}}));
  auto since2 = tracker.changes_since(alice_, Anchor("2"));
  ASSERT_TRUE(since2);
  EXPECT_EQ(actions(*since2), (std::map<std::string, Action>{{"b", Action::kUpdate}, {"c", Action::kDelete}}));

  Query by_id;
  by_id.guids = {Guid("c"), Guid("b")};
  auto found = tracker.search(alice_, by_id);
  ASSERT_TRUE(found) << found.error().to_string();
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].raw, "B2");
  EXPECT_EQ((*found)[0].anchor, Anchor("4"));

  // Counting goes on from the file's sequence; a tombstone's id is not reused.
  backend_.put(alice_, "d", "D");
  auto since5 = tracker.changes_since(alice_, Anchor("5"));
  ASSERT_TRUE(since5);
  ASSERT_EQ(since5->changes.size(), 1u);
  EXPECT_EQ(since5->changes[0].anchor, Anchor("6"));
  std::vector<SyncObj> batch;
  batch.push_back(change(Action::kCreate, "c", "C again"));
  auto results = tracker.apply(alice_, std::move(batch));
  ASSERT_EQ(results.size(), 1u);
  ASSERT_TRUE(results[0].status.is_ok()) << results[0].status.to_string();
  EXPECT_NE(results[0].guid, Guid("c"));
  EXPECT_EQ(results[0].anchor, Anchor("7"));
}

}  // namespace
}  // namespace conflux::caf
