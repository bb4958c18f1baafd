#include "store/server_secret.h"

#include <sodium.h>

#include <utility>

namespace conflux::store {

Result<std::string> ServerSecret::get(const InsertThenRead& insert_then_read) {
  std::lock_guard guard(mutex_);
  if (!secret_.empty()) return secret_;

  if (sodium_init() < 0) return Status::internal("server secret: libsodium cannot be initialised");
  std::string fresh(kBytes, '\0');
  randombytes_buf(fresh.data(), fresh.size());
  auto stored = insert_then_read(fresh);
  sodium_memzero(fresh.data(), fresh.size());
  if (!stored) return stored.error();
  if (stored->size() != kBytes) {
    return Status::failed_precondition("server secret: stored key has " + std::to_string(stored->size()) +
                                       " bytes, expected " + std::to_string(kBytes));
  }
  secret_ = std::move(*stored);
  return secret_;
}

}  // namespace conflux::store
