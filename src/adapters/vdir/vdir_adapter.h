// The vdir back end: the layout vdirsyncer, khard and khal share — one
// directory per collection, one file per item, file name = id + extension
// (.vcf for text/vcard and text/x-vcard, .ics for text/calendar, .txt for
// text/plain). Registered as adapter kind "vdir".
//
// Layout: the collection of (user, database) is <root>/<user>/<database>/,
// created on demand under an existing <root>. An item's guid is its file name
// without the extension: files Conflux creates are named by random hex, files
// other programs create keep their names. Dotfiles (temp files included),
// files of another extension and anything but regular files are not items.
//
// Changes: a file system has no change log, so a caf::RevisionTracker keeps
// the last listing and a change counter in <data_dir>/vdir-<store>.db (one
// file per store). An item's revision is "<mtime ns>-<size>-<inode>"; every
// call lists the collection, so files added, edited or deleted by other
// programs show up at the next call. Limit: an edit in place within one tick
// of the file system's clock that keeps the size is not seen until the next
// edit (programs that write a new file and rename it, as vdirsyncer does,
// always change the inode).
//
// Writes: a create or update writes a temp file in the collection, fsyncs it,
// renames it over the item (a create never replaces: an existing name makes
// it pick another) and fsyncs the directory; a delete unlinks. Errors of the
// file system are kUnavailable with the OS's text (kResourceExhausted for a
// full disk), so a caller can retry later; nothing is half-written.
//
// Push: watch_changes() (kCapChangeNotify) reports files added, edited or
// deleted by other programs as they happen, over inotify (vdir_watch.h).
//
// Isolation: a StoreRef with an empty user or database, or one containing
// '/' or NUL or equal to "." or "..", is refused with kInvalidArgument before
// any path is built.
//
// Threading: any method from any thread; the tracker serialises them.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "caf/backend_accounts.h"
#include "caf/backend_registry.h"
#include "caf/content_adapter.h"
#include "caf/revision_tracker.h"
#include "caf/typed_adapter_factory.h"

namespace conflux::adapters {

// The store section (VdirAdapterFactory::parse); the paths are made absolute
// and tracker_file set by VdirAdapterFactory::resolve.
struct VdirAdapterConfig {
  std::string root;           // directory holding <user>/<database>/
  std::string extension;      // of the item files, from the content type: ".vcf"
  std::string tracker_file;   // absolute path of the RevisionTracker state
  std::string accounts_file;  // caf::BackendAccounts of this back end; empty: Conflux's accounts
};

// The file-name extension of items of `content_type` (".vcf", ".ics",
// ".txt"); empty for a type the vdir layout does not hold.
std::string vdir_extension(const std::string& content_type);

// The files of one store: the primitives caf::RevisionTracker works with.
class VdirFiles final : public caf::TrackedBackend {
 public:
  VdirFiles(std::string root, std::string extension);

  // <root>/<user>/<database>
  std::string collection_dir(const caf::StoreRef& store) const;
  const std::string& root() const { return root_; }

  // caf::TrackedBackend
  Result<std::map<std::string, std::string>> list(const caf::StoreRef& store) override;
  Result<std::string> read(const caf::StoreRef& store, const std::string& id) override;
  Result<std::string> write(const caf::StoreRef& store, const std::string& id, std::string_view raw,
                            WriteMode mode) override;
  Status remove(const caf::StoreRef& store, const std::string& id) override;

 private:
  std::string item_path(const caf::StoreRef& store, const std::string& id) const;
  Status ensure_collection(const caf::StoreRef& store) const;

  const std::string root_;
  const std::string extension_;
};

class VdirAdapter final : public caf::ContentAdapter {
 public:
  // Opens (or creates) the tracker state; the root directory must exist.
  static Result<std::shared_ptr<VdirAdapter>> open(const VdirAdapterConfig& config, const caf::StoreSettings& settings);

  // caf::ContentAdapter
  caf::AdapterCaps caps() const override;
  // With `accounts_file`: checks the file (kCapOwnAccounts). Without:
  // kUnimplemented, this back end trusts Conflux's own accounts.
  Status verify_credentials(const std::string& database, const caf::Credentials& creds) override;
  // The back end is reachable when its root directory is; with own accounts
  // the login is checked too.
  Status begin_connect(const UserId& user, const caf::Credentials* credentials) override;
  // The tracker's anchor after a fresh listing; "0" for an empty collection.
  Result<Anchor> current_anchor(const caf::StoreRef& store) override;
  // See caf::RevisionTracker::changes_since. Items carry the store's content type.
  Result<caf::ChangeSet> changes_since(const caf::StoreRef& store, const Anchor& since) override;
  // One file operation per item; there is no batch transaction. An item whose
  // content type belongs in files of another extension fails with
  // kInvalidArgument. An update of a missing file fails with kNotFound.
  std::vector<caf::ApplyResult> apply(const caf::StoreRef& store, std::vector<caf::SyncObj>&& batch) override;
  // `contains` matches bytes of the file.
  Result<std::vector<caf::SyncObj>> search(const caf::StoreRef& store, const caf::Query& query) override;
  // "count": number of items. "rescan": lists the collection now; output is
  // the number of changes by other programs found. Others: kUnimplemented.
  Result<caf::ExecResult> execute(const caf::StoreRef& store, const caf::Command& command) override;
  // Watches <root>/<user>/<database>/ of every user (VdirWatch).
  // kInvalidArgument for a database name that is no directory name.
  Result<std::unique_ptr<caf::ChangeSubscription>> watch_changes(const std::string& database,
                                                                 caf::ChangeCallback on_change) override;

  const VdirFiles& files() const { return *files_; }
  caf::RevisionTracker& tracker() { return *tracker_; }

 private:
  VdirAdapter(const VdirAdapterConfig& config, const caf::StoreSettings& settings);

  const std::string store_name_;  // for the log
  const std::string root_;
  const std::string extension_;
  const std::optional<caf::BackendAccounts> accounts_;
  const std::unique_ptr<VdirFiles> files_;         // before tracker_, which uses it
  std::unique_ptr<caf::RevisionTracker> tracker_;  // set once by open()
};

// Adapter kind "vdir". Options: `root` (required; relative paths are relative
// to the data directory), `accounts_file` (optional, see caf/backend_accounts.h).
// The store's content_type picks the extension.
class VdirAdapterFactory final : public caf::TypedAdapterFactory<VdirAdapterConfig> {
 public:
  static constexpr const char* kKind = "vdir";

  std::string kind() const override { return kKind; }

  // `config` with its paths made absolute against env.data_dir and its tracker file named.
  static Result<VdirAdapterConfig> resolve(VdirAdapterConfig config, const caf::StoreSettings& settings,
                                           const caf::AdapterEnv& env);

 protected:
  Result<caf::OptionKeys> keys(const caf::StoreSettings& settings) const override;
  // The content type must have a vdir extension, the store name be usable as a directory.
  Result<VdirAdapterConfig> read(const caf::CheckedOptions& options, const caf::StoreSettings& settings) const override;
  // Creates the root directory when missing, then opens the adapter.
  Result<std::shared_ptr<caf::ContentAdapter>> make(VdirAdapterConfig config, const caf::StoreSettings& settings,
                                                    const caf::AdapterEnv& env) override;
  // `conflux doctor`: the root is an existing directory this user may write
  // (create() would make a missing one, hiding a mistyped path), and the
  // accounts file is readable.
  std::vector<Status> check_config(const VdirAdapterConfig& config, const caf::StoreSettings& settings,
                                   const caf::AdapterEnv& env) const override;
};

}  // namespace conflux::adapters
