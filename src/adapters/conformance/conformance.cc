#include "adapters/conformance/conformance.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

namespace conflux::conformance {

namespace {

using caf::Action;
using caf::ApplyOutcome;
using caf::SyncObj;

#define CHECK_OR_FAIL(cond, why)              \
  do {                                        \
    if (!(cond)) return Verdict::failed(why); \
  } while (0)

constexpr const char* kDatabase = "contacts";
constexpr const char* kVcardType = "text/vcard";

// Each case works as its own user, so cases never see each other's items.
caf::StoreRef store_of(const std::string& case_name, const std::string& suffix = "") {
  caf::StoreRef store;
  store.user = UserId("conformance-" + case_name + suffix);
  store.database = kDatabase;
  store.token.user = store.user;
  return store;
}

// A contact every contact back end can hold (vCard 3.0: name, phone,
// e-mail). What a case checks on reading back is these values, not the bytes:
// a back end may store a contact in its own format (the CSV example does).
std::string contact(const std::string& family, const std::string& phone, const std::string& note = "") {
  std::string card = "BEGIN:VCARD\r\nVERSION:3.0\r\nN:" + family + ";Ada;;;\r\nFN:Ada " + family +
                     "\r\nTEL;TYPE=CELL:" + phone + "\r\nEMAIL;TYPE=INTERNET:ada." + family + "@example.org\r\n";
  if (!note.empty()) card += "NOTE:" + note + "\r\n";
  return card + "END:VCARD\r\n";
}

SyncObj change(const caf::StoreRef& store, Action action, const std::string& guid, std::string raw) {
  SyncObj obj;
  obj.action = action;
  obj.guid = Guid(guid);
  obj.user = store.user;
  obj.database = store.database;
  if (action != Action::kDelete) obj.content_type = kVcardType;
  obj.raw = std::move(raw);
  return obj;
}

std::string describe(const caf::ApplyResult& r) { return r.status.is_ok() ? "OK" : r.status.to_string(); }

// Applies one change; the single result.
caf::ApplyResult apply_one(caf::ContentAdapter& adapter, const caf::StoreRef& store, SyncObj&& obj) {
  std::vector<SyncObj> batch;
  batch.push_back(std::move(obj));
  auto results = adapter.apply(store, std::move(batch));
  if (results.size() != 1) {
    caf::ApplyResult wrong;
    wrong.status = Status::internal("apply returned " + std::to_string(results.size()) + " results for 1 item");
    return wrong;
  }
  return std::move(results[0]);
}

// The live item `guid` as search() returns it; nullopt when it is not there.
Result<std::optional<SyncObj>> read(caf::ContentAdapter& adapter, const caf::StoreRef& store, const Guid& guid) {
  caf::Query query;
  query.guids = {guid};
  auto found = adapter.search(store, query);
  if (!found) return found.error();
  for (auto& obj : *found) {
    if (obj.guid == guid) return std::optional<SyncObj>(std::move(obj));
  }
  return std::optional<SyncObj>();
}

// Creates a contact; its guid, or the failure as text.
Result<Guid> create(caf::ContentAdapter& adapter, const caf::StoreRef& store, const std::string& raw) {
  auto r = apply_one(adapter, store, change(store, Action::kCreate, "", raw));
  if (!r.status.is_ok()) return r.status.with_context("create");
  if (r.guid.empty()) return Status::internal("create: the result carries no guid");
  return r.guid;
}

// `text` with its folded lines joined (RFC 6350 §3.2, RFC 5545 §3.1).
std::string unfolded(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' && i + 2 < text.size() && text[i + 1] == '\n' && (text[i + 2] == ' ' || text[i + 2] == '\t')) {
      i += 2;
    } else if (text[i] == '\n' && i + 1 < text.size() && (text[i + 1] == ' ' || text[i + 1] == '\t')) {
      i += 1;
    } else {
      out += text[i];
    }
  }
  return out;
}

const SyncObj* find(const caf::ChangeSet& set, const Guid& guid) {
  for (const auto& c : set.changes) {
    if (c.guid == guid) return &c;
  }
  return nullptr;
}

Verdict create_case(caf::ContentAdapter& a) {
  auto store = store_of("create");
  auto r = apply_one(a, store, change(store, Action::kCreate, "", contact("Create", "+44 20 7946 0001")));
  CHECK_OR_FAIL(r.status.is_ok(), "create failed: " + describe(r));
  CHECK_OR_FAIL(r.outcome == ApplyOutcome::kCreated, "a create's outcome is not kCreated");
  CHECK_OR_FAIL(!r.guid.empty(), "a create's result carries no guid");
  auto all = a.changes_since(store, Anchor(""));
  CHECK_OR_FAIL(all.has_value(), "changes_since(empty) failed: " + all.status().to_string());
  CHECK_OR_FAIL(all->changes.size() == 1 && all->changes[0].guid == r.guid,
                "changes_since(empty) does not list exactly the one item created");
  return Verdict::passed();
}

Verdict read_case(caf::ContentAdapter& a) {
  auto store = store_of("read");
  auto guid = create(a, store, contact("Reader", "+44 20 7946 0002"));
  CHECK_OR_FAIL(guid.has_value(), guid.status().to_string());
  auto item = read(a, store, *guid);
  CHECK_OR_FAIL(item.has_value(), "search by guid failed: " + item.status().to_string());
  CHECK_OR_FAIL(item->has_value(), "search by guid does not find the item just created");
  const SyncObj& obj = **item;
  CHECK_OR_FAIL(obj.raw.find("Reader") != std::string::npos, "the item read back lost the name 'Reader'");
  CHECK_OR_FAIL(obj.raw.find("7946 0002") != std::string::npos || obj.raw.find("79460002") != std::string::npos,
                "the item read back lost the phone number");
  CHECK_OR_FAIL(obj.raw.find("ada.Reader@example.org") != std::string::npos, "the item read back lost the e-mail");
  CHECK_OR_FAIL(!obj.content_type.empty(), "the item read back has no content type");
  CHECK_OR_FAIL(obj.user == store.user && obj.database == store.database,
                "the item read back does not name its user and database");
  return Verdict::passed();
}

Verdict update_case(caf::ContentAdapter& a) {
  auto store = store_of("update");
  auto guid = create(a, store, contact("Update", "+44 20 7946 0003"));
  CHECK_OR_FAIL(guid.has_value(), guid.status().to_string());
  auto r = apply_one(a, store, change(store, Action::kUpdate, guid->str(), contact("Update", "+44 20 7946 9999")));
  CHECK_OR_FAIL(r.status.is_ok(), "update failed: " + describe(r));
  CHECK_OR_FAIL(r.outcome == ApplyOutcome::kUpdated, "an update's outcome is not kUpdated");
  CHECK_OR_FAIL(r.guid == *guid, "an update changed the item's guid (it must stay fixed while the user edits)");
  auto item = read(a, store, *guid);
  CHECK_OR_FAIL(item.has_value() && item->has_value(), "the updated item cannot be read");
  CHECK_OR_FAIL((**item).raw.find("9999") != std::string::npos, "the item read back is not the updated version");
  CHECK_OR_FAIL((**item).raw.find("0003") == std::string::npos, "the item read back still holds the old phone");
  return Verdict::passed();
}

Verdict delete_case(caf::ContentAdapter& a) {
  auto store = store_of("delete");
  auto guid = create(a, store, contact("Delete", "+44 20 7946 0004"));
  CHECK_OR_FAIL(guid.has_value(), guid.status().to_string());
  auto r = apply_one(a, store, change(store, Action::kDelete, guid->str(), ""));
  CHECK_OR_FAIL(r.status.is_ok(), "delete failed: " + describe(r));
  CHECK_OR_FAIL(r.outcome == ApplyOutcome::kDeleted, "a delete's outcome is not kDeleted");
  auto item = read(a, store, *guid);
  CHECK_OR_FAIL(item.has_value(), "search after delete failed: " + item.status().to_string());
  CHECK_OR_FAIL(!item->has_value(), "the deleted item is still found");
  auto again = apply_one(a, store, change(store, Action::kDelete, guid->str(), ""));
  CHECK_OR_FAIL(again.status.is_ok() && again.outcome == ApplyOutcome::kAlreadyDeleted,
                "a second delete of the item is not OK with kAlreadyDeleted: " + describe(again));
  return Verdict::passed();
}

Verdict changes_since_case(caf::ContentAdapter& a) {
  auto store = store_of("changes-since");
  auto first = create(a, store, contact("Kept", "+44 20 7946 0005"));
  auto doomed = create(a, store, contact("Doomed", "+44 20 7946 0006"));
  CHECK_OR_FAIL(first.has_value() && doomed.has_value(), "creating the first two items failed");
  auto anchor = a.current_anchor(store);
  CHECK_OR_FAIL(anchor.has_value(), "current_anchor failed: " + anchor.status().to_string());

  auto none = a.changes_since(store, *anchor);
  CHECK_OR_FAIL(none.has_value(), "changes_since(current anchor) failed: " + none.status().to_string());
  CHECK_OR_FAIL(none->changes.empty(), "changes_since(current anchor) reports changes nobody made");

  auto u = apply_one(a, store, change(store, Action::kUpdate, first->str(), contact("Kept", "+44 20 7946 5555")));
  auto d = apply_one(a, store, change(store, Action::kDelete, doomed->str(), ""));
  auto added = create(a, store, contact("Added", "+44 20 7946 0007"));
  CHECK_OR_FAIL(u.status.is_ok() && d.status.is_ok() && added.has_value(), "update, delete or create failed");

  auto later = a.current_anchor(store);
  CHECK_OR_FAIL(later.has_value(), "current_anchor failed: " + later.status().to_string());
  CHECK_OR_FAIL(later->str() != anchor->str(), "the anchor did not move after three changes");
  auto set = a.changes_since(store, *anchor);
  CHECK_OR_FAIL(set.has_value(), "changes_since failed: " + set.status().to_string());
  CHECK_OR_FAIL(set->changes.size() == 3,
                "changes_since reports " + std::to_string(set->changes.size()) + " changes, 3 were made");
  const SyncObj* updated = find(*set, *first);
  const SyncObj* deleted = find(*set, *doomed);
  const SyncObj* created = find(*set, *added);
  CHECK_OR_FAIL(updated && updated->action == Action::kUpdate && updated->raw.find("5555") != std::string::npos,
                "changes_since does not report the update with its new content");
  CHECK_OR_FAIL(deleted && deleted->action == Action::kDelete, "changes_since does not report the delete");
  CHECK_OR_FAIL(created && created->action == Action::kCreate, "changes_since does not report the create as one");
  auto tail = a.changes_since(store, set->anchor);
  CHECK_OR_FAIL(tail.has_value() && tail->changes.empty(), "changes_since(the set's own anchor) is not empty");
  return Verdict::passed();
}

Verdict empty_store_case(caf::ContentAdapter& a) {
  auto store = store_of("empty-store");
  auto anchor = a.current_anchor(store);
  CHECK_OR_FAIL(anchor.has_value(), "current_anchor of an empty store failed: " + anchor.status().to_string());
  auto all = a.changes_since(store, Anchor(""));
  CHECK_OR_FAIL(all.has_value(), "changes_since(empty) of an empty store failed: " + all.status().to_string());
  CHECK_OR_FAIL(all->changes.empty(), "an empty store lists items");
  auto since = a.changes_since(store, *anchor);
  CHECK_OR_FAIL(since.has_value(),
                "changes_since(its own anchor) of an empty store failed: " + since.status().to_string());
  CHECK_OR_FAIL(since->changes.empty(), "an empty store reports changes");
  return Verdict::passed();
}

Verdict unknown_id_case(caf::ContentAdapter& a) {
  auto store = store_of("unknown-id");
  const std::string unknown = "no-such-item-4711";
  auto u = apply_one(a, store, change(store, Action::kUpdate, unknown, contact("Nobody", "+44 20 7946 0008")));
  CHECK_OR_FAIL(u.status.code() == StatusCode::kNotFound,
                "an update of an unknown id is not kNotFound (it must never re-create): " + describe(u));
  auto d = apply_one(a, store, change(store, Action::kDelete, unknown, ""));
  CHECK_OR_FAIL(d.status.is_ok() && d.outcome == ApplyOutcome::kAlreadyDeleted,
                "a delete of an unknown id is not OK with kAlreadyDeleted: " + describe(d));
  auto item = read(a, store, Guid(unknown));
  CHECK_OR_FAIL(item.has_value(), "search for an unknown id failed: " + item.status().to_string());
  CHECK_OR_FAIL(!item->has_value(), "search finds an unknown id (the update re-created it?)");
  return Verdict::passed();
}

Verdict large_item_case(caf::ContentAdapter& a) {
  auto store = store_of("large-item");
  constexpr size_t kSize = 5 * 1024 * 1024;
  std::string note(kSize, 'x');
  for (size_t i = 0; i < note.size(); i += 64) note[i] = static_cast<char>('a' + (i / 64) % 26);
  note += "END-OF-NOTE";
  auto guid = create(a, store, contact("Large", "+44 20 7946 0009", note));
  CHECK_OR_FAIL(guid.has_value(), "a 5 MB contact cannot be stored: " + guid.status().to_string());
  auto item = read(a, store, *guid);
  CHECK_OR_FAIL(item.has_value() && item->has_value(), "the 5 MB contact cannot be read back");
  CHECK_OR_FAIL((**item).raw.size() >= kSize,
                "the 5 MB contact came back with " + std::to_string((**item).raw.size()) + " bytes");
  // A back end may fold long lines (RFC 6350 §3.2: a DAV server re-serialises
  // what it stores); the note must come back whole once unfolded.
  CHECK_OR_FAIL(unfolded((**item).raw).find(note) != std::string::npos, "the 5 MB note came back changed");
  return Verdict::passed();
}

Verdict batch_case(caf::ContentAdapter& a) {
  auto store = store_of("batch");
  constexpr size_t kItems = 1000;
  std::vector<SyncObj> batch;
  for (size_t i = 0; i < kItems; ++i) {
    batch.push_back(change(store, Action::kCreate, "", contact("Batch" + std::to_string(i), "+44 20 7946 1000")));
  }
  auto results = a.apply(store, std::move(batch));
  CHECK_OR_FAIL(results.size() == kItems,
                "apply of 1,000 items returned " + std::to_string(results.size()) + " results");
  std::set<std::string> guids;
  for (size_t i = 0; i < results.size(); ++i) {
    CHECK_OR_FAIL(results[i].status.is_ok(), "item " + std::to_string(i) + " of 1,000 failed: " + describe(results[i]));
    guids.insert(results[i].guid.str());
  }
  CHECK_OR_FAIL(guids.size() == kItems, "1,000 creates got " + std::to_string(guids.size()) + " distinct guids");
  auto all = a.changes_since(store, Anchor(""));
  CHECK_OR_FAIL(all.has_value(), "changes_since(empty) failed: " + all.status().to_string());
  CHECK_OR_FAIL(all->changes.size() == kItems,
                "the store lists " + std::to_string(all->changes.size()) + " items after 1,000 creates");
  return Verdict::passed();
}

Verdict backend_down_case(Target& target, caf::ContentAdapter& a) {
  auto store = store_of("backend-down");
  auto guid = create(a, store, contact("Steady", "+44 20 7946 0010"));
  CHECK_OR_FAIL(guid.has_value(), guid.status().to_string());
  auto before = read(a, store, *guid);
  auto anchor = a.current_anchor(store);
  CHECK_OR_FAIL(before.has_value() && before->has_value() && anchor.has_value(), "reading the first item failed");

  if (Status down = target.take_down(); !down.is_ok()) {
    if (down.code() == StatusCode::kUnimplemented) return Verdict::skipped(down.message());
    return Verdict::failed("taking the back end down failed: " + down.to_string());
  }
  std::vector<SyncObj> batch;
  batch.push_back(change(store, Action::kCreate, "", contact("Lost", "+44 20 7946 0011")));
  batch.push_back(change(store, Action::kUpdate, guid->str(), contact("Steady", "+44 20 7946 0012")));
  batch.push_back(change(store, Action::kDelete, guid->str(), ""));
  auto results = a.apply(store, std::move(batch));
  if (Status up = target.bring_up(); !up.is_ok())
    return Verdict::failed("bringing the back end up failed: " + up.to_string());
  CHECK_OR_FAIL(results.size() == 3, "apply returned " + std::to_string(results.size()) + " results for 3 items");
  for (const auto& r : results) {
    CHECK_OR_FAIL(
        r.status.code() == StatusCode::kUnavailable || r.status.code() == StatusCode::kResourceExhausted,
        "a change while the back end is down is not kUnavailable (the cache would give it up): " + describe(r));
  }
  auto after = read(a, store, *guid);
  CHECK_OR_FAIL(after.has_value() && after->has_value(), "the item is gone after the outage");
  CHECK_OR_FAIL((**after).raw == (**before).raw, "the item changed although every change was refused");
  auto set = a.changes_since(store, *anchor);
  CHECK_OR_FAIL(set.has_value(), "changes_since after the outage failed: " + set.status().to_string());
  CHECK_OR_FAIL(set->changes.empty(),
                "refused changes were half applied: changes_since reports " + std::to_string(set->changes.size()));
  return Verdict::passed();
}

Verdict bad_credentials_case(Target& target, caf::ContentAdapter& a) {
  if (!(a.caps() & caf::kCapOwnAccounts)) {
    return Verdict::skipped("the adapter trusts Conflux's accounts (no kCapOwnAccounts)");
  }
  auto good = target.good_credentials();
  const UserId user = good ? good->user : UserId("conformance-bad-credentials");
  auto wrong = a.verify_credentials(kDatabase, caf::Credentials::with_password(user, "not-the-password"));
  CHECK_OR_FAIL(wrong.code() == StatusCode::kUnauthenticated,
                "a wrong password is not kUnauthenticated: " + (wrong.is_ok() ? "OK" : wrong.to_string()));
  if (good) {
    auto right = a.verify_credentials(kDatabase, *good);
    CHECK_OR_FAIL(right.is_ok(), "the right password is refused: " + right.to_string());
  }
  return Verdict::passed();
}

Verdict four_threads_case(caf::ContentAdapter& a) {
  auto store = store_of("four-threads");
  constexpr int kThreads = 4;
  constexpr int kPerThread = 25;
  std::mutex mutex;
  std::vector<std::string> problems;  // guarded by mutex
  std::vector<std::string> guids;     // guarded by mutex
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string family = "Thread" + std::to_string(t) + "x" + std::to_string(i);
        auto guid = create(a, store, contact(family, "+44 20 7946 2000"));
        std::string problem;
        if (!guid) {
          problem = guid.status().to_string();
        } else {
          auto u =
              apply_one(a, store, change(store, Action::kUpdate, guid->str(), contact(family, "+44 20 7946 3000")));
          if (!u.status.is_ok()) problem = "update: " + describe(u);
          if (auto anchor = a.current_anchor(store); !anchor)
            problem = "current_anchor: " + anchor.status().to_string();
        }
        std::lock_guard lock(mutex);
        if (!problem.empty()) problems.push_back(problem);
        if (guid) guids.push_back(guid->str());
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK_OR_FAIL(problems.empty(), std::to_string(problems.size()) + " calls failed, first: " + problems.front());
  std::set<std::string> distinct(guids.begin(), guids.end());
  CHECK_OR_FAIL(distinct.size() == kThreads * kPerThread,
                "100 creates from four threads got " + std::to_string(distinct.size()) + " distinct guids");
  auto all = a.changes_since(store, Anchor(""));
  CHECK_OR_FAIL(all.has_value(), "changes_since(empty) failed: " + all.status().to_string());
  CHECK_OR_FAIL(all->changes.size() == distinct.size(),
                "the store lists " + std::to_string(all->changes.size()) + " items after 100 creates");
  for (const auto& c : all->changes) {
    CHECK_OR_FAIL(c.raw.find("3000") != std::string::npos, "item " + c.guid.str() + " lost its update");
  }
  return Verdict::passed();
}

Verdict change_notification_case(Target& target, caf::ContentAdapter& a) {
  if (!(a.caps() & caf::kCapChangeNotify)) {
    return Verdict::skipped("the adapter does not claim kCapChangeNotify");
  }
  auto store = store_of("change-notification");
  // The collection exists before the watch starts, as a synced store's does.
  auto seed = create(a, store, contact("Seed", "+44 20 7946 0013"));
  CHECK_OR_FAIL(seed.has_value(), seed.status().to_string());
  auto anchor = a.current_anchor(store);
  CHECK_OR_FAIL(anchor.has_value(), "current_anchor failed: " + anchor.status().to_string());

  std::mutex mutex;
  std::condition_variable told;
  bool heard = false;  // guarded by mutex
  auto subscription = a.watch_changes(kDatabase, [&](const UserId& user) {
    if (!user.empty() && user != store.user) return;
    std::lock_guard lock(mutex);
    heard = true;
    told.notify_all();
  });
  CHECK_OR_FAIL(subscription.has_value(), "watch_changes failed: " + subscription.status().to_string());

  auto other = target.open_other();
  CHECK_OR_FAIL(other.has_value(), "opening a second writer failed: " + other.status().to_string());
  auto written = create(**other, store, contact("Elsewhere", "+44 20 7946 0014"));
  CHECK_OR_FAIL(written.has_value(), "the second writer's create failed: " + written.status().to_string());
  {
    // A guard against hanging, not a performance threshold.
    std::unique_lock lock(mutex);
    told.wait_for(lock, std::chrono::seconds(60), [&] { return heard; });
    CHECK_OR_FAIL(heard, "no change notification came for another writer's create");
  }
  subscription->reset();
  auto set = a.changes_since(store, *anchor);
  CHECK_OR_FAIL(set.has_value() && find(*set, *written), "the notified change is not in changes_since");
  return Verdict::passed();
}

// Wraps a case that needs only the adapter.
std::function<Verdict(Target&)> with_adapter(Verdict (*body)(caf::ContentAdapter&)) {
  return [body](Target& target) -> Verdict {
    auto adapter = target.open();
    if (!adapter) return Verdict::failed("opening the adapter failed: " + adapter.status().to_string());
    return body(**adapter);
  };
}
std::function<Verdict(Target&)> with_target(Verdict (*body)(Target&, caf::ContentAdapter&)) {
  return [body](Target& target) -> Verdict {
    auto adapter = target.open();
    if (!adapter) return Verdict::failed("opening the adapter failed: " + adapter.status().to_string());
    return body(target, **adapter);
  };
}

}  // namespace

const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      {"create", "a create is stored and gets a guid", with_adapter(create_case)},
      {"read", "an item reads back with its name, phone and e-mail", with_adapter(read_case)},
      {"update", "an update keeps the guid and replaces the content", with_adapter(update_case)},
      {"delete", "a delete removes the item; a second is kAlreadyDeleted", with_adapter(delete_case)},
      {"changes_since_anchor", "creates, updates and deletes after an anchor are reported",
       with_adapter(changes_since_case)},
      {"empty_store_anchor", "an empty store has an anchor and no changes", with_adapter(empty_store_case)},
      {"unknown_id", "an update of an unknown id is kNotFound, a delete kAlreadyDeleted",
       with_adapter(unknown_id_case)},
      {"item_5mb", "a 5 MB contact is stored and read back whole", with_adapter(large_item_case)},
      {"batch_1000", "a batch of 1,000 creates gets 1,000 results", with_adapter(batch_case)},
      {"backend_down", "with the back end down every change is kUnavailable and nothing is half applied",
       with_target(backend_down_case)},
      {"bad_credentials", "wrong credentials are kUnauthenticated", with_target(bad_credentials_case)},
      {"four_threads", "four threads creating and updating at once lose nothing", with_adapter(four_threads_case)},
      {"change_notification", "another writer's change is notified (when claimed)",
       with_target(change_notification_case)},
  };
  return all;
}

Verdict run_case(const Case& c, Target& target) { return c.run(target); }

}  // namespace conflux::conformance
