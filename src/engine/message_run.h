// Internal to the engine: the work of answering one client message. One
// class, its methods in these files (each section below names its file):
//   sync_engine.cc          the run, authentication, Put/Get/Status, package steps
//   sync_alert.cc           a datastore's Alert: sync type, anchors, our Alert
//   datastore_sync.cc       Sync and Map commands, our changes within the budget
//   client_changes.cc       a client Sync's Add/Replace/Delete: classify, apply, answer
//   conflict_resolution.cc  a conflicting change: decide (conflict_decision.h), record
//   command_groups.cc       Atomic, Sequence, Copy, credentials on an Alert
//   suspend_resume.cc       Alert 224/225, statuses that wait for the next message
//   large_objects.cc        chunks in both directions
//   item_problems.cc        items that fail alone, poison items
//
// Errors: a method returning Status or Result fails only for a state-store
// failure, which aborts the message; what a command did wrong is a Status
// in the reply.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "caf/conflict_policy.h"
#include "engine/credentials.h"
#include "engine/device_quirks.h"
#include "engine/sync_engine.h"
#include "protocol/devinf.h"
#include "protocol/status_code.h"

namespace conflux::engine {

// An item's MIME type and Meta Format: the item's Meta, else the command's
// (RepPro: Meta on a command is the default for its items).
inline std::string item_type(const protocol::Command& cmd, const protocol::Item& item, const std::string& fallback) {
  if (item.meta && !item.meta->type.empty()) return item.meta->type;
  if (cmd.meta && !cmd.meta->type.empty()) return cmd.meta->type;
  return fallback;
}

// A Format SyncML does not define counts as chr: the data is taken as it is.
inline protocol::ItemFormat item_format(const protocol::Command& cmd, const protocol::Item& item) {
  const std::string* format = nullptr;
  if (item.meta && !item.meta->format.empty()) {
    format = &item.meta->format;
  } else if (cmd.meta && !cmd.meta->format.empty()) {
    format = &cmd.meta->format;
  }
  if (format == nullptr) return protocol::ItemFormat::kChr;
  return protocol::parse_item_format(*format).value_or(protocol::ItemFormat::kChr);
}

// A map change decided without a write (after a conflict).
struct MapFix {
  enum class Kind { kNone, kRemove, kSetSynced } kind = Kind::kNone;
  Guid guid;      // kSetSynced
  Anchor anchor;  // kSetSynced
};

// How one client item is answered when no plain write decides it.
struct PendingDecision {
  protocol::StatusCode decided = protocol::StatusCode::kOk;  // code when nothing is written
  protocol::StatusCode success = protocol::StatusCode::kOk;  // code when the write succeeds (208, 209)
  bool map_written_item = true;                              // false: a duplicate the device receives as a new Add
  bool resend_to_device = false;  // the device gets the written version back (a slow-sync merge)
  MapFix fix;
};

// What is done with one client item (MessageRun::classify_item): answered
// as decided, matched to an item the server already has, or written.
struct ItemPlan : PendingDecision {
  const protocol::Command* cmd = nullptr;
  Luid luid;  // empty when the item named none
  std::optional<caf::SyncObj> write;
  Guid matched_guid;  // set: the server has the item already; nothing is written
  Anchor matched_anchor;
  int batch_index = -1;  // where `write` went in the batch (apply_client_changes)
  // A write over a mapped item the server had not changed when planned:
  // should the back end refuse it as changed meanwhile (kAborted: a DAV
  // server's 412), it becomes a conflict decided at once (settle_lost_races).
  const protocol::Item* race_item = nullptr;
};

// What the map says about a datastore, indexed both ways.
struct MapIndex {
  std::unordered_map<std::string, MapEntry> by_luid;
  std::unordered_map<std::string, std::string> luid_by_guid;

  explicit MapIndex(const std::vector<MapEntry>& entries) {
    for (const auto& e : entries) {
      by_luid[e.luid.str()] = e;
      luid_by_guid[e.guid.str()] = e.luid.str();
    }
  }
  const MapEntry* find(const std::string& luid) const {
    auto it = by_luid.find(luid);
    return it == by_luid.end() ? nullptr : &it->second;
  }
};

class SyncEngine::MessageRun {
 public:
  // `rerun`: `in` began to run before and its server died (SessionState::
  // running_msg_id): client Adds are matched against the store's items.
  MessageRun(SyncEngine& engine, SessionState& session, const protocol::Message& in, const Inbound& where,
             bool rerun = false);

  // Runs every command and assembles the reply. Errors are state-store
  // failures; command failures become Statuses in the reply.
  Result<Outbound> run();

 private:
  // --- sync_engine.cc
  // Checks the header's credentials and answers the SyncHdr; false when the
  // message must not be processed. Errors are state-store failures.
  Result<bool> authenticate();
  // authenticate()'s steps. Checks the credentials, unless the claimed
  // user's wrong passwords from this address are being slowed (then the
  // token is refused unchecked).
  CheckedLogin check_login(const std::string& claimed, const std::vector<std::string>& nonces);
  // Counts and logs a refused login; ends the session when it must end.
  void count_refused_login(const std::string& claimed, const Status& why);
  // Our Chal: basic, or MD5 with a nonce — derived for a device that has not
  // authenticated (nothing stored), else fresh and stored for the device.
  Result<protocol::Chal> challenge();

  // --- credential_check.cc
  // The nonces an MD5 digest from this device may be made with: the one
  // stored with its last 212, then the derived challenge nonces; {""} for
  // basic. Errors are state-store failures.
  Result<std::vector<std::string>> credential_nonces(const protocol::Cred& cred);
  // Checks `cred` with each nonce in turn until one passes.
  CheckedLogin check_credentials(const protocol::Cred& cred, const std::vector<std::string>& nonces);

  // --- sync_engine.cc
  Status run_command(const protocol::Command& cmd);
  Status handle_put(const protocol::Command& cmd);
  void handle_get(const protocol::Command& cmd);
  Status handle_status(const protocol::Command& cmd);
  // Looks up the device's quirks from `devinf`, or from the DevInf stored
  // for it when null. Errors are state-store failures.
  Status identify_device(const protocol::DevInf* devinf);
  // The DevInf this message carries in a Put or in Results answering our
  // Get (the last one that parses), if any. run() identifies the device from
  // it before any command runs, so writes in the same message (SyncEvolution
  // sends its Results with pkg 3) already get the device's quirks.
  std::optional<protocol::DevInf> devinf_in_message() const;
  // The client's MaxMsgSize as the device can really take it (0: none named).
  uint64_t client_max_msg_size() const;
  // The status answering a client's item write (`command`: Add, Replace,
  // Delete, Copy) that ended in `status`: to_syncml_status, except that a
  // write the token does not allow gets the device's denied_write_status.
  protocol::StatusCode item_write_status(const Status& status, protocol::CommandKind command) const;
  // Ends pkg 2 with a Get for the device's DevInf when none is stored (a
  // client such as SyncEvolution Puts it only in its first, unauthenticated
  // message), so formats can be negotiated (engine/format_negotiation.h).
  Status ask_for_devinf();
  // The package step after this message: our alerts, our changes, or the end.
  Status finish_package(bool package_ended);
  Status commit_session();

  // --- sync_alert.cc: a datastore's Alert in pkg 1 (SyncProt §"Sync initialization")
  Status handle_alert(const protocol::Command& cmd);
  // Sets up the session's state of the alerted datastore with the sync type
  // it runs: the requested one, or a slow sync (status 508) when the anchors
  // do not match or a resume is impossible. False when the datastore cannot
  // sync now (the status says why).
  Result<bool> open_datastore(const protocol::Command& cmd, const caf::StoreSettings& settings,
                              std::optional<protocol::SyncType> requested, protocol::Command& status);
  // Our Alert for the datastore, with our anchors.
  void announce_datastore(const DatastoreState& ds, const std::optional<SyncAnchors>& stored);

  // --- suspend_resume.cc
  // Alert 224: the session ends, kept as it is for a later resume.
  void handle_suspend(const protocol::Command& cmd);
  // Alert 225: replaces `ds` (as just alerted) by the state its suspended
  // sync left, when there is one with the same Last anchor; false when
  // there is none. Errors are state-store failures.
  Result<bool> resume_datastore(DatastoreState& ds);
  // --- deletion_guard.cc (engine/deletion_guard.h)
  const caf::MassDeletionRule& mass_deletion_rule(const std::string& database) const;
  // Collects a device's delete of a mapped item for settle_client_deletes;
  // false inside an Atomic, where it must be applied at once.
  bool defer_client_delete(DatastoreState& ds, const Luid& luid, const Guid& guid);
  // Applies the collected deletes, or holds them when they are a mass
  // deletion; the device's map rows go either way. Errors: CAF listing or
  // state store.
  Status settle_client_deletes(DatastoreState& ds);
  // Records `guids` as held (`kind`: from or to the device) when deleting
  // them from a store of `store_size` items is a mass deletion (`what`
  // starts the reason: "device deleted"); true when held. Errors: recording
  // the hold failed (nothing is deleted).
  Result<bool> hold_if_mass_deletion(DatastoreState& ds, const std::vector<Guid>& guids, size_t store_size,
                                     HeldKind kind, const std::string& what);
  // Server items whose deletion this device asked for and which are held:
  // not sent back to it while they are.
  Result<std::set<std::string>> held_from(const DatastoreState& ds);
  // Takes out of ds.outgoing the deletions the device must not get without
  // the user's word: those of a hold still waiting, and a new mass deletion
  // of the device's `mapped` items (held here). Deletions the user
  // confirmed pass. Errors: state store.
  Status guard_deletions_to_device(DatastoreState& ds, const std::vector<MapEntry>& mapped);
  // --- store_identity.cc
  // True when the datastore's back end changed since the device's `stored`
  // anchors were saved (engine/store_identity.h); the device's map is then
  // forgotten, the sync must be slow. Errors: state store.
  Result<bool> forget_map_of_moved_store(const DeviceStore& key, const std::optional<SyncAnchors>& stored);
  // Moves the statuses that do not fit the client's MaxMsgSize into the
  // session for the next message; true when some had to wait.
  bool spill_statuses();

  // --- datastore_sync.cc
  Status handle_sync(const protocol::Command& sync);
  Status handle_map(const protocol::Command& map);
  // A MapItem for a server id not awaiting its Map: does the device's map
  // already hold the pair (a Map sent again)?
  Result<bool> mapped_before(const DatastoreState& ds, const protocol::MapItem& item);
  Status delete_unclaimed(DatastoreState& ds);
  Status prepare_server_changes(DatastoreState& ds);
  // Adds our pending changes to the reply while they fit; true when none remain.
  Result<bool> add_server_changes();
  // The reply's encoded size so far, as if it ended here.
  uint64_t reply_size_so_far() const;
  // Adds `ds`'s pending changes to `sync` while `used` stays within
  // `budget`; `any_item` says whether the reply carries one already. What
  // does not fit stays in ds.outgoing.
  void fill_server_sync(DatastoreState& ds, protocol::Command& sync, uint64_t budget, uint64_t& used, bool& any_item);
  // Notes a change sent in this reply: its status is awaited, an Add's Map too.
  void note_sent(DatastoreState& ds, const protocol::Command& cmd, const SentItem& sent);
  // Cuts the next chunk of `cmd`'s item data starting at `offset` to fit in
  // `room` encoded bytes; advances `offset`.
  struct Chunk {
    uint64_t encoded = 0;  // the command's encoded size with the chunk
    bool last = true;
  };
  Chunk take_chunk(protocol::Command& cmd, uint64_t& offset, uint64_t room);
  Status on_item_status(DatastoreState& ds, const SentItem& sent, int code);
  // Writes the map changes collected from statuses and Map commands.
  Status flush_map_changes();

  // --- client_changes.cc
  // What one run of client changes reads once (defined in client_changes.cc).
  struct ClientBatch;
  // Applies Add/Replace/Delete commands of one client Sync as one CAF batch
  // and answers each item.
  Status apply_client_changes(DatastoreState& ds, const std::vector<const protocol::Command*>& changes);
  // The store's items for duplicate matching, when this Sync needs them
  // (slow sync, rerun, resumed sync); an empty index otherwise or when the
  // store cannot be read.
  ItemIndex matching_index(const DatastoreState& ds, const caf::StoreRef& where);
  // Where this node keeps the session's index of `ds` between messages.
  std::string match_index_key(const DatastoreState& ds) const;
  // Decides what to do with one item of `cmd` (after its chunks are in).
  Result<ItemPlan> classify_item(ClientBatch& batch, const protocol::Command& cmd, const protocol::Item& incoming);
  // The plan for a Replace or Delete of an item the server changed too.
  Result<ItemPlan> plan_conflict(ClientBatch& batch, ItemPlan&& plan, const protocol::Item& item,
                                 const MapEntry& mapped, bool server_deleted);
  // The plan for an Add or Replace carrying data.
  ItemPlan plan_write(ClientBatch& batch, ItemPlan&& plan, const protocol::Item& item, const MapEntry* mapped,
                      bool seen_before);
  // Items the back end refused with kAborted (changed there after the plan
  // was made): each becomes the conflict it is, decided by the policy with
  // the back end's version now, and its write (if any) is applied alone.
  Status settle_lost_races(ClientBatch& batch, std::vector<ItemPlan>& plans, std::vector<caf::Action>& actions,
                           std::vector<Guid>& written, std::vector<caf::ApplyResult>& results);
  // Answers every planned item from the batch's results, collecting map rows.
  Status answer_client_items(ClientBatch& batch, const std::vector<ItemPlan>& plans,
                             const std::vector<caf::Action>& actions, const std::vector<Guid>& written,
                             const std::vector<caf::ApplyResult>& results,
                             const std::map<std::string, caf::SyncObj>& before);
  // Large objects from the client (large_objects.cc): collects chunks in the
  // session. `decided` answers this item now (213 for a chunk,
  // 411/416/424/413); else `whole` says `assembled` holds the complete item
  // to use instead of `item`.
  struct ChunkStep {
    std::optional<protocol::StatusCode> decided;
    bool whole = false;
  };
  ChunkStep take_client_chunk(DatastoreState& ds, const protocol::Command& cmd, const protocol::Item& item,
                              protocol::Item& assembled);

  // --- conflict_resolution.cc
  // Applies the datastore's policy to a conflicting Replace/Delete
  // (decide_conflict), records the conflict, fills `p`, and returns the
  // write to make, if any.
  Result<std::optional<caf::SyncObj>> resolve_conflict(DatastoreState& ds, caf::ConflictPolicy policy,
                                                       const protocol::Command& cmd, const protocol::Item& item,
                                                       const MapEntry& mapped, bool server_deleted, PendingDecision& p);
  caf::ConflictPolicy policy_for(const std::string& database) const;

  // --- item_problems.cc: items that fail alone, never the whole sync
  // A device's change the server could not apply: reported and logged.
  void report_client_failure(DatastoreState& ds, const Luid& luid, protocol::StatusCode code, const std::string& why);
  // The device's answer to one of our Adds/Replaces: an error counts one
  // more refusal of that revision; a success clears an earlier record.
  Status track_device_answer(DatastoreState& ds, const SentItem& sent, int code);
  // Server items this device refused kPoisonAfterRejections times in a row,
  // in the revision the server still has (GUID → that revision): they are
  // not sent, and reported, until they change. Clears records of items gone.
  Result<std::set<std::string>> poison_items(DatastoreState& ds, const std::vector<caf::SyncObj>& live);

  // --- command_groups.cc: Atomic, Sequence, Copy, Move (RepPro §"Atomic",
  // §"Sequence", §"Copy", §"Move") and credentials on an Alert.
  // Runs a Sync's children in order: runs of Add/Replace/Delete as one batch,
  // groups and Copy/Move one by one.
  Status apply_sync_children(DatastoreState& ds, const std::vector<protocol::Command>& children);
  // `ds` is the datastore of the enclosing Sync, or null at the top level.
  Status handle_atomic(const protocol::Command& atomic, DatastoreState* ds);
  Status handle_sequence(const protocol::Command& sequence, DatastoreState* ds);
  Status handle_copy(DatastoreState& ds, const protocol::Command& copy);
  // Runs an Atomic's children with a journal of their writes; the journal
  // is returned for an undo.
  struct JournalEntry;
  Result<std::vector<JournalEntry>> run_journaled(const protocol::Command& atomic, DatastoreState* ds);
  // Undoes the journal's writes, newest first; false when some could not be
  // undone. `recreated` gets the GUIDs of deleted items that came back under
  // a new GUID.
  bool undo_writes(const std::vector<JournalEntry>& journal, std::set<std::string>& recreated);
  // Puts the device's map rows of each datastore back as `maps_before`.
  Status restore_maps(const std::map<std::string, std::vector<MapEntry>>& maps_before,
                      const std::set<std::string>& recreated);
  // True when a command whose status is statuses_[index] or later failed.
  bool failed_since(size_t index) const;
  // Notes a client write made by a batch so that an enclosing Atomic can
  // undo it; `before` is the item's version before the write (none for a create).
  void journal_write(const DatastoreState& ds, caf::Action action, const Guid& guid,
                     std::optional<caf::SyncObj> before);
  // Versions before the write of every update and delete in `batch`, by GUID,
  // read only while an Atomic is running.
  std::map<std::string, caf::SyncObj> versions_before(const DatastoreState& ds, const std::vector<caf::SyncObj>& batch);
  // Checks credentials carried by a datastore's Alert (RepPro §"Cred": they
  // apply to that command only); the code to answer when they do not pass.
  Result<std::optional<protocol::StatusCode>> check_alert_credentials(const protocol::Command& alert);

  // --- reply assembly
  uint32_t next_cmd_id() { return ++cmd_id_; }
  // Every command is answered here, NoResp or not, so that Atomic and
  // Sequence see how their children went. The status of a command that
  // asked for none (NoResp on it or on the message) gets CmdID kUnsent and
  // is dropped before the reply goes out. The reference is valid until the
  // next add_status.
  static constexpr uint32_t kUnsent = 0;
  protocol::Command& add_status(const protocol::Command& answered, protocol::StatusCode code);
  protocol::Command& add_status(const std::string& cmd_ref, const char* cmd_name, protocol::StatusCode code,
                                bool wanted = true);
  void drop_unsent_statuses();
  caf::StoreRef store_ref(const DatastoreState& ds) const;
  // The same for a datastore named by its configured name.
  caf::StoreRef store_ref(const std::string& database) const;
  std::string normalize_store_uri(const std::string& uri) const;
  // The configured name of the datastore an Alert, Sync or Map addresses;
  // empty for other commands.
  std::string datastore_of(const protocol::Command& cmd) const;

  SyncEngine& engine_;
  SessionState& session_;
  const protocol::Message& in_;
  const Inbound& where_;
  const bool rerun_;
  protocol::Message reply_;
  std::vector<protocol::Command> statuses_;
  std::vector<protocol::Command> commands_;
  uint32_t cmd_id_ = 0;
  bool end_session_ = false;
  // This message's credentials once they were accepted; passed along with
  // every CAF call (an unrestricted-read token writes only with them). Kept
  // in memory for this message only, never in the session state.
  std::optional<caf::Credentials> credentials_;
  // Map changes from this message, by datastore, written in one go.
  std::map<std::string, std::vector<MapEntry>> map_upserts_;
  std::map<std::string, std::vector<Luid>> map_removals_;
  // Writes of the innermost running Atomic; null outside one.
  struct JournalEntry {
    std::string database;
    caf::Action action = caf::Action::kCreate;
    Guid guid;
    std::optional<caf::SyncObj> before;
  };
  std::vector<JournalEntry>* journal_ = nullptr;
  // The nonce the header's MD5 digest was checked with (empty: none); a
  // datastore's Alert in the same message carries a digest made with it.
  std::string header_nonce_;
  DeviceQuirks quirks_;  // of the device, once authenticated
};

}  // namespace conflux::engine
