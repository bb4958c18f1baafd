#include "tests/common/temp_dir.h"
#include "tests/notify/outbox_suite.h"

namespace conflux::notify {
namespace {

// Each open() is another connection to one conflux.db, as two servers sharing the file.
class SqliteOutboxDatabase {
 public:
  std::unique_ptr<Outbox> open() {
    auto db = SqliteDb::open((dir_.path() / "conflux.db").string());
    EXPECT_TRUE(db.has_value());
    auto box = open_sqlite_outbox(std::shared_ptr<SqliteDb>(std::move(*db)));
    EXPECT_TRUE(box.has_value()) << box.error().to_string();
    return std::move(*box);
  }

 private:
  test::TempDir dir_{"outbox"};
};

INSTANTIATE_TYPED_TEST_SUITE_P(SQLite, OutboxSuite, SqliteOutboxDatabase);

}  // namespace
}  // namespace conflux::notify
