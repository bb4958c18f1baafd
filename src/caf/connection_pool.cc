#include "caf/connection_pool.h"

#include "common/log.h"

namespace conflux::caf {

ConnectionPool::Lease::~Lease() {
  if (pool_) pool_->release(key_);
}

ConnectionPool::ConnectionPool(const Clock& clock, ConnectionPoolOptions options) : clock_(clock), options_(options) {}

ConnectionPool::~ConnectionPool() {
  std::lock_guard lock(mutex_);
  while (!connections_.empty()) end(connections_.begin());
}

Result<ConnectionPool::Lease> ConnectionPool::lease(const std::string& database, ContentAdapter& adapter,
                                                    const UserId& user, const Credentials* credentials) {
  std::lock_guard lock(mutex_);
  const int64_t now = clock_.now_seconds();
  close_idle_locked(now);
  Key key{database, user};
  auto it = connections_.find(key);
  if (it == connections_.end()) {
    if (connections_.size() >= options_.max_connections) {
      auto oldest = connections_.end();
      for (auto c = connections_.begin(); c != connections_.end(); ++c) {
        if (c->second.leases == 0 && (oldest == connections_.end() || c->second.last_used < oldest->second.last_used)) {
          oldest = c;
        }
      }
      if (oldest == connections_.end()) return Status::resource_exhausted("every back-end connection is in use");
      end(oldest);
    }
    CFX_RETURN_IF_ERROR(adapter.begin_connect(user, credentials));
    logger("caf")->debug("store '{}': connection for user '{}' opened", database, user.str());
    it = connections_.emplace(key, Connection{&adapter, now}).first;
  }
  ++it->second.leases;
  it->second.last_used = now;
  return Lease(this, std::move(key));
}

void ConnectionPool::release(const Key& key) {
  std::lock_guard lock(mutex_);
  auto it = connections_.find(key);
  if (it == connections_.end()) return;
  --it->second.leases;
  it->second.last_used = clock_.now_seconds();
}

void ConnectionPool::close_idle() {
  std::lock_guard lock(mutex_);
  close_idle_locked(clock_.now_seconds());
}

size_t ConnectionPool::open_connections() const {
  std::lock_guard lock(mutex_);
  return connections_.size();
}

void ConnectionPool::close_idle_locked(int64_t now) {
  for (auto it = connections_.begin(); it != connections_.end();) {
    auto next = std::next(it);
    if (it->second.leases == 0 && now - it->second.last_used >= options_.idle_seconds) end(it);
    it = next;
  }
}

void ConnectionPool::end(std::map<Key, Connection>::iterator it) {
  it->second.adapter->end_connect(it->first.second);
  logger("caf")->debug("store '{}': connection for user '{}' ended", it->first.first, it->first.second.str());
  connections_.erase(it);
}

}  // namespace conflux::caf
