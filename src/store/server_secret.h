// ServerSecret: the one implementation of StateStore::server_secret() for
// every state store; each store brings only its "insert if absent, then
// read" in its own database.
#pragma once

#include <cstddef>
#include <functional>
#include <mutex>
#include <string>

#include "common/status.h"

namespace conflux::store {

class ServerSecret {
 public:
  static constexpr size_t kBytes = 32;
  // The row's name in the store's secrets table.
  static constexpr const char* kName = "token-signing-key";

  // Stores `fresh` under kName unless a key is there already, and returns
  // the stored key, in one transaction: when two nodes race on the first
  // start, both end up with whichever key was written first.
  using InsertThenRead = std::function<Result<std::string>(const std::string& fresh)>;

  // The key, read once and then kept: a fresh random one offered to
  // `insert_then_read` (wiped after). kFailedPrecondition when the stored
  // key is not kBytes long; the store's errors as they come.
  Result<std::string> get(const InsertThenRead& insert_then_read);

 private:
  std::mutex mutex_;
  std::string secret_;  // guarded by mutex_; empty until first read
};

}  // namespace conflux::store
