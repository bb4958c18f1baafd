#include "http_client.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace conflux::loadgen {
namespace {

TEST(LoadgenHttpUrl, HostPortAndTarget) {
  auto u = parse_http_url("http://127.0.0.1:8080/sync?sid=abc");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, "8080");
  EXPECT_EQ(u->target, "/sync?sid=abc");
}

TEST(LoadgenHttpUrl, DefaultsToPort80AndRootPath) {
  auto u = parse_http_url("http://example.org");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->port, "80");
  EXPECT_EQ(u->target, "/");
  auto q = parse_http_url("http://example.org?x=1");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->target, "/?x=1");
}

TEST(LoadgenHttpUrl, RefusesOtherSchemesAndEmptyHosts) {
  EXPECT_FALSE(parse_http_url("https://example.org/sync"));
  EXPECT_FALSE(parse_http_url("example.org/sync"));
  EXPECT_FALSE(parse_http_url("http:///sync"));
  EXPECT_FALSE(parse_http_url("http://host:/sync"));
}

TEST(LoadgenHttpClient, AnUnreachableServerIsUnavailable) {
  HttpClient client(std::chrono::seconds(5));
  // Port 1 on loopback: nothing listens there, the connect is refused at once.
  auto reply = client.post("http://127.0.0.1:1/sync", "application/vnd.syncml+xml", "<SyncML/>");
  ASSERT_FALSE(reply);
  EXPECT_TRUE(reply.error().is_unavailable());
}

TEST(LoadgenHttpClient, AServerThatNeverAnswersEndsInAnError) {
  // A listener whose backlog accepts the connection but nobody ever reads or
  // answers: without a timeout the device would wait forever.
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor silent(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  const std::string url = "http://127.0.0.1:" + std::to_string(silent.local_endpoint().port()) + "/sync";
  HttpClient client(std::chrono::milliseconds(50));
  auto reply = client.post(url, "application/vnd.syncml+xml", "<SyncML/>");
  ASSERT_FALSE(reply);
  EXPECT_TRUE(reply.error().is_unavailable());
}

}  // namespace
}  // namespace conflux::loadgen
