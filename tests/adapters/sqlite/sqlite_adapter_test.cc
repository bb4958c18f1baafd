#include "adapters/sqlite/sqlite_adapter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <thread>

#include "adapters/builtin_adapters.h"
#include "common/base64.h"
#include "tests/common/temp_dir.h"

namespace conflux::adapters {
namespace {

namespace fs = std::filesystem;
using caf::Action;
using caf::ApplyOutcome;
using caf::ApplyResult;
using caf::StoreRef;
using caf::SyncObj;

using conflux::test::TempDir;

caf::StoreSettings settings(const std::string& name, caf::StoreOptions options = {}) {
  caf::StoreSettings s;
  s.name = name;
  s.adapter = "sqlite";
  s.content_type = "text/vcard";
  s.content_version = "3.0";
  s.options = std::move(options);
  return s;
}

StoreRef ref(const std::string& user, const std::string& database) {
  StoreRef r;
  r.user = UserId(user);
  r.database = database;
  return r;
}

SyncObj create(const std::string& raw, const std::string& guid = "") {
  SyncObj obj;
  obj.action = Action::kCreate;
  obj.guid = Guid(guid);
  obj.content_type = "text/vcard";
  obj.raw = raw;
  return obj;
}

SyncObj update(const Guid& guid, const std::string& raw) {
  SyncObj obj;
  obj.action = Action::kUpdate;
  obj.guid = guid;
  obj.raw = raw;
  return obj;
}

SyncObj remove(const Guid& guid) {
  SyncObj obj;
  obj.action = Action::kDelete;
  obj.guid = guid;
  return obj;
}

std::vector<SyncObj> batch_of(SyncObj obj) {
  std::vector<SyncObj> batch;
  batch.push_back(std::move(obj));
  return batch;
}

int64_t rev(const Anchor& anchor) { return std::stoll(anchor.str()); }

class SqliteAdapterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_.data_dir = dir_.path().string();
    contacts_ = make("contacts");
  }

  std::shared_ptr<caf::ContentAdapter> make(const std::string& name, caf::StoreOptions options = {}) {
    auto adapter = factory_.create(settings(name, std::move(options)), env_);
    EXPECT_TRUE(adapter) << adapter.error().to_string();
    return adapter ? *adapter : nullptr;
  }

  // Applies one item and insists it succeeded.
  ApplyResult apply_one(caf::ContentAdapter& adapter, const StoreRef& store, SyncObj obj) {
    auto results = adapter.apply(store, batch_of(std::move(obj)));
    EXPECT_EQ(results.size(), 1u);
    if (results.size() != 1) return {};
    EXPECT_TRUE(results[0].status.is_ok()) << results[0].status.to_string();
    return results[0];
  }

  Guid add(caf::ContentAdapter& adapter, const StoreRef& store, const std::string& raw) {
    return apply_one(adapter, store, create(raw)).guid;
  }

  caf::ChangeSet changes(caf::ContentAdapter& adapter, const StoreRef& store, const Anchor& since) {
    auto set = adapter.changes_since(store, since);
    EXPECT_TRUE(set) << set.error().to_string();
    return set ? *set : caf::ChangeSet{};
  }

  std::vector<std::string> raws(caf::ContentAdapter& adapter, const StoreRef& store) {
    std::vector<std::string> out;
    for (const auto& obj : changes(adapter, store, Anchor()).changes) out.push_back(obj.raw);
    return out;
  }

  TempDir dir_;
  caf::AdapterEnv env_;
  SqliteAdapterFactory factory_;
  std::shared_ptr<caf::ContentAdapter> contacts_;
  const StoreRef alice_ = ref("alice", "contacts");
  const StoreRef bob_ = ref("bob", "contacts");
};

TEST_F(SqliteAdapterTest, Caps) {
  EXPECT_EQ(contacts_->caps(), caf::kCapTombstones | caf::kCapSearch);
  EXPECT_EQ(contacts_->caps() & caf::kCapOwnAccounts, 0u);
  EXPECT_EQ(contacts_->verify_credentials("contacts", caf::Credentials::with_password(UserId("alice"), "pw")).code(),
            StatusCode::kUnimplemented);
}

TEST_F(SqliteAdapterTest, EmptyStore) {
  auto anchor = contacts_->current_anchor(alice_);
  ASSERT_TRUE(anchor);
  EXPECT_EQ(*anchor, Anchor("0"));
  auto all = changes(*contacts_, alice_, Anchor());
  EXPECT_TRUE(all.changes.empty());
  EXPECT_EQ(all.anchor, Anchor("0"));
  EXPECT_TRUE(changes(*contacts_, alice_, Anchor("0")).changes.empty());
}

TEST_F(SqliteAdapterTest, CreateUpdateDeleteAndChangesSince) {
  auto created = contacts_->apply(alice_, [] {
    std::vector<SyncObj> b;
    b.push_back(create("card one"));
    b.push_back(create("card two"));
    return b;
  }());
  ASSERT_EQ(created.size(), 2u);
  for (const auto& r : created) {
    ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
    EXPECT_EQ(r.outcome, ApplyOutcome::kCreated);
    EXPECT_EQ(r.guid.str().size(), 16u);
  }
  const Guid one = created[0].guid, two = created[1].guid;
  EXPECT_NE(one, two);
  EXPECT_LT(rev(created[0].anchor), rev(created[1].anchor));

  auto all = changes(*contacts_, alice_, Anchor());
  ASSERT_EQ(all.changes.size(), 2u);
  EXPECT_EQ(all.changes[0].guid, one);
  EXPECT_EQ(all.changes[0].raw, "card one");
  EXPECT_EQ(all.changes[0].action, Action::kCreate);
  EXPECT_EQ(all.changes[0].content_type, "text/vcard");
  EXPECT_EQ(all.changes[0].user, UserId("alice"));
  EXPECT_EQ(all.changes[0].database, "contacts");
  EXPECT_EQ(all.changes[0].anchor, created[0].anchor);
  EXPECT_EQ(all.changes[1].guid, two);
  EXPECT_EQ(all.anchor, created[1].anchor);
  EXPECT_EQ(*contacts_->current_anchor(alice_), all.anchor);
  const Anchor after_create = all.anchor;

  ApplyResult updated = apply_one(*contacts_, alice_, update(one, "card one v2"));
  EXPECT_EQ(updated.outcome, ApplyOutcome::kUpdated);
  EXPECT_EQ(updated.guid, one);
  EXPECT_GT(rev(updated.anchor), rev(after_create));

  auto since_create = changes(*contacts_, alice_, after_create);
  ASSERT_EQ(since_create.changes.size(), 1u);
  EXPECT_EQ(since_create.changes[0].action, Action::kUpdate);
  EXPECT_EQ(since_create.changes[0].guid, one);
  EXPECT_EQ(since_create.changes[0].raw, "card one v2");
  EXPECT_EQ(since_create.changes[0].content_type, "text/vcard");  // kept: the update carried none
  const Anchor after_update = since_create.anchor;

  ApplyResult deleted = apply_one(*contacts_, alice_, remove(two));
  EXPECT_EQ(deleted.outcome, ApplyOutcome::kDeleted);
  EXPECT_GT(rev(deleted.anchor), rev(after_update));

  auto since_update = changes(*contacts_, alice_, after_update);
  ASSERT_EQ(since_update.changes.size(), 1u);
  EXPECT_EQ(since_update.changes[0].action, Action::kDelete);
  EXPECT_EQ(since_update.changes[0].guid, two);
  EXPECT_TRUE(since_update.changes[0].raw.empty());
  EXPECT_TRUE(since_update.changes[0].content_type.empty());
  EXPECT_EQ(since_update.anchor, deleted.anchor);

  // Everything since the beginning: the live item (latest state) and the tombstone.
  auto since_zero = changes(*contacts_, alice_, Anchor("0"));
  ASSERT_EQ(since_zero.changes.size(), 2u);
  EXPECT_EQ(since_zero.changes[0].guid, one);
  EXPECT_EQ(since_zero.changes[0].action, Action::kCreate);
  EXPECT_EQ(since_zero.changes[0].raw, "card one v2");
  EXPECT_EQ(since_zero.changes[1].action, Action::kDelete);

  // An empty anchor means every live item, no deletes.
  EXPECT_EQ(raws(*contacts_, alice_), (std::vector<std::string>{"card one v2"}));

  // Deleting again, and updating the deleted item.
  ApplyResult again = apply_one(*contacts_, alice_, remove(two));
  EXPECT_EQ(again.outcome, ApplyOutcome::kAlreadyDeleted);
  EXPECT_TRUE(again.anchor.empty());
  EXPECT_EQ(*contacts_->current_anchor(alice_), deleted.anchor);  // nothing written
  auto zombie = contacts_->apply(alice_, batch_of(update(two, "back?")));
  ASSERT_EQ(zombie.size(), 1u);
  EXPECT_EQ(zombie[0].status.code(), StatusCode::kNotFound);
}

TEST_F(SqliteAdapterTest, AnchorsStrictlyIncrease) {
  int64_t last = rev(*contacts_->current_anchor(alice_));
  Guid guid = add(*contacts_, alice_, "v0");
  for (int i = 1; i <= 5; ++i) {
    int64_t now = rev(*contacts_->current_anchor(alice_));
    EXPECT_GT(now, last);
    last = now;
    apply_one(*contacts_, alice_, update(guid, "v" + std::to_string(i)));
  }
  apply_one(*contacts_, alice_, remove(guid));
  EXPECT_GT(rev(*contacts_->current_anchor(alice_)), last);
}

TEST_F(SqliteAdapterTest, OneFailedItemDoesNotSinkTheBatch) {
  std::vector<SyncObj> batch;
  batch.push_back(create("first"));
  batch.push_back(update(Guid("0000000000000000"), "nobody"));
  batch.push_back(remove(Guid("1111111111111111")));
  batch.push_back(update(Guid(), "no guid"));
  batch.push_back(create("last"));
  auto results = contacts_->apply(alice_, std::move(batch));
  ASSERT_EQ(results.size(), 5u);
  EXPECT_TRUE(results[0].status.is_ok());
  EXPECT_EQ(results[1].status.code(), StatusCode::kNotFound);
  EXPECT_TRUE(results[2].status.is_ok());
  EXPECT_EQ(results[2].outcome, ApplyOutcome::kAlreadyDeleted);
  EXPECT_EQ(results[3].status.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(results[4].status.is_ok());
  EXPECT_LT(rev(results[0].anchor), rev(results[4].anchor));
  EXPECT_EQ(raws(*contacts_, alice_), (std::vector<std::string>{"first", "last"}));
}

TEST_F(SqliteAdapterTest, CreateKeepsAnUnusedGuidOnly) {
  ApplyResult kept = apply_one(*contacts_, alice_, create("mine", "client-chosen"));
  EXPECT_EQ(kept.guid, Guid("client-chosen"));
  ApplyResult fresh = apply_one(*contacts_, alice_, create("again", "client-chosen"));
  EXPECT_NE(fresh.guid, Guid("client-chosen"));
  EXPECT_EQ(fresh.outcome, ApplyOutcome::kCreated);
  // A tombstone's guid is used too.
  apply_one(*contacts_, alice_, remove(Guid("client-chosen")));
  EXPECT_NE(apply_one(*contacts_, alice_, create("third", "client-chosen")).guid, Guid("client-chosen"));
  // Another user's guid is no concern of alice's.
  EXPECT_EQ(apply_one(*contacts_, bob_, create("bob's", "client-chosen")).guid, Guid("client-chosen"));
}

TEST_F(SqliteAdapterTest, EmptyContentTypeGetsTheStoreDefault) {
  SyncObj obj = create("x");
  obj.content_type.clear();
  apply_one(*contacts_, alice_, std::move(obj));
  EXPECT_EQ(changes(*contacts_, alice_, Anchor()).changes.at(0).content_type, "text/vcard");
}

TEST_F(SqliteAdapterTest, UsersNeverSeeEachOthersItems) {
  const Guid mine = add(*contacts_, alice_, "alice card");
  const Guid bobs = add(*contacts_, bob_, "bob card");
  const Guid bobs_gone = add(*contacts_, bob_, "bob gone");
  apply_one(*contacts_, bob_, remove(bobs_gone));
  const Guid bobs_later = add(*contacts_, bob_, "bob later");  // bob's tombstone is not his newest row
  const Anchor alice_anchor = *contacts_->current_anchor(alice_);
  EXPECT_LT(rev(alice_anchor), rev(*contacts_->current_anchor(bob_)));

  // changes_since, every form.
  for (const Anchor& since : {Anchor(), Anchor("0")}) {
    auto set = changes(*contacts_, alice_, since);
    ASSERT_EQ(set.changes.size(), 1u);
    EXPECT_EQ(set.changes[0].guid, mine);
    EXPECT_EQ(set.anchor, alice_anchor);
  }
  // search by guid and by content.
  caf::Query by_guid;
  by_guid.guids = {bobs, bobs_gone, bobs_later, mine};
  auto found = contacts_->search(alice_, by_guid);
  ASSERT_TRUE(found);
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].guid, mine);
  caf::Query by_text;
  by_text.contains = "bob";
  EXPECT_TRUE(contacts_->search(alice_, by_text)->empty());
  EXPECT_EQ(contacts_->search(alice_, caf::Query{})->size(), 1u);

  // Writes to bob's guids land nowhere near bob.
  auto writes = contacts_->apply(alice_, [&] {
    std::vector<SyncObj> b;
    b.push_back(update(bobs, "hijacked"));
    b.push_back(remove(bobs));
    return b;
  }());
  EXPECT_EQ(writes[0].status.code(), StatusCode::kNotFound);
  EXPECT_EQ(writes[1].outcome, ApplyOutcome::kAlreadyDeleted);
  EXPECT_EQ(raws(*contacts_, bob_), (std::vector<std::string>{"bob card", "bob later"}));

  // An item naming another user is refused even inside alice's call.
  SyncObj forged = create("forged");
  forged.user = UserId("bob");
  auto refused = contacts_->apply(alice_, batch_of(std::move(forged)));
  EXPECT_EQ(refused[0].status.code(), StatusCode::kInvalidArgument);
  SyncObj elsewhere = create("elsewhere");
  elsewhere.database = "calendar";
  EXPECT_EQ(contacts_->apply(alice_, batch_of(std::move(elsewhere)))[0].status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(raws(*contacts_, bob_), (std::vector<std::string>{"bob card", "bob later"}));

  // execute.
  EXPECT_EQ(contacts_->execute(alice_, caf::Command{"count", {}})->output, "1");
  EXPECT_EQ(contacts_->execute(bob_, caf::Command{"count", {}})->output, "2");
  EXPECT_EQ(contacts_->execute(alice_, caf::Command{"purge-tombstones", {{"before", "1000"}}})->output, "0");
  EXPECT_EQ(changes(*contacts_, bob_, Anchor("0")).changes.size(), 3u);  // bob's tombstone is still there
  EXPECT_EQ(*contacts_->current_anchor(alice_), alice_anchor);
}

TEST_F(SqliteAdapterTest, DatabasesOfOneUserAreSeparate) {
  auto calendar = make("calendar");
  ASSERT_TRUE(calendar);
  const StoreRef alice_calendar = ref("alice", "calendar");
  const Guid card = add(*contacts_, alice_, "BEGIN:VCARD");
  add(*calendar, alice_calendar, "BEGIN:VEVENT");
  EXPECT_EQ(raws(*contacts_, alice_), (std::vector<std::string>{"BEGIN:VCARD"}));
  EXPECT_EQ(raws(*calendar, alice_calendar), (std::vector<std::string>{"BEGIN:VEVENT"}));
  // One adapter serves whatever database the call names, still scoped by it.
  EXPECT_EQ(raws(*contacts_, alice_calendar), (std::vector<std::string>{"BEGIN:VEVENT"}));
  caf::Query q;
  q.guids = {card};
  EXPECT_TRUE(calendar->search(alice_calendar, q)->empty());
  EXPECT_EQ(calendar->apply(alice_calendar, batch_of(update(card, "x")))[0].status.code(), StatusCode::kNotFound);
}

TEST_F(SqliteAdapterTest, EmptyUserOrDatabaseIsRefused) {
  for (const StoreRef& bad : {ref("", "contacts"), ref("alice", ""), ref("", "")}) {
    EXPECT_EQ(contacts_->current_anchor(bad).error().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(contacts_->changes_since(bad, Anchor()).error().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(contacts_->search(bad, caf::Query{}).error().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(contacts_->execute(bad, caf::Command{"count", {}}).error().code(), StatusCode::kInvalidArgument);
    std::vector<SyncObj> batch;
    batch.push_back(create("a"));
    batch.push_back(create("b"));
    auto results = contacts_->apply(bad, std::move(batch));
    ASSERT_EQ(results.size(), 2u);
    for (const auto& r : results) EXPECT_EQ(r.status.code(), StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(*contacts_->current_anchor(alice_), Anchor("0"));
}

TEST_F(SqliteAdapterTest, ForeignAnchorIsInvalid) {
  for (const char* bad : {"abc", "-1", "12x", "20240101T000000Z"}) {
    auto set = contacts_->changes_since(alice_, Anchor(bad));
    ASSERT_FALSE(set) << bad;
    EXPECT_EQ(set.error().code(), StatusCode::kInvalidArgument);
  }
}

TEST_F(SqliteAdapterTest, SearchByGuidAndSubstring) {
  const Guid a = add(*contacts_, alice_, "FN:Anna Apple");
  const Guid b = add(*contacts_, alice_, std::string("FN:Bert\0binary", 14));
  const Guid c = add(*contacts_, alice_, "FN:Carl Apple");
  const Guid gone = add(*contacts_, alice_, "FN:Gone Apple");
  apply_one(*contacts_, alice_, remove(gone));

  auto guids_of = [](const std::vector<SyncObj>& objs) {
    std::vector<Guid> out;
    for (const auto& o : objs) out.push_back(o.guid);
    return out;
  };
  auto run = [&](caf::Query q) {
    auto found = contacts_->search(alice_, q);
    EXPECT_TRUE(found) << found.error().to_string();
    return found ? guids_of(*found) : std::vector<Guid>{};
  };

  caf::Query q;
  EXPECT_EQ(run(q), (std::vector<Guid>{a, b, c}));  // every live item, oldest first

  q.guids = {c, a, Guid("unknown"), a, gone};
  EXPECT_EQ(run(q), (std::vector<Guid>{c, a}));  // in the order asked, once each, no tombstones
  q.limit = 1;
  EXPECT_EQ(run(q), (std::vector<Guid>{c}));

  caf::Query text;
  text.contains = "Apple";
  EXPECT_EQ(run(text), (std::vector<Guid>{a, c}));
  text.limit = 1;
  EXPECT_EQ(run(text), (std::vector<Guid>{a}));
  text.limit = 0;
  text.contains = std::string("\0bin", 4);  // bytes, not text
  EXPECT_EQ(run(text), (std::vector<Guid>{b}));

  caf::Query both;
  both.guids = {a, b, c};
  both.contains = "Carl";
  EXPECT_EQ(run(both), (std::vector<Guid>{c}));

  auto found = contacts_->search(alice_, caf::Query{{a}, "", 0});
  ASSERT_TRUE(found && found->size() == 1);
  EXPECT_EQ((*found)[0].raw, "FN:Anna Apple");
  EXPECT_EQ((*found)[0].content_type, "text/vcard");
}

TEST_F(SqliteAdapterTest, ExecuteCountAndPurgeTombstones) {
  const Guid a = add(*contacts_, alice_, "a");
  const Guid b = add(*contacts_, alice_, "b");
  add(*contacts_, alice_, "c");
  apply_one(*contacts_, alice_, remove(a));
  ApplyResult last_delete = apply_one(*contacts_, alice_, remove(b));
  EXPECT_EQ(contacts_->execute(alice_, caf::Command{"count", {}})->output, "1");

  // b's tombstone holds the current anchor: it stays, so the anchor does not go back.
  auto purged = contacts_->execute(alice_, caf::Command{"purge-tombstones", {{"before", "1000000"}}});
  ASSERT_TRUE(purged) << purged.error().to_string();
  EXPECT_EQ(purged->output, "1");
  EXPECT_EQ(*contacts_->current_anchor(alice_), last_delete.anchor);
  auto left = changes(*contacts_, alice_, Anchor("0"));
  ASSERT_EQ(left.changes.size(), 2u);
  EXPECT_EQ(left.changes[1].guid, b);
  EXPECT_EQ(left.changes[1].action, Action::kDelete);

  // "before" is exclusive.
  add(*contacts_, alice_, "d");
  EXPECT_EQ(
      contacts_->execute(alice_, caf::Command{"purge-tombstones", {{"before", last_delete.anchor.str()}}})->output,
      "0");
  EXPECT_EQ(contacts_->execute(alice_, caf::Command{"purge-tombstones", {{"before", "1000000"}}})->output, "1");
  EXPECT_EQ(contacts_->execute(alice_, caf::Command{"count", {}})->output, "2");

  EXPECT_EQ(contacts_->execute(alice_, caf::Command{"purge-tombstones", {}}).error().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(contacts_->execute(alice_, caf::Command{"purge-tombstones", {{"before", "soon"}}}).error().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(contacts_->execute(alice_, caf::Command{"count", {{"where", "x"}}}).error().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(contacts_->execute(alice_, caf::Command{"vacuum", {}}).error().code(), StatusCode::kUnimplemented);
}

TEST_F(SqliteAdapterTest, DataSurvivesReopen) {
  const Guid guid = add(*contacts_, alice_, "persistent");
  const Anchor before = *contacts_->current_anchor(alice_);
  contacts_.reset();
  {
    SqliteAdapterFactory fresh_factory;
    auto reopened = fresh_factory.create(settings("contacts"), env_);
    ASSERT_TRUE(reopened) << reopened.error().to_string();
    EXPECT_EQ(raws(**reopened, alice_), (std::vector<std::string>{"persistent"}));
    EXPECT_EQ(*(*reopened)->current_anchor(alice_), before);
    ApplyResult next = apply_one(**reopened, alice_, update(guid, "still here"));
    EXPECT_GT(rev(next.anchor), rev(before));
  }
  EXPECT_TRUE(fs::exists(dir_.path() / "items.db"));
}

TEST_F(SqliteAdapterTest, FactoryValidatesItsSection) {
  EXPECT_EQ(factory_.kind(), "sqlite");
  EXPECT_TRUE(factory_.validate(settings("contacts")).is_ok());
  EXPECT_TRUE(factory_.validate(settings("contacts", {{"file", "other.db"}})).is_ok());

  Status unknown = factory_.validate(settings("contacts", {{"colour", "blue"}}));
  EXPECT_EQ(unknown.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(unknown.message(),
            "stores.contacts.colour: unknown key for adapter sqlite (its keys: file, accounts_file)");

  Status empty = factory_.validate(settings("notes", {{"file", ""}}));
  EXPECT_EQ(empty.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(empty.message(), "stores.notes.file: must be a non-empty string");
  // A number where the path belongs is refused, not read as its text.
  EXPECT_EQ(factory_.validate(settings("notes", {{"file", int64_t{7}}})).message(),
            "stores.notes.file: must be a non-empty string");

  auto created = factory_.create(settings("contacts", {{"colour", "blue"}}), env_);
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().code(), StatusCode::kInvalidArgument);
}

TEST_F(SqliteAdapterTest, FileOptionResolvesAgainstDataDir) {
  auto resolved = [&](const caf::StoreSettings& s) {
    auto parsed = factory_.parse(s);
    EXPECT_TRUE(parsed) << parsed.error().message();
    return parsed ? SqliteAdapterFactory::resolve(*parsed, s, env_) : parsed;
  };
  auto relative = resolved(settings("c", {{"file", "sub/dir/x.db"}}));
  ASSERT_TRUE(relative);
  EXPECT_EQ(relative->file, (dir_.path() / "sub/dir/x.db").string());
  auto fallback = resolved(settings("c"));
  ASSERT_TRUE(fallback);
  EXPECT_EQ(fallback->file, (dir_.path() / "items.db").string());
  const std::string absolute = (dir_.path() / "elsewhere" / "abs.db").string();
  EXPECT_EQ(resolved(settings("c", {{"file", absolute}}))->file, absolute);

  // create() makes the parent directories.
  auto nested = make("nested", {{"file", "sub/dir/x.db"}});
  ASSERT_TRUE(nested);
  add(*nested, ref("alice", "nested"), "x");
  EXPECT_TRUE(fs::exists(dir_.path() / "sub" / "dir" / "x.db"));
}

TEST_F(SqliteAdapterTest, StoresShareOneFileAndOneSequence) {
  auto calendar = make("calendar");
  auto notes = make("notes", {{"file", "./items.db"}});  // same file, spelled otherwise
  auto elsewhere = make("tasks", {{"file", "tasks.db"}});
  ASSERT_TRUE(calendar && notes && elsewhere);
  EXPECT_EQ(static_cast<SqliteAdapter&>(*calendar).file(), static_cast<SqliteAdapter&>(*contacts_).file());

  const StoreRef alice_calendar = ref("alice", "calendar");
  const StoreRef alice_notes = ref("alice", "notes");
  int64_t r1 = rev(apply_one(*contacts_, alice_, create("1")).anchor);
  int64_t r2 = rev(apply_one(*calendar, alice_calendar, create("2")).anchor);
  int64_t r3 = rev(apply_one(*notes, alice_notes, create("3")).anchor);
  int64_t r4 = rev(apply_one(*contacts_, alice_, create("4")).anchor);
  EXPECT_LT(r1, r2);
  EXPECT_LT(r2, r3);
  EXPECT_LT(r3, r4);
  // A separate file has its own sequence.
  EXPECT_EQ(apply_one(*elsewhere, ref("alice", "tasks"), create("t")).anchor, Anchor("1"));
  EXPECT_TRUE(fs::exists(dir_.path() / "tasks.db"));
}

TEST_F(SqliteAdapterTest, RegisteredAsBuiltin) {
  caf::BackendRegistry registry;
  ASSERT_TRUE(register_builtin_adapters(registry).is_ok());
  EXPECT_EQ(registry.kinds(), (std::vector<std::string>{"caldav", "plugin", "postgresql", "sqlite", "vdir"}));
  EXPECT_EQ(register_builtin_adapters(registry).code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(registry.add_store(settings("contacts"), env_).is_ok());
  ASSERT_TRUE(registry.add_store(settings("calendar"), env_).is_ok());
  caf::ContentAdapter* adapter = registry.adapter_for("contacts");
  ASSERT_NE(adapter, nullptr);
  EXPECT_EQ(*adapter->current_anchor(alice_), Anchor("0"));
  Status bad = registry.add_store(settings("notes", {{"colour", "x"}}), env_);
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
}

TEST_F(SqliteAdapterTest, BatchFailsWholeWhenTheDatabaseStaysLocked) {
  // The adapter on a connection of our own, with a short busy timeout.
  auto db = SqliteDb::open((dir_.path() / "items.db").string());
  ASSERT_TRUE(db);
  ASSERT_TRUE((*db)->exec("PRAGMA busy_timeout = 50").is_ok());
  auto adapter = SqliteAdapter::open(std::move(*db), settings("contacts"));
  ASSERT_TRUE(adapter) << adapter.error().to_string();

  auto locker = SqliteDb::open((dir_.path() / "items.db").string());  // another node
  ASSERT_TRUE(locker);
  auto held = (*locker)->transaction();
  ASSERT_TRUE(held);

  std::vector<SyncObj> batch;
  batch.push_back(create("a"));
  batch.push_back(create("b"));
  auto results = (*adapter)->apply(alice_, std::move(batch));
  ASSERT_EQ(results.size(), 2u);
  for (const auto& r : results) EXPECT_EQ(r.status.code(), StatusCode::kUnavailable) << r.status.to_string();

  held->rollback();
  EXPECT_TRUE(apply_one(**adapter, alice_, create("after")).status.is_ok());
}

TEST_F(SqliteAdapterTest, ConcurrentApplyGivesUniqueIncreasingRevisions) {
  auto calendar = make("calendar");
  ASSERT_TRUE(calendar);
  constexpr int kThreads = 4;
  constexpr int kBatches = 40;
  std::vector<std::vector<int64_t>> revisions(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      caf::ContentAdapter& adapter = t % 2 ? *calendar : *contacts_;
      const StoreRef store = ref(t < 2 ? "alice" : "bob", t % 2 ? "calendar" : "contacts");
      for (int i = 0; i < kBatches; ++i) {
        std::vector<SyncObj> batch;
        batch.push_back(create("t" + std::to_string(t) + "-" + std::to_string(i) + "a"));
        batch.push_back(create("t" + std::to_string(t) + "-" + std::to_string(i) + "b"));
        for (const auto& r : adapter.apply(store, std::move(batch))) {
          revisions[t].push_back(r.status.is_ok() ? rev(r.anchor) : -1);
        }
      }
    });
  }
  for (auto& th : threads) th.join();

  std::set<int64_t> all;
  for (const auto& mine : revisions) {
    ASSERT_EQ(mine.size(), 2u * kBatches);
    EXPECT_TRUE(std::is_sorted(mine.begin(), mine.end()));
    EXPECT_EQ(std::adjacent_find(mine.begin(), mine.end()), mine.end());
    for (int64_t r : mine) {
      EXPECT_GT(r, 0);
      all.insert(r);
    }
  }
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * 2 * kBatches));
  EXPECT_EQ(*all.rbegin(), kThreads * 2 * kBatches);  // no gaps either
  for (const auto& [user, db] : {std::pair{"alice", "contacts"}, std::pair{"alice", "calendar"},
                                 std::pair{"bob", "contacts"}, std::pair{"bob", "calendar"}}) {
    EXPECT_EQ(contacts_->execute(ref(user, db), caf::Command{"count", {}})->output, std::to_string(2 * kBatches));
  }
}

// A file written by the released schema (module "adapter.sqlite", step 1),
// made here with that step's SQL as it shipped: five revisions in alice's
// contacts (1 create a, 2 create b, 3 create c, 4 update b, 5 delete c).
constexpr const char* kReleasedLayout =
    "CREATE TABLE schema_migrations(module TEXT NOT NULL, version INTEGER NOT NULL, PRIMARY KEY(module, version));"
    "INSERT INTO schema_migrations VALUES ('adapter.sqlite', 1);"
    "CREATE TABLE items("
    "  user TEXT NOT NULL, database TEXT NOT NULL, guid TEXT NOT NULL,"
    "  revision INTEGER NOT NULL, created INTEGER NOT NULL,"
    "  deleted INTEGER NOT NULL DEFAULT 0,"
    "  content_type TEXT NOT NULL DEFAULT '',"
    "  data BLOB,"
    "  PRIMARY KEY(user, database, guid));"
    "CREATE INDEX items_by_revision ON items(user, database, revision);"
    "CREATE TABLE seq(id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);"
    "INSERT INTO seq(id, value) VALUES (1, 5);"
    "INSERT INTO items VALUES ('alice', 'contacts', 'a', 1, 1, 0, 'text/vcard', CAST('A' AS BLOB)),"
    " ('alice', 'contacts', 'b', 4, 2, 0, 'text/x-vcard', CAST('B2' AS BLOB)),"
    " ('alice', 'contacts', 'c', 5, 3, 1, 'text/vcard', NULL);";

TEST_F(SqliteAdapterTest, AFileOfTheReleasedLayoutIsReadAndWritten) {
  {
    auto db = SqliteDb::open((dir_.path() / "released.db").string());
    ASSERT_TRUE(db) << db.error().to_string();
    ASSERT_TRUE((*db)->exec(kReleasedLayout).is_ok());
  }
  auto adapter = make("released", {{"file", "released.db"}});
  ASSERT_TRUE(adapter);
  EXPECT_EQ(*adapter->current_anchor(alice_), Anchor("5"));

  caf::ChangeSet all = changes(*adapter, alice_, Anchor());
  EXPECT_EQ(all.anchor, Anchor("5"));
  ASSERT_EQ(all.changes.size(), 2u);
  EXPECT_EQ(all.changes[0].guid, Guid("a"));
  EXPECT_EQ(all.changes[0].raw, "A");
  EXPECT_EQ(all.changes[1].guid, Guid("b"));
  EXPECT_EQ(all.changes[1].raw, "B2");
  EXPECT_EQ(all.changes[1].content_type, "text/x-vcard");
  EXPECT_EQ(all.changes[1].anchor, Anchor("4"));

  caf::ChangeSet since2 = changes(*adapter, alice_, Anchor("2"));
  ASSERT_EQ(since2.changes.size(), 2u);
  EXPECT_EQ(since2.changes[0].guid, Guid("b"));
  EXPECT_EQ(since2.changes[0].action, Action::kUpdate);  // created at 2, not after it
  EXPECT_EQ(since2.changes[1].guid, Guid("c"));
  EXPECT_EQ(since2.changes[1].action, Action::kDelete);

  caf::Query by_guid;
  by_guid.guids = {Guid("b"), Guid("c")};
  auto found = adapter->search(alice_, by_guid);
  ASSERT_TRUE(found) << found.error().to_string();
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].raw, "B2");

  // Writes continue the file's sequence and never reuse the tombstone's guid.
  ApplyResult created = apply_one(*adapter, alice_, create("D", "c"));
  EXPECT_EQ(created.anchor, Anchor("6"));
  EXPECT_NE(created.guid, Guid("c"));
  EXPECT_EQ(apply_one(*adapter, alice_, update(Guid("a"), "A2")).anchor, Anchor("7"));
  EXPECT_EQ(adapter->execute(alice_, caf::Command{"count", {}})->output, "3");
}

}  // namespace
}  // namespace conflux::adapters
