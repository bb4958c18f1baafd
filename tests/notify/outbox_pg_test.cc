#include "tests/notify/outbox_suite.h"
#include "tests/pg/pg_test_server.h"

namespace conflux::notify {
namespace {

// Each open() is another connection pool on one fresh database, as two servers.
class PgOutboxDatabase {
 public:
  std::unique_ptr<Outbox> open() {
    if (uri_.empty()) {
      auto server = test::PgTestServer::shared();
      EXPECT_TRUE(server.has_value()) << server.error().to_string();
      auto uri = (*server)->create_database();
      EXPECT_TRUE(uri.has_value());
      uri_ = *uri;
    }
    auto db = PgDb::open(uri_);
    EXPECT_TRUE(db.has_value()) << db.error().to_string();
    auto box = open_pg_outbox(*db);
    EXPECT_TRUE(box.has_value()) << box.error().to_string();
    return std::move(*box);
  }

 private:
  std::string uri_;
};

INSTANTIATE_TYPED_TEST_SUITE_P(PostgreSQL, OutboxSuite, PgOutboxDatabase);

}  // namespace
}  // namespace conflux::notify
