// VdirWatch: the vdir back end's change notifications (caf::kCapChangeNotify),
// over Linux inotify. Watches <root> for new user directories, each
// <root>/<user> for its <database> collection appearing or going, and each
// collection for item files written (closed after writing), moved in or out,
// deleted or touched. Dotfiles (temp files: ours and vdirsyncer's) and files
// of other extensions are not items and cause no notification; the rename
// that publishes a temp file does.
//
// The callback gets the user whose collection changed; an empty user when
// the kernel's event queue overflowed (events were lost: look at everyone).
// A directory that cannot be watched (the inotify watch limit) is logged
// once and left to the Back End Monitor's interval poll.
//
// Threading: one thread of its own reads the events and runs the callback;
// the destructor stops and joins it.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <thread>

#include "caf/content_adapter.h"

namespace conflux::adapters {

class VdirWatch final : public caf::ChangeSubscription {
 public:
  // Watches the collections <root>/*/<database>/ holding `extension` files.
  // kUnavailable when inotify cannot be set up.
  static Result<std::unique_ptr<VdirWatch>> start(const std::string& root, const std::string& database,
                                                  const std::string& extension, caf::ChangeCallback on_change);
  VdirWatch(const VdirWatch&) = delete;
  VdirWatch& operator=(const VdirWatch&) = delete;
  ~VdirWatch() override;

 private:
  enum class Level { kRoot, kUser, kCollection };
  struct Watched {
    Level level;
    std::string user;  // empty for kRoot
  };

  VdirWatch(std::string root, std::string database, std::string extension, caf::ChangeCallback on_change,
            int inotify_fd, int stop_fd);
  void run();
  // One event: starts watching directories that appeared, calls back.
  void handle(int wd, uint32_t mask, const std::string& name);
  void add(const std::string& path, Level level, const std::string& user);
  void add_user(const std::string& user);
  void add_collection(const std::string& user);
  bool is_item(const std::string& name) const;

  const std::string root_;
  const std::string database_;
  const std::string extension_;
  const caf::ChangeCallback on_change_;
  const int inotify_fd_;
  const int stop_fd_;  // eventfd: written by the destructor

  std::map<int, Watched> watches_;  // by watch descriptor; set up before the thread starts, then its alone
  bool warned_ = false;             // the watch limit was logged
  std::thread thread_;
};

}  // namespace conflux::adapters
