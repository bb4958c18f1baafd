// Back-end connections per user for datastores without the cache (seed
// p. 16, "session handling without cache": beginConnect/endConnect). The
// Content Manager leases a connection around every call to such a store: the
// first lease for (datastore, user) calls the adapter's begin_connect, later
// ones reuse it — within a session and across sessions — until it has been
// idle for `idle_seconds`; then end_connect. At most `max_connections` are
// open: opening one more ends the least recently used idle one; when every
// one is leased the lease is refused with kResourceExhausted.
//
// Threading: any method from any thread (one mutex). begin_connect and
// end_connect run under it, so a slow back end holds up other leases; the
// embedded back ends connect at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "caf/content_adapter.h"
#include "common/clock.h"

namespace conflux::caf {

struct ConnectionPoolOptions {
  // A connection unused this long is ended; longer keeps back-end sessions
  // open for users who sync again soon, at the cost of open connections.
  int64_t idle_seconds = 300;
  size_t max_connections = 256;
};

class ConnectionPool {
 public:
  // Holds a connection open while it lives; the destructor marks it idle.
  class Lease {
   public:
    Lease(Lease&& other) noexcept : pool_(std::exchange(other.pool_, nullptr)), key_(std::move(other.key_)) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease();

   private:
    friend class ConnectionPool;
    Lease(ConnectionPool* pool, std::pair<std::string, UserId> key) : pool_(pool), key_(std::move(key)) {}
    ConnectionPool* pool_;  // null once moved from
    std::pair<std::string, UserId> key_;
  };

  // `clock` must outlive the pool; so must every adapter passed to lease().
  ConnectionPool(const Clock& clock, ConnectionPoolOptions options);
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;
  ~ConnectionPool();  // ends every connection; no lease may outlive the pool

  // A connection of `user` to `database` (served by `adapter`), opened with
  // `credentials` (may be null; see ContentAdapter::begin_connect) when none
  // is open. Ends connections idle too long first. The error of
  // begin_connect as it returned it; kResourceExhausted when the pool is full
  // of leased connections.
  Result<Lease> lease(const std::string& database, ContentAdapter& adapter, const UserId& user,
                      const Credentials* credentials);

  // Ends the connections idle for idle_seconds or more (lease() does this too).
  void close_idle();
  size_t open_connections() const;

 private:
  struct Connection {
    ContentAdapter* adapter;
    int64_t last_used;
    int leases = 0;
  };
  using Key = std::pair<std::string, UserId>;
  void release(const Key& key);
  void close_idle_locked(int64_t now);               // requires mutex_
  void end(std::map<Key, Connection>::iterator it);  // requires mutex_

  const Clock& clock_;
  const ConnectionPoolOptions options_;
  mutable std::mutex mutex_;
  std::map<Key, Connection> connections_;  // guarded by mutex_
};

}  // namespace conflux::caf
