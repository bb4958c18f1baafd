// cache_test.cc's cases on PgCacheStore: a fresh database per test on the
// binary's PgTestServer; each open() is a connection pool of its own, as a
// restarted process or another node has.
#include "cache/pg_cache_store.h"
#include "tests/cache/cache_store_kind.h"
#include "tests/pg/pg_test_server.h"

namespace conflux::test {
namespace {

class PgCacheStorage final : public CacheStorage {
 public:
  explicit PgCacheStorage(std::string uri) : uri_(std::move(uri)) {}
  Result<std::shared_ptr<cache::CacheStore>> open() override {
    auto db = PgDb::open(uri_);
    if (!db) return db.error();
    auto store = cache::PgCacheStore::open(std::move(*db));
    if (!store) return store.error();
    return std::shared_ptr<cache::CacheStore>(std::move(*store));
  }

 private:
  const std::string uri_;
};

}  // namespace

std::vector<CacheStoreKind> cache_store_kinds() {
  return {{"PostgreSQL", [](const std::filesystem::path&) -> Result<std::unique_ptr<CacheStorage>> {
             auto server = PgTestServer::shared();
             if (!server) return server.error();
             auto uri = (*server)->create_database();
             if (!uri) return uri.error();
             return std::unique_ptr<CacheStorage>(std::make_unique<PgCacheStorage>(*uri));
           }}};
}

}  // namespace conflux::test
