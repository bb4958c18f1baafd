// cache_test.cc's cases on SqliteCacheStore: <test dir>/cache.db.
#include "cache/sqlite_cache_store.h"
#include "tests/cache/cache_store_kind.h"

namespace conflux::test {
namespace {

class SqliteCacheStorage final : public CacheStorage {
 public:
  explicit SqliteCacheStorage(std::string path) : path_(std::move(path)) {}
  Result<std::shared_ptr<cache::CacheStore>> open() override {
    auto store = cache::SqliteCacheStore::open(path_);
    if (!store) return store.error();
    return std::shared_ptr<cache::CacheStore>(std::move(*store));
  }

 private:
  const std::string path_;
};

}  // namespace

std::vector<CacheStoreKind> cache_store_kinds() {
  return {{"SQLite", [](const std::filesystem::path& dir) -> Result<std::unique_ptr<CacheStorage>> {
             return std::unique_ptr<CacheStorage>(std::make_unique<SqliteCacheStorage>((dir / "cache.db").string()));
           }}};
}

}  // namespace conflux::test
