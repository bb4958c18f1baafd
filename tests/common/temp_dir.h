// A scratch directory for one test, under the system temp directory; removed
// with everything in it when the object goes (write permission is restored
// first, so a test may make parts of it read-only).
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

#include "common/base64.h"

namespace conflux::test {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "conflux-test")
      : path_(std::filesystem::temp_directory_path() / (prefix + "-" + random_hex(8))) {
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all, std::filesystem::perm_options::add, ec);
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // The path of `name` inside the directory.
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  // Writes `text` to `name` inside the directory and returns its path.
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(file(name)) << text;
    return file(name);
  }

 private:
  const std::filesystem::path path_;
};

}  // namespace conflux::test
