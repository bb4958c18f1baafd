#include "adapters/vdir/vdir_adapter.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

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

const char* const kCard = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Anna\r\nN:;Anna;;;\r\nEND:VCARD\r\n";

using conflux::test::TempDir;

caf::StoreSettings settings(const std::string& name, caf::StoreOptions options,
                            const std::string& type = "text/vcard") {
  caf::StoreSettings s;
  s.name = name;
  s.adapter = "vdir";
  s.content_type = type;
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

SyncObj change(Action action, const std::string& guid, const std::string& raw = "") {
  SyncObj obj;
  obj.action = action;
  obj.guid = Guid(guid);
  obj.content_type = action == Action::kDelete ? "" : "text/vcard";
  obj.raw = raw;
  return obj;
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const fs::path& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

int64_t num(const Anchor& a) { return std::stoll(a.str()); }

class VdirAdapterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_.data_dir = (dir_.path() / "data").string();
    contacts_ = make("contacts", {{"root", "vdir"}});
  }

  std::shared_ptr<caf::ContentAdapter> make(const std::string& name, caf::StoreOptions options,
                                            const std::string& type = "text/vcard") {
    auto adapter = factory_.create(settings(name, std::move(options), type), env_);
    EXPECT_TRUE(adapter) << adapter.error().to_string();
    return adapter ? *adapter : nullptr;
  }

  fs::path collection(const std::string& user, const std::string& db = "contacts") const {
    return fs::path(env_.data_dir) / "vdir" / user / db;
  }

  ApplyResult apply1(caf::ContentAdapter& adapter, const StoreRef& store, SyncObj obj) {
    std::vector<SyncObj> batch;
    batch.push_back(std::move(obj));
    auto results = adapter.apply(store, std::move(batch));
    EXPECT_EQ(results.size(), 1u);
    return results.empty() ? ApplyResult{} : results[0];
  }

  caf::ChangeSet changes(const StoreRef& store, const Anchor& since) {
    auto set = contacts_->changes_since(store, since);
    EXPECT_TRUE(set) << set.error().to_string();
    return set ? *set : caf::ChangeSet{};
  }

  static std::map<std::string, Action> actions(const caf::ChangeSet& set) {
    std::map<std::string, Action> out;
    for (const auto& obj : set.changes) out[obj.guid.str()] = obj.action;
    return out;
  }

  TempDir dir_;
  caf::AdapterEnv env_;
  VdirAdapterFactory factory_;
  std::shared_ptr<caf::ContentAdapter> contacts_;
  const StoreRef alice_ = ref("alice", "contacts");
  const StoreRef bob_ = ref("bob", "contacts");
};

TEST_F(VdirAdapterTest, Caps) {
  EXPECT_EQ(contacts_->caps(), caf::kCapTombstones | caf::kCapSearch | caf::kCapChangeNotify);
  EXPECT_EQ(contacts_->verify_credentials("contacts", caf::Credentials::with_password(UserId("alice"), "pw")).code(),
            StatusCode::kUnimplemented);
  EXPECT_EQ(*contacts_->current_anchor(alice_), Anchor("0"));
}

TEST_F(VdirAdapterTest, CrudWritesFilesWithTheRightExtension) {
  ApplyResult created = apply1(*contacts_, alice_, change(Action::kCreate, "", kCard));
  ASSERT_TRUE(created.status.is_ok()) << created.status.to_string();
  EXPECT_EQ(created.outcome, ApplyOutcome::kCreated);
  const fs::path file = collection("alice") / (created.guid.str() + ".vcf");
  ASSERT_TRUE(fs::is_regular_file(file));
  EXPECT_EQ(slurp(file), kCard);
  EXPECT_EQ((fs::status(file).permissions() & fs::perms::others_all), fs::perms::none);

  ApplyResult updated = apply1(*contacts_, alice_, change(Action::kUpdate, created.guid.str(), "v2"));
  ASSERT_TRUE(updated.status.is_ok());
  EXPECT_EQ(updated.outcome, ApplyOutcome::kUpdated);
  EXPECT_GT(num(updated.anchor), num(created.anchor));
  EXPECT_EQ(slurp(file), "v2");

  caf::Query one;
  one.guids = {created.guid};
  auto found = contacts_->search(alice_, one);
  ASSERT_TRUE(found);
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].raw, "v2");
  EXPECT_EQ((*found)[0].content_type, "text/vcard");
  EXPECT_EQ((*found)[0].anchor, updated.anchor);  // own writes are not seen as foreign edits

  EXPECT_EQ(apply1(*contacts_, alice_, change(Action::kUpdate, "missing", "x")).status.code(), StatusCode::kNotFound);
  EXPECT_FALSE(fs::exists(collection("alice") / "missing.vcf"));

  ApplyResult deleted = apply1(*contacts_, alice_, change(Action::kDelete, created.guid.str()));
  EXPECT_EQ(deleted.outcome, ApplyOutcome::kDeleted);
  EXPECT_FALSE(fs::exists(file));
  EXPECT_EQ(apply1(*contacts_, alice_, change(Action::kDelete, created.guid.str())).outcome,
            ApplyOutcome::kAlreadyDeleted);
  EXPECT_EQ(actions(changes(alice_, updated.anchor)),
            (std::map<std::string, Action>{{created.guid.str(), Action::kDelete}}));
  // No temp files are left behind.
  for (const auto& entry : fs::directory_iterator(collection("alice"))) ADD_FAILURE() << entry.path();
}

TEST_F(VdirAdapterTest, ExtensionFollowsContentType) {
  auto calendar = make("calendar", {{"root", "vdir"}}, "text/calendar");
  auto notes = make("notes", {{"root", (dir_.path() / "abs").string()}}, "text/plain");
  SyncObj event = change(Action::kCreate, "", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n");
  event.content_type = "text/calendar";
  ApplyResult e = apply1(*calendar, ref("alice", "calendar"), event);
  ASSERT_TRUE(e.status.is_ok());
  EXPECT_TRUE(fs::exists(collection("alice", "calendar") / (e.guid.str() + ".ics")));
  SyncObj note = change(Action::kCreate, "", "hello");
  note.content_type = "text/plain";
  ApplyResult n = apply1(*notes, ref("alice", "notes"), note);
  ASSERT_TRUE(n.status.is_ok());
  EXPECT_TRUE(fs::exists(dir_.path() / "abs" / "alice" / "notes" / (n.guid.str() + ".txt")));
  // An event never lands in a .vcf collection.
  EXPECT_EQ(apply1(*contacts_, alice_, event).status.code(), StatusCode::kInvalidArgument);
}

TEST_F(VdirAdapterTest, ChangesByAnotherProgramAreDetected) {
  ApplyResult a = apply1(*contacts_, alice_, change(Action::kCreate, "", "A"));
  ApplyResult b = apply1(*contacts_, alice_, change(Action::kCreate, "", "B"));
  ASSERT_TRUE(a.status.is_ok() && b.status.is_ok());
  const Anchor before = *contacts_->current_anchor(alice_);
  EXPECT_EQ(before, b.anchor);

  // Another program: adds a file under its own name, edits one (different
  // size, so even a coarse clock sees it), deletes one, and leaves a temp
  // file, a dotfile and a file of another type that are not items.
  spit(collection("alice") / "khard-1234.vcf", "FOREIGN");
  spit(collection("alice") / (a.guid.str() + ".vcf"), "A edited elsewhere");
  fs::remove(collection("alice") / (b.guid.str() + ".vcf"));
  spit(collection("alice") / ".atomic-write-x.vcf", "partial");
  spit(collection("alice") / "README.txt", "not a card");
  fs::create_directory(collection("alice") / "sub.vcf");

  caf::ChangeSet set = changes(alice_, before);
  EXPECT_EQ(actions(set),
            (std::map<std::string, Action>{
                {"khard-1234", Action::kCreate}, {a.guid.str(), Action::kUpdate}, {b.guid.str(), Action::kDelete}}));
  EXPECT_GT(num(set.anchor), num(before));
  for (const auto& obj : set.changes) {
    EXPECT_GT(num(obj.anchor), num(before));
    if (obj.guid.str() == "khard-1234") {
      EXPECT_EQ(obj.raw, "FOREIGN");
      EXPECT_EQ(obj.content_type, "text/vcard");
    }
  }
  EXPECT_TRUE(changes(alice_, set.anchor).changes.empty());
  EXPECT_EQ(*contacts_->current_anchor(alice_), set.anchor);

  // The foreign item can be updated and deleted under its own name.
  ApplyResult edited = apply1(*contacts_, alice_, change(Action::kUpdate, "khard-1234", "ours now"));
  ASSERT_TRUE(edited.status.is_ok());
  EXPECT_EQ(slurp(collection("alice") / "khard-1234.vcf"), "ours now");
  auto count = contacts_->execute(alice_, caf::Command{"count", {}});
  ASSERT_TRUE(count);
  EXPECT_EQ(count->output, "2");
}

// Another program leaves a directory where an item's file was: like every
// other non-file there, it is "no item", so deleting the item is done, not
// a back end that is down (which the Cache Monitor would retry forever).
TEST_F(VdirAdapterTest, DirectoryInPlaceOfAnItemFileIsNoItem) {
  ApplyResult created = apply1(*contacts_, alice_, change(Action::kCreate, "", kCard));
  ASSERT_TRUE(created.status.is_ok());
  const fs::path file = collection("alice") / (created.guid.str() + ".vcf");
  fs::remove(file);
  fs::create_directory(file);

  ApplyResult deleted = apply1(*contacts_, alice_, change(Action::kDelete, created.guid.str()));
  EXPECT_TRUE(deleted.status.is_ok()) << deleted.status.to_string();
  EXPECT_EQ(deleted.outcome, ApplyOutcome::kAlreadyDeleted);
  EXPECT_TRUE(fs::is_directory(file));  // not ours to remove
}

TEST_F(VdirAdapterTest, UsersAreIsolated) {
  ApplyResult mine = apply1(*contacts_, alice_, change(Action::kCreate, "", "alice's"));
  ASSERT_TRUE(mine.status.is_ok());
  EXPECT_TRUE(changes(bob_, Anchor()).changes.empty());
  EXPECT_EQ(apply1(*contacts_, bob_, change(Action::kUpdate, mine.guid.str(), "x")).status.code(),
            StatusCode::kNotFound);
  EXPECT_EQ(apply1(*contacts_, bob_, change(Action::kDelete, mine.guid.str())).outcome, ApplyOutcome::kAlreadyDeleted);
  EXPECT_EQ(slurp(collection("alice") / (mine.guid.str() + ".vcf")), "alice's");
  ASSERT_TRUE(apply1(*contacts_, bob_, change(Action::kCreate, "", "bob's")).status.is_ok());
  EXPECT_EQ(changes(alice_, Anchor()).changes.size(), 1u);
  EXPECT_EQ(changes(bob_, Anchor()).changes.size(), 1u);
}

TEST_F(VdirAdapterTest, PathTraversalIsRefused) {
  for (const auto& [user, db] : std::vector<std::pair<std::string, std::string>>{{"", "contacts"},
                                                                                 {"alice", ""},
                                                                                 {"..", "contacts"},
                                                                                 {".", "contacts"},
                                                                                 {"a/b", "contacts"},
                                                                                 {"alice", ".."},
                                                                                 {"alice", "../bob"},
                                                                                 {"alice", std::string("x\0y", 3)}}) {
    StoreRef bad = ref(user, db);
    EXPECT_EQ(contacts_->current_anchor(bad).error().code(), StatusCode::kInvalidArgument) << user << "|" << db;
    EXPECT_EQ(contacts_->changes_since(bad, Anchor()).error().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(contacts_->search(bad, caf::Query{}).error().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(apply1(*contacts_, bad, change(Action::kCreate, "", "x")).status.code(), StatusCode::kInvalidArgument);
  }
  // Guids are file names inside the collection, never paths.
  ApplyResult sneaky = apply1(*contacts_, alice_, change(Action::kCreate, "../../bob/contacts/evil", "x"));
  ASSERT_TRUE(sneaky.status.is_ok());
  EXPECT_EQ(sneaky.guid.str().find('/'), std::string::npos);
  EXPECT_FALSE(fs::exists(collection("bob") / "evil.vcf"));
  EXPECT_EQ(apply1(*contacts_, alice_, change(Action::kUpdate, "../x", "x")).status.code(),
            StatusCode::kInvalidArgument);
  caf::Query q;
  q.guids = {Guid("../alice/contacts/" + sneaky.guid.str())};
  EXPECT_TRUE(contacts_->search(bob_, q)->empty());
  // A guid it carries is kept when it is a usable file name.
  EXPECT_EQ(apply1(*contacts_, alice_, change(Action::kCreate, "given-id", "x")).guid, Guid("given-id"));
}

TEST_F(VdirAdapterTest, UnwritableCollectionIsUnavailableAndLosesNothing) {
  ApplyResult kept = apply1(*contacts_, alice_, change(Action::kCreate, "", "keep me"));
  ASSERT_TRUE(kept.status.is_ok());
  const Anchor anchor = *contacts_->current_anchor(alice_);
  const fs::path dir = collection("alice");
  const fs::path aside = dir.parent_path() / "contacts.aside";

  if (::geteuid() != 0) {  // root writes through mode 0500; the next block covers root
    fs::permissions(dir, fs::perms::owner_read | fs::perms::owner_exec);
    ApplyResult refused = apply1(*contacts_, alice_, change(Action::kCreate, "", "new"));
    EXPECT_EQ(refused.status.code(), StatusCode::kUnavailable) << refused.status.to_string();
    EXPECT_NE(refused.status.message().find("denied"), std::string::npos) << refused.status.message();
    fs::permissions(dir, fs::perms::owner_all);
  }

  // The collection replaced by a regular file: listing and writing fail.
  fs::rename(dir, aside);
  spit(dir, "not a directory");
  EXPECT_EQ(contacts_->current_anchor(alice_).error().code(), StatusCode::kUnavailable);
  auto failed = contacts_->changes_since(alice_, anchor);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code(), StatusCode::kUnavailable);
  EXPECT_NE(failed.error().message().find("Not a directory"), std::string::npos) << failed.error().message();
  std::vector<SyncObj> batch;
  batch.push_back(change(Action::kCreate, "", "new"));
  batch.push_back(change(Action::kUpdate, kept.guid.str(), "changed"));
  batch.push_back(change(Action::kDelete, kept.guid.str()));
  for (const auto& r : contacts_->apply(alice_, std::move(batch))) {
    EXPECT_EQ(r.status.code(), StatusCode::kUnavailable) << r.status.to_string();
  }

  // The collection gone altogether: not taken as "every item deleted".
  fs::remove(dir);
  EXPECT_EQ(contacts_->current_anchor(alice_).error().code(), StatusCode::kUnavailable);
  EXPECT_EQ(apply1(*contacts_, alice_, change(Action::kCreate, "", "new")).status.code(), StatusCode::kUnavailable);
  EXPECT_FALSE(fs::exists(dir));

  // Back again: nothing lost, nothing changed.
  fs::rename(aside, dir);
  EXPECT_EQ(*contacts_->current_anchor(alice_), anchor);
  EXPECT_TRUE(changes(alice_, anchor).changes.empty());
  EXPECT_EQ(slurp(dir / (kept.guid.str() + ".vcf")), "keep me");
}

TEST_F(VdirAdapterTest, TrackerStateSurvivesReopen) {
  ApplyResult a = apply1(*contacts_, alice_, change(Action::kCreate, "", "A"));
  const Anchor anchor = *contacts_->current_anchor(alice_);
  contacts_.reset();
  EXPECT_TRUE(fs::exists(fs::path(env_.data_dir) / "vdir-contacts.db"));
  // Edited while Conflux was down.
  spit(collection("alice") / (a.guid.str() + ".vcf"), "A edited offline");
  contacts_ = make("contacts", {{"root", "vdir"}});
  caf::ChangeSet set = changes(alice_, anchor);
  EXPECT_EQ(actions(set), (std::map<std::string, Action>{{a.guid.str(), Action::kUpdate}}));
  EXPECT_GT(num(set.anchor), num(anchor));
  ApplyResult b = apply1(*contacts_, alice_, change(Action::kCreate, "", "B"));
  EXPECT_GT(num(b.anchor), num(set.anchor));
}

TEST_F(VdirAdapterTest, FactoryValidates) {
  auto bad = [&](const caf::StoreSettings& s) { return factory_.validate(s); };
  Status unknown = bad(settings("contacts", {{"root", "x"}, {"colour", "blue"}}));
  EXPECT_EQ(unknown.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.message().find("stores.contacts.colour"), std::string::npos) << unknown.message();
  Status missing = bad(settings("contacts", {}));
  EXPECT_EQ(missing.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(missing.message().find("stores.contacts.root"), std::string::npos) << missing.message();
  EXPECT_EQ(bad(settings("contacts", {{"root", ""}})).code(), StatusCode::kInvalidArgument);
  Status type = bad(settings("contacts", {{"root", "x"}}, "application/octet-stream"));
  EXPECT_NE(type.message().find("content_type"), std::string::npos) << type.message();
  EXPECT_TRUE(bad(settings("contacts", {{"root", "x"}}, "text/x-vcard")).is_ok());
  EXPECT_FALSE(factory_.create(settings("contacts", {{"colour", "x"}}), env_));

  caf::BackendRegistry registry;
  ASSERT_TRUE(register_builtin_adapters(registry).is_ok());
  ASSERT_TRUE(registry.add_store(settings("tasks", {{"root", "vdir"}}), env_).is_ok());
  ASSERT_NE(registry.adapter_for("tasks"), nullptr);
  EXPECT_EQ(registry.add_store(settings("notes", {}), env_).code(), StatusCode::kInvalidArgument);
}

TEST_F(VdirAdapterTest, CheckNamesAMissingRootWithoutMakingIt) {
  const fs::path missing = dir_.path() / "not-yet";
  auto found = factory_.check(settings("files", {{"root", missing.string()}}), env_);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].code(), StatusCode::kNotFound);
  EXPECT_NE(found[0].message().find("stores.files.root: directory " + missing.string() + " does not exist"),
            std::string::npos)
      << found[0].message();
  EXPECT_FALSE(fs::exists(missing));  // create() would have made it

  spit(missing, "a file, not a directory");
  found = factory_.check(settings("files", {{"root", missing.string()}}), env_);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].code(), StatusCode::kFailedPrecondition) << found[0].message();

  fs::remove(missing);
  fs::create_directory(missing);
  EXPECT_TRUE(factory_.check(settings("files", {{"root", missing.string()}}), env_).empty());
  auto accounts = factory_.check(settings("files", {{"root", missing.string()}, {"accounts_file", "nope.txt"}}), env_);
  ASSERT_EQ(accounts.size(), 1u);
  EXPECT_NE(accounts[0].message().find("stores.files.accounts_file: cannot read"), std::string::npos)
      << accounts[0].message();
  // Through the registry, an invalid section gives its validation error alone.
  caf::BackendRegistry registry;
  ASSERT_TRUE(register_builtin_adapters(registry).is_ok());
  auto invalid = registry.check_store(settings("files", {}), env_);
  ASSERT_EQ(invalid.size(), 1u);
  EXPECT_EQ(invalid[0].code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace conflux::adapters
