// The cache store implementations cache_test.cc's cases run on: the
// cache_test binary defines cache_store_kinds() with SQLite
// (sqlite_cache_kind.cc), cache_pg_test with PostgreSQL (pg_cache_kind.cc) —
// one binary per implementation, so the PostgreSQL one starts one server for
// all its cases, as tests/store does.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cache/cache_store.h"

namespace conflux::test {

// One test's cache storage: empty when made, kept until the test ends.
class CacheStorage {
 public:
  virtual ~CacheStorage() = default;
  // A new handle on the storage, as a restarted process or a second node
  // opens it: sees everything committed through any other handle.
  virtual Result<std::shared_ptr<cache::CacheStore>> open() = 0;
};

struct CacheStoreKind {
  std::string name;  // the test name's suffix
  // Fresh storage for one test; `dir` is the test's own directory.
  std::function<Result<std::unique_ptr<CacheStorage>>(const std::filesystem::path& dir)> create;
};

std::vector<CacheStoreKind> cache_store_kinds();

}  // namespace conflux::test
