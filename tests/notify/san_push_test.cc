#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "notify/san_push.h"
#include "tests/common/temp_dir.h"

namespace conflux::notify {
namespace {

// A UDP socket on loopback standing in for an SMS gateway's WDP port.
class UdpSink {
 public:
  UdpSink() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~UdpSink() { ::close(fd_); }
  std::string where() const { return "127.0.0.1:" + std::to_string(port_); }
  // Every datagram already received.
  std::vector<std::string> drain() {
    std::vector<std::string> out;
    char buf[2048];
    for (;;) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
      if (n < 0) return out;
      out.emplace_back(buf, static_cast<size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

config::Config two_devices(const std::string& udp) {
  config::Config c = config::default_config();
  c.notify.push_debounce_seconds = 5;
  c.push = {config::PushConfig{"ann", "phone", "", udp, ""}, config::PushConfig{"ann", "tablet", "", udp, "srv"}};
  return c;
}

// The outbox in a conflux.db of its own; each open() another connection, as
// another server (or the same one restarted) would have.
class OutboxFile {
 public:
  std::unique_ptr<Outbox> open() {
    auto db = SqliteDb::open((dir_.path() / "conflux.db").string());
    EXPECT_TRUE(db.has_value());
    auto box = open_sqlite_outbox(std::shared_ptr<SqliteDb>(std::move(*db)));
    EXPECT_TRUE(box.has_value());
    return std::move(*box);
  }

 private:
  test::TempDir dir_{"san"};
};

SanNotifier::HasSynced synced_all_but_tablet_notes() {
  return [](const UserId&, const DeviceId& device, const std::string& database) {
    return !(device.str() == "tablet" && database == "notes");  // the tablet never synced notes
  };
}

SanNotifier::Credential credential() {
  return [](const UserId&) -> Result<std::string> { return std::string("c2VjcmV0"); };
}

caf::ChangeEvent change(const std::string& database, caf::ChangeSource source, const std::string& device = "") {
  return caf::ChangeEvent{UserId("ann"), database, source, DeviceId(device), {{caf::Action::kUpdate, Guid("g1")}}};
}

TEST(SanPush, ABurstOfChangesAlertsEachOtherDeviceOnceWithEveryChangedDatastore) {
  UdpSink sink;
  ManualClock clock(1000);
  OutboxFile file;
  auto outbox = file.open();
  SanNotifier san(*outbox, clock, "node-1", two_devices(sink.where()), synced_all_but_tablet_notes(), credential());
  san.on_change(change("contacts", caf::ChangeSource::kBackend));
  clock.advance(3);
  san.on_change(change("contacts", caf::ChangeSource::kBackend));  // the burst goes on: due at 1008
  EXPECT_EQ(san.send_due(clock.now_seconds()), 0) << "sent within the burst";
  clock.advance(3);
  // The phone's own change, to a datastore the tablet never synced: alerts nobody.
  san.on_change(change("notes", caf::ChangeSource::kDevice, "phone"));
  clock.advance(1);
  EXPECT_EQ(san.send_due(clock.now_seconds()), 0) << "sent before the burst was 5 s over";
  clock.advance(1);
  EXPECT_EQ(san.send_due(clock.now_seconds()), 2);
  clock.advance(60);
  EXPECT_EQ(san.send_due(clock.now_seconds()), 0) << "alerted twice for one burst";

  std::vector<std::string> pdus;
  for (int i = 0; i < 100 && pdus.size() < 2; ++i) {
    for (auto& p : sink.drain()) pdus.push_back(std::move(p));
    if (pdus.size() < 2) ::usleep(10000);  // loopback datagrams are there at once; this only spaces the polls
  }
  ASSERT_EQ(pdus.size(), 2u);
  std::map<std::string, std::string> by_server_id;
  for (const auto& pdu : pdus) {
    // WSP connectionless push: tid, 0x06 Push, headers length 1, 0xCE.
    ASSERT_GE(pdu.size(), 4u + 16u + 8u);
    EXPECT_EQ(static_cast<uint8_t>(pdu[1]), 0x06);
    EXPECT_EQ(static_cast<uint8_t>(pdu[2]), 1);
    EXPECT_EQ(static_cast<uint8_t>(pdu[3]), 0xCE);
    const std::string body = pdu.substr(4 + 16);
    const size_t id_length = static_cast<uint8_t>(body[7]);
    by_server_id[body.substr(8, id_length)] = body.substr(8 + id_length);
  }
  // Each device once, for contacts only (notes: the phone's own change,
  // and the tablet never synced it); server id: the user, or as configured.
  for (const char* id : {"ann", "srv"}) {
    ASSERT_TRUE(by_server_id.count(id)) << id;
    const std::string& syncs = by_server_id[id];
    EXPECT_EQ(static_cast<uint8_t>(syncs[0]) >> 4, 1) << id;  // one datastore
    EXPECT_EQ(static_cast<uint8_t>(syncs[1]) >> 4, 6) << id;  // 206 - 200
    EXPECT_EQ(syncs.substr(6, static_cast<uint8_t>(syncs[5])), "contacts") << id;
  }
  EXPECT_EQ(san.counters().sent.load(), 2);
}

TEST(SanPush, ADeviceThatNeverSyncedTheDatastoreIsNotAlerted) {
  UdpSink sink;
  ManualClock clock(1000);
  OutboxFile file;
  auto outbox = file.open();
  SanNotifier san(
      *outbox, clock, "node-1", two_devices(sink.where()),
      [](const UserId&, const DeviceId&, const std::string&) { return false; }, credential());
  san.on_change(change("contacts", caf::ChangeSource::kBackend));
  clock.advance(60);
  EXPECT_EQ(san.send_due(clock.now_seconds()), 0);
}

// The pending alert is in the database: a server that stops inside the
// debounce window (here: its notifier goes) loses nothing; of two servers on
// the one outbox, one sends it.
TEST(SanPush, APendingAlertOutlivesItsServerAndOneOfTwoSendsIt) {
  UdpSink sink;
  ManualClock clock(1000);
  OutboxFile file;
  {
    auto outbox = file.open();
    SanNotifier heard(*outbox, clock, "node-1", two_devices(sink.where()), synced_all_but_tablet_notes(), credential());
    heard.on_change(change("contacts", caf::ChangeSource::kDevice, "tablet"));  // alerts the phone only
  }
  clock.advance(5);
  auto box_a = file.open();
  auto box_b = file.open();
  SanNotifier a(*box_a, clock, "node-1", two_devices(sink.where()), synced_all_but_tablet_notes(), credential());
  SanNotifier b(*box_b, clock, "node-2", two_devices(sink.where()), synced_all_but_tablet_notes(), credential());
  EXPECT_EQ(a.send_due(clock.now_seconds()) + b.send_due(clock.now_seconds()), 1);
  clock.advance(600);  // past any lease
  EXPECT_EQ(a.send_due(clock.now_seconds()) + b.send_due(clock.now_seconds()), 0) << "sent twice";
}

TEST(SanPush, WspPushPduWrapsTheNotification) {
  EXPECT_EQ(wsp_push_pdu(7, "SAN"), std::string("\x07\x06\x01\xCE", 4) + "SAN");
}

}  // namespace
}  // namespace conflux::notify
