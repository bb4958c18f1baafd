#include "adapters/vdir/vdir_adapter.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <system_error>
#include <utility>

#include "adapters/vdir/vdir_watch.h"
#include "caf/tracked_adapter.h"
#include "common/base64.h"
#include "common/log.h"

namespace conflux::adapters {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxIdBytes = 200;  // leaves room for the extension and a temp name in NAME_MAX

// The one place an errno becomes a Status. ENOENT is the caller's to decide
// (a missing item is kNotFound, a missing directory kUnavailable).
Status os_error(const std::string& what, int err) {
  std::string msg = what + ": " + std::generic_category().message(err);
  if (err == ENOSPC || err == EDQUOT) return Status::resource_exhausted(std::move(msg));
  return Status::unavailable(std::move(msg));
}

// Closes a descriptor at scope end.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // close() with its error, for files whose write must be confirmed.
  int close() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

// A path component a user or database name may become.
bool safe_component(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\0') == std::string::npos;
}

Status check_scope(const caf::StoreRef& store) {
  if (store.user.empty()) return Status::invalid_argument("vdir adapter: call without a user");
  if (store.database.empty()) return Status::invalid_argument("vdir adapter: call without a database");
  if (!safe_component(store.user.str()))
    return Status::invalid_argument("vdir adapter: user name not usable as a path");
  if (!safe_component(store.database)) {
    return Status::invalid_argument("vdir adapter: database name not usable as a path");
  }
  return Status::ok();
}

// An id that names a file of the collection and nothing else.
bool valid_id(const std::string& id) {
  return !id.empty() && id.size() <= kMaxIdBytes && id[0] != '.' && id.find('/') == std::string::npos &&
         id.find('\0') == std::string::npos;
}

std::string revision_of(const struct stat& st) {
  const int64_t mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  return std::to_string(mtime_ns) + "-" + std::to_string(st.st_size) + "-" + std::to_string(st.st_ino);
}

// fsync of a directory, so a rename or unlink in it survives a crash. A
// failure is logged only: the change itself is done and visible.
void sync_dir(const std::string& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0 || ::fsync(fd.get()) != 0) {
    logger("adapter.vdir")->warn("fsync of directory {} failed: {}", dir, std::generic_category().message(errno));
  }
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::vector<caf::ApplyResult> fail_all(size_t n, const Status& status) {
  std::vector<caf::ApplyResult> results(n);
  for (auto& r : results) r.status = status;
  return results;
}

}  // namespace

std::string vdir_extension(const std::string& content_type) {
  std::string type = content_type;
  std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return std::tolower(c); });
  if (type == "text/vcard" || type == "text/x-vcard") return ".vcf";
  if (type == "text/calendar") return ".ics";
  if (type == "text/plain") return ".txt";
  return "";
}

// ---------------------------------------------------------------------------
// VdirFiles

VdirFiles::VdirFiles(std::string root, std::string extension)
    : root_(std::move(root)), extension_(std::move(extension)) {}

std::string VdirFiles::collection_dir(const caf::StoreRef& store) const {
  return root_ + "/" + store.user.str() + "/" + store.database;
}

std::string VdirFiles::item_path(const caf::StoreRef& store, const std::string& id) const {
  return collection_dir(store) + "/" + id + extension_;
}

Status VdirFiles::ensure_collection(const caf::StoreRef& store) const {
  // The root is not recreated: a missing root is an unmounted or removed
  // disk, not an empty store.
  struct stat st {};
  if (::stat(root_.c_str(), &st) != 0) return os_error("vdir root " + root_, errno);
  if (!S_ISDIR(st.st_mode)) return os_error("vdir root " + root_, ENOTDIR);
  for (const std::string& dir : {root_ + "/" + store.user.str(), collection_dir(store)}) {
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return os_error("vdir mkdir " + dir, errno);
  }
  return Status::ok();
}

Result<std::map<std::string, std::string>> VdirFiles::list(const caf::StoreRef& store) {
  const std::string dir = collection_dir(store);
  DIR* handle = ::opendir(dir.c_str());
  if (handle == nullptr) {
    if (errno == ENOENT) return Status::not_found("vdir collection " + dir + " does not exist");
    return os_error("vdir list " + dir, errno);
  }
  std::unique_ptr<DIR, int (*)(DIR*)> guard(handle, &::closedir);
  std::map<std::string, std::string> listing;
  for (;;) {
    errno = 0;
    const struct dirent* entry = ::readdir(handle);
    if (entry == nullptr) {
      if (errno != 0) return os_error("vdir list " + dir, errno);
      break;
    }
    const std::string name = entry->d_name;
    // Dotfiles (ours and other programs' temp files) and other types are not items.
    if (name.empty() || name[0] == '.' || !ends_with(name, extension_) || name.size() == extension_.size()) continue;
    struct stat st {};
    if (::fstatat(::dirfd(handle), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;  // removed while we list
      return os_error("vdir stat " + dir + "/" + name, errno);
    }
    if (!S_ISREG(st.st_mode)) continue;
    listing.emplace(name.substr(0, name.size() - extension_.size()), revision_of(st));
  }
  return listing;
}

Result<std::string> VdirFiles::read(const caf::StoreRef& store, const std::string& id) {
  if (!valid_id(id)) return Status::not_found("vdir: no item '" + id + "'");
  const std::string path = item_path(store, id);
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0) {
    if (errno == ENOENT || errno == ELOOP) return Status::not_found("vdir: no item " + path);
    return os_error("vdir read " + path, errno);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return os_error("vdir read " + path, errno);
  if (!S_ISREG(st.st_mode)) return Status::not_found("vdir: " + path + " is not a regular file");
  std::string data;
  data.reserve(static_cast<size_t>(st.st_size));
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return os_error("vdir read " + path, errno);
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  return data;
}

Result<std::string> VdirFiles::write(const caf::StoreRef& store, const std::string& id, std::string_view raw,
                                     WriteMode mode) {
  if (!valid_id(id)) return Status::invalid_argument("vdir: '" + id + "' cannot be a file name");
  CFX_RETURN_IF_ERROR(ensure_collection(store));
  const std::string dir = collection_dir(store);
  const std::string path = item_path(store, id);
  mode_t file_mode = 0600;  // items are personal data
  if (mode == WriteMode::kReplace) {
    struct stat old {};
    if (::lstat(path.c_str(), &old) != 0) {
      if (errno == ENOENT) return Status::not_found("vdir: no item " + path);
      return os_error("vdir stat " + path, errno);
    }
    if (!S_ISREG(old.st_mode)) return Status::not_found("vdir: " + path + " is not a regular file");
    file_mode = old.st_mode & 07777;  // an edit keeps the permissions the user chose
  }

  // A dotfile: other programs and our own listing ignore it.
  const std::string tmp = dir + "/." + id + "." + random_hex(4) + ".tmp";
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (fd.get() < 0) return os_error("vdir write " + tmp, errno);
  auto fail = [&](const std::string& what, int err) {
    Status status = os_error(what, err);
    ::unlink(tmp.c_str());
    return status;
  };
  for (size_t done = 0; done < raw.size();) {
    ssize_t n = ::write(fd.get(), raw.data() + done, raw.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("vdir write " + tmp, errno);
    }
    done += static_cast<size_t>(n);
  }
  if (file_mode != 0600 && ::fchmod(fd.get(), file_mode) != 0) return fail("vdir chmod " + tmp, errno);
  if (::fsync(fd.get()) != 0) return fail("vdir fsync " + tmp, errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return fail("vdir stat " + tmp, errno);
  if (fd.close() != 0) return fail("vdir close " + tmp, errno);

  // The rename keeps inode, size and mtime, so `st` is the item's revision.
  if (mode == WriteMode::kCreate) {
    if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) != 0) {
      if (errno == EEXIST) {
        ::unlink(tmp.c_str());
        return Status::already_exists("vdir: " + path + " exists");
      }
      if (errno != EINVAL && errno != ENOSYS) return fail("vdir rename to " + path, errno);
      // A file system without RENAME_NOREPLACE: link() refuses to replace too.
      if (::link(tmp.c_str(), path.c_str()) != 0) {
        if (errno == EEXIST) {
          ::unlink(tmp.c_str());
          return Status::already_exists("vdir: " + path + " exists");
        }
        return fail("vdir link to " + path, errno);
      }
      ::unlink(tmp.c_str());
    }
  } else if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return fail("vdir rename to " + path, errno);
  }
  sync_dir(dir);
  return revision_of(st);
}

Status VdirFiles::remove(const caf::StoreRef& store, const std::string& id) {
  if (!valid_id(id)) return Status::not_found("vdir: no item '" + id + "'");
  const std::string path = item_path(store, id);
  if (::unlink(path.c_str()) != 0) {
    // apply() lists the collection first, so a missing collection that
    // still held items never gets here: ENOENT means this item is gone. A
    // directory in its place is no item either, as for list and read.
    if (errno == ENOENT || errno == EISDIR) return Status::not_found("vdir: no item " + path);
    return os_error("vdir remove " + path, errno);
  }
  sync_dir(collection_dir(store));
  return Status::ok();
}

// ---------------------------------------------------------------------------
// VdirAdapter

VdirAdapter::VdirAdapter(const VdirAdapterConfig& config, const caf::StoreSettings& settings)
    : store_name_(settings.name),
      root_(config.root),
      extension_(config.extension),
      accounts_(config.accounts_file.empty() ? std::nullopt
                                             : std::make_optional<caf::BackendAccounts>(config.accounts_file)),
      files_(std::make_unique<VdirFiles>(config.root, config.extension)) {}

Result<std::shared_ptr<VdirAdapter>> VdirAdapter::open(const VdirAdapterConfig& config,
                                                       const caf::StoreSettings& settings) {
  std::shared_ptr<VdirAdapter> adapter(new VdirAdapter(config, settings));
  auto tracker = caf::RevisionTracker::open(config.tracker_file, *adapter->files_, settings.content_type);
  if (!tracker) return tracker.error();
  adapter->tracker_ = std::move(*tracker);
  return adapter;
}

caf::AdapterCaps VdirAdapter::caps() const {
  return caf::kCapTombstones | caf::kCapSearch | caf::kCapChangeNotify |
         (accounts_ ? caf::kCapOwnAccounts : caf::kCapNone);
}

Status VdirAdapter::verify_credentials(const std::string& database, const caf::Credentials& creds) {
  if (!accounts_) return Status::unimplemented("vdir adapter: accounts are Conflux's own");
  return accounts_->verify(creds);
}

Status VdirAdapter::begin_connect(const UserId& user, const caf::Credentials* credentials) {
  std::error_code ec;
  if (!fs::is_directory(files_->root(), ec)) {
    return Status::unavailable("vdir root " + files_->root() + " is not reachable" + (ec ? ": " + ec.message() : ""));
  }
  if (accounts_ && credentials) return accounts_->verify(*credentials);
  return Status::ok();
}

Result<Anchor> VdirAdapter::current_anchor(const caf::StoreRef& store) {
  CFX_RETURN_IF_ERROR(check_scope(store));
  auto anchor = tracker_->current_anchor(store);
  if (!anchor) return anchor.error().with_context("vdir current_anchor");
  return anchor;
}

Result<caf::ChangeSet> VdirAdapter::changes_since(const caf::StoreRef& store, const Anchor& since) {
  CFX_RETURN_IF_ERROR(check_scope(store));
  auto set = tracker_->changes_since(store, since);
  if (!set) return set.error().with_context("vdir changes_since");
  return set;
}

std::vector<caf::ApplyResult> VdirAdapter::apply(const caf::StoreRef& store, std::vector<caf::SyncObj>&& batch) {
  if (Status scope = check_scope(store); !scope.is_ok()) return fail_all(batch.size(), scope);
  if (batch.empty()) return {};
  // Items of a type that belongs in files of another extension never reach
  // the files (an iCalendar in a .vcf would break khard).
  return caf::apply_tracked(
      *tracker_, store, std::move(batch),
      [&](const caf::SyncObj& obj) {
        const std::string ext = obj.action == caf::Action::kDelete ? "" : vdir_extension(obj.content_type);
        if (ext.empty() || ext == extension_) return Status::ok();
        return Status::invalid_argument("vdir: an item of type " + obj.content_type + " cannot go into " + extension_ +
                                        " files");
      },
      "vdir");
}

Result<std::vector<caf::SyncObj>> VdirAdapter::search(const caf::StoreRef& store, const caf::Query& query) {
  CFX_RETURN_IF_ERROR(check_scope(store));
  auto found = tracker_->search(store, query);
  if (!found) return found.error().with_context("vdir search");
  return found;
}

Result<caf::ExecResult> VdirAdapter::execute(const caf::StoreRef& store, const caf::Command& command) {
  CFX_RETURN_IF_ERROR(check_scope(store));
  if (!command.args.empty()) {
    return Status::invalid_argument("vdir " + command.name + ": unknown argument '" + command.args.begin()->first +
                                    "'");
  }
  if (auto answered = caf::tracked_command(*tracker_, store, command, "vdir")) return std::move(*answered);
  return Status::unimplemented("vdir adapter: unknown command '" + command.name + "'");
}

Result<std::unique_ptr<caf::ChangeSubscription>> VdirAdapter::watch_changes(const std::string& database,
                                                                            caf::ChangeCallback on_change) {
  if (!safe_component(database)) return Status::invalid_argument("vdir watch: database name not usable as a path");
  auto watch = VdirWatch::start(root_, database, extension_, std::move(on_change));
  if (!watch) return watch.error().with_context("store '" + store_name_ + "'");
  logger("adapter.vdir")
      ->info("store '{}': watching {}/*/{}/ for changes by other programs", store_name_, root_, database);
  return std::unique_ptr<caf::ChangeSubscription>(std::move(*watch));
}

// ---------------------------------------------------------------------------
// VdirAdapterFactory

Result<caf::OptionKeys> VdirAdapterFactory::keys(const caf::StoreSettings&) const {
  return caf::OptionKeys{
      "adapter vdir",
      {caf::non_empty_option("root", "a directory").needed(),  // of <user>/<store>/; relative: in the data directory
       caf::text_option("accounts_file", "the back end's own accounts file")}};
}

Result<VdirAdapterConfig> VdirAdapterFactory::read(const caf::CheckedOptions& options,
                                                   const caf::StoreSettings& settings) const {
  const std::string prefix = "stores." + settings.name + ".";
  VdirAdapterConfig config;
  config.extension = vdir_extension(settings.content_type);
  if (config.extension.empty()) {
    return Status::invalid_argument(prefix + "content_type: adapter vdir cannot store '" + settings.content_type +
                                    "' (text/vcard, text/x-vcard, text/calendar or text/plain)");
  }
  if (!safe_component(settings.name)) {
    return Status::invalid_argument("stores." + settings.name + ": adapter vdir needs a name usable as a directory");
  }
  config.root = options.text("root");
  config.accounts_file = options.text("accounts_file");
  return config;
}

Result<VdirAdapterConfig> VdirAdapterFactory::resolve(VdirAdapterConfig config, const caf::StoreSettings& settings,
                                                      const caf::AdapterEnv& env) {
  fs::path root(config.root);
  if (root.is_relative()) root = fs::path(env.data_dir) / root;
  std::error_code ec;
  fs::path absolute = fs::absolute(root, ec);
  if (ec) {
    return Status::invalid_argument("stores." + settings.name + ".root: cannot resolve '" + root.string() +
                                    "': " + ec.message());
  }
  std::string normal = absolute.lexically_normal().string();
  while (normal.size() > 1 && normal.back() == '/') normal.pop_back();
  config.root = normal;
  config.tracker_file = (fs::path(env.data_dir) / ("vdir-" + settings.name + ".db")).lexically_normal().string();
  config.accounts_file = caf::BackendAccounts::configured_path(config.accounts_file, env);
  return config;
}

Result<std::shared_ptr<caf::ContentAdapter>> VdirAdapterFactory::make(VdirAdapterConfig parsed,
                                                                      const caf::StoreSettings& settings,
                                                                      const caf::AdapterEnv& env) {
  auto config = resolve(std::move(parsed), settings, env);
  if (!config) return config.error();
  std::error_code ec;
  for (const fs::path& dir : {fs::path(config->root), fs::path(config->tracker_file).parent_path()}) {
    fs::create_directories(dir, ec);
    if (ec) {
      return Status::unavailable("stores." + settings.name + ".root: cannot create directory " + dir.string() + ": " +
                                 ec.message());
    }
  }
  auto adapter = VdirAdapter::open(*config, settings);
  if (!adapter) return adapter.error().with_context("stores." + settings.name);
  logger("adapter.vdir")
      ->info("store '{}' kept in {}/<user>/{}/*{}, revisions in {}", settings.name, config->root, settings.name,
             config->extension, config->tracker_file);
  return std::shared_ptr<caf::ContentAdapter>(std::move(*adapter));
}

std::vector<Status> VdirAdapterFactory::check_config(const VdirAdapterConfig& parsed,
                                                     const caf::StoreSettings& settings,
                                                     const caf::AdapterEnv& env) const {
  auto config = resolve(parsed, settings, env);
  if (!config) return {config.error()};
  const std::string key = "stores." + settings.name + ".";
  std::vector<Status> found;
  std::error_code ec;
  const fs::file_status root = fs::status(config->root, ec);
  if (!fs::exists(root)) {
    found.push_back(Status::not_found(key + "root: directory " + config->root +
                                      " does not exist: create it (mkdir -p " + config->root +
                                      ", writable by the server's user) or correct root"));
  } else if (!fs::is_directory(root)) {
    found.push_back(Status::failed_precondition(key + "root: " + config->root + " is not a directory: correct root"));
  } else if (::access(config->root.c_str(), R_OK | W_OK | X_OK) != 0) {
    found.push_back(Status::permission_denied(key + "root: " + config->root + " is not writable by this user (" +
                                              std::generic_category().message(errno) +
                                              "): give the server's user the rights (chown/chmod)"));
  }
  if (!config->accounts_file.empty() && ::access(config->accounts_file.c_str(), R_OK) != 0) {
    found.push_back(Status::not_found(key + "accounts_file: cannot read " + config->accounts_file + " (" +
                                      std::generic_category().message(errno) + "): create it or correct the path"));
  }
  return found;
}

}  // namespace conflux::adapters
