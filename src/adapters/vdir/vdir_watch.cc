#include "adapters/vdir/vdir_watch.h"

#include <dirent.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "common/log.h"

namespace conflux::adapters {
namespace {

constexpr uint32_t kRootMask = IN_CREATE | IN_MOVED_TO | IN_ONLYDIR;
constexpr uint32_t kUserMask = IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ONLYDIR;
constexpr uint32_t kCollectionMask =
    IN_CLOSE_WRITE | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ATTRIB | IN_ONLYDIR;

std::string os_text(int err) { return std::generic_category().message(err); }

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() > suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

Result<std::unique_ptr<VdirWatch>> VdirWatch::start(const std::string& root, const std::string& database,
                                                    const std::string& extension, caf::ChangeCallback on_change) {
  const int inotify_fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify_fd < 0) return Status::unavailable("vdir watch: inotify_init1: " + os_text(errno));
  const int stop_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (stop_fd < 0) {
    const int err = errno;
    ::close(inotify_fd);
    return Status::unavailable("vdir watch: eventfd: " + os_text(err));
  }
  std::unique_ptr<VdirWatch> watch(new VdirWatch(root, database, extension, std::move(on_change), inotify_fd, stop_fd));
  // Root first, then what is already there: a user directory made in
  // between is reported by the root's watch.
  watch->add(root, Level::kRoot, "");
  if (watch->watches_.empty()) return Status::unavailable("vdir watch: cannot watch " + root);
  if (DIR* dir = ::opendir(root.c_str())) {
    while (const struct dirent* entry = ::readdir(dir)) {
      const std::string name = entry->d_name;
      if (!name.empty() && name[0] != '.') watch->add_user(name);
    }
    ::closedir(dir);
  }
  watch->thread_ = std::thread([w = watch.get()] { w->run(); });
  return watch;
}

VdirWatch::VdirWatch(std::string root, std::string database, std::string extension, caf::ChangeCallback on_change,
                     int inotify_fd, int stop_fd)
    : root_(std::move(root)),
      database_(std::move(database)),
      extension_(std::move(extension)),
      on_change_(std::move(on_change)),
      inotify_fd_(inotify_fd),
      stop_fd_(stop_fd) {}

VdirWatch::~VdirWatch() {
  if (thread_.joinable()) {
    const uint64_t one = 1;
    if (::write(stop_fd_, &one, sizeof one) != sizeof one) {
      logger("adapter.vdir")->error("vdir watch: cannot signal the watch thread: {}", os_text(errno));
    }
    thread_.join();
  }
  ::close(inotify_fd_);
  ::close(stop_fd_);
}

void VdirWatch::add(const std::string& path, Level level, const std::string& user) {
  const uint32_t mask = level == Level::kRoot ? kRootMask : level == Level::kUser ? kUserMask : kCollectionMask;
  const int wd = ::inotify_add_watch(inotify_fd_, path.c_str(), mask);
  if (wd < 0) {
    // ENOENT/ENOTDIR: gone already, or not a directory — nothing to watch.
    if (errno != ENOENT && errno != ENOTDIR && !warned_) {
      warned_ = true;
      logger("adapter.vdir")
          ->warn("vdir watch: cannot watch {} ({}); its changes are found by polling", path, os_text(errno));
    }
    return;
  }
  // The same directory watched again (moved away and back) keeps its wd.
  watches_[wd] = Watched{level, user};
}

void VdirWatch::add_user(const std::string& user) {
  add(root_ + "/" + user, Level::kUser, user);
  add_collection(user);  // made before the user's watch, it raised no event
}

void VdirWatch::add_collection(const std::string& user) {
  const std::string path = root_ + "/" + user + "/" + database_;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return;
  add(path, Level::kCollection, user);
}

bool VdirWatch::is_item(const std::string& name) const {
  return !name.empty() && name[0] != '.' && ends_with(name, extension_);
}

void VdirWatch::run() {
  alignas(struct inotify_event) char buf[16 * 1024];
  pollfd fds[2] = {{inotify_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
  for (;;) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      logger("adapter.vdir")
          ->error("vdir watch of {}: poll: {}; changes are found by polling only", database_, os_text(errno));
      return;
    }
    if (fds[1].revents != 0) return;
    const ssize_t n = ::read(inotify_fd_, buf, sizeof buf);
    if (n <= 0) continue;  // EAGAIN: woken for nothing
    for (ssize_t at = 0; at < n;) {
      const auto* event = reinterpret_cast<const struct inotify_event*>(buf + at);
      handle(event->wd, event->mask, event->len > 0 ? std::string(event->name) : std::string());
      at += static_cast<ssize_t>(sizeof(struct inotify_event) + event->len);
    }
  }
}

void VdirWatch::handle(int wd, uint32_t mask, const std::string& name) {
  if (mask & IN_Q_OVERFLOW) {
    on_change_(UserId());
    return;
  }
  auto it = watches_.find(wd);
  if (it == watches_.end()) return;
  if (mask & IN_IGNORED) {  // the directory is gone
    watches_.erase(it);
    return;
  }
  const Watched watched = it->second;
  switch (watched.level) {
    case Level::kRoot:
      if ((mask & IN_ISDIR) && !name.empty() && name[0] != '.') {
        add_user(name);
        on_change_(UserId(name));
      }
      return;
    case Level::kUser:
      if (name != database_) return;
      if (mask & (IN_CREATE | IN_MOVED_TO)) add_collection(watched.user);
      on_change_(UserId(watched.user));  // appeared or went: either way, look
      return;
    case Level::kCollection:
      if (is_item(name)) on_change_(UserId(watched.user));
      return;
  }
}

}  // namespace conflux::adapters
