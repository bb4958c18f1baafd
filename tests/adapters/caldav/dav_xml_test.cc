// The caldav adapter's XML, read from Radicale 3.1.8's recorded responses
// (tests/data/dav/MANIFEST.md) and written for its requests.
#include "adapters/caldav/dav_xml.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace conflux::adapters {
namespace {

std::string recorded(const std::string& name) {
  std::ifstream in(std::string(CONFLUX_TEST_DATA_DIR) + "/dav/" + name, std::ios::binary);
  EXPECT_TRUE(in) << name;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(DavXml, CollectionPropfindSaysAddressBookWithSyncCollectionAndCtag) {
  auto ms = parse_multistatus(recorded("propfind_collection.xml"));
  ASSERT_TRUE(ms) << ms.error().to_string();
  ASSERT_EQ(ms->responses.size(), 1u);
  const DavResponse& c = ms->responses[0];
  EXPECT_EQ(c.href, "/alice/contacts/");
  EXPECT_TRUE(c.is_collection);
  EXPECT_TRUE(c.is_addressbook);
  EXPECT_FALSE(c.is_calendar);
  EXPECT_TRUE(c.reports.count("sync-collection"));
  EXPECT_TRUE(c.reports.count("addressbook-multiget"));
  EXPECT_EQ(c.ctag, "\"851d5a7f03cb6bf08014bebf442b0f8fd5192f90a2f3cd5b2cb3e9469e445e26\"");
  EXPECT_EQ(c.sync_token,
            "http://radicale.org/ns/sync/7b1796ba9bb04b0b6c76d098c047ba739fc4cf8ed9c586ccd3dc3388a1ce2b43");
  EXPECT_EQ(c.components, (std::set<std::string>{"VEVENT", "VJOURNAL", "VTODO"}));
}

TEST(DavXml, FullSyncCollectionListsMembersWithEtagsAndTheNewToken) {
  auto ms = parse_multistatus(recorded("sync_full.xml"));
  ASSERT_TRUE(ms) << ms.error().to_string();
  EXPECT_EQ(ms->sync_token,
            "http://radicale.org/ns/sync/7b1796ba9bb04b0b6c76d098c047ba739fc4cf8ed9c586ccd3dc3388a1ce2b43");
  ASSERT_EQ(ms->responses.size(), 1u);
  EXPECT_EQ(ms->responses[0].href, "/alice/contacts/c1.vcf");
  EXPECT_EQ(ms->responses[0].status, 0);
  EXPECT_EQ(ms->responses[0].etag, "\"01d1cbe82d945c750f4a38b384cba619119b459e97e93b2e0c6fe678e2b631ae\"");
}

TEST(DavXml, DeltaSyncCollectionReportsTheDeletedMemberAs404) {
  auto ms = parse_multistatus(recorded("sync_delta.xml"));
  ASSERT_TRUE(ms) << ms.error().to_string();
  ASSERT_EQ(ms->responses.size(), 2u);
  EXPECT_EQ(ms->responses[0].href, "/alice/contacts/c1.vcf");
  EXPECT_EQ(ms->responses[0].status, 404);
  EXPECT_EQ(ms->responses[0].etag, "");
  EXPECT_EQ(ms->responses[1].href, "/alice/contacts/c2.vcf");
  EXPECT_EQ(ms->responses[1].etag, "\"6755c3fe4db86d6803da943f158f8c00681ca4c87a20ef35bd1b309c93f89fda\"");
  EXPECT_NE(ms->sync_token,
            "http://radicale.org/ns/sync/7b1796ba9bb04b0b6c76d098c047ba739fc4cf8ed9c586ccd3dc3388a1ce2b43");
}

TEST(DavXml, UnknownTokenErrorNamesValidSyncToken) {
  const std::string body = recorded("sync_bad_token.xml");
  EXPECT_EQ(parse_error_conditions(body), std::vector<std::string>{"valid-sync-token"});
  EXPECT_FALSE(parse_multistatus(body)) << "an error body is no multistatus";
}

TEST(DavXml, MultigetGivesTheDataAndTheMissingHrefAs404) {
  auto ms = parse_multistatus(recorded("multiget.xml"));
  ASSERT_TRUE(ms) << ms.error().to_string();
  ASSERT_EQ(ms->responses.size(), 2u);
  EXPECT_EQ(ms->responses[0].status, 404);
  EXPECT_FALSE(ms->responses[0].has_data);
  EXPECT_TRUE(ms->responses[1].has_data);
  EXPECT_EQ(ms->responses[1].data, "BEGIN:VCARD\nVERSION:3.0\nUID:u2\nFN:Cleo\nN:;Cleo;;;\nEND:VCARD\n");
}

TEST(DavXml, NoUidConflictIsFoundWithOrWithoutHref) {
  EXPECT_EQ(parse_error_conditions(recorded("no_uid_conflict.xml")), std::vector<std::string>{"no-uid-conflict"});
  EXPECT_EQ(parse_no_uid_conflict_href(recorded("no_uid_conflict.xml")), "");
  // RFC 6352 §6.3.2.1 lets the server name the member holding the UID.
  EXPECT_EQ(parse_no_uid_conflict_href("<D:error xmlns:D=\"DAV:\" xmlns:C=\"urn:ietf:params:xml:ns:carddav\">"
                                       "<C:no-uid-conflict><D:href>/alice/contacts/c1.vcf</D:href>"
                                       "</C:no-uid-conflict></D:error>"),
            "/alice/contacts/c1.vcf");
}

TEST(DavXml, TruncationIs507OnTheCollectionItself) {
  // RFC 6578 §3.6 example shape: the request-URI with 507.
  auto ms = parse_multistatus(
      "<D:multistatus xmlns:D=\"DAV:\"><D:response><D:href>/alice/contacts/</D:href>"
      "<D:status>HTTP/1.1 507 Insufficient Storage</D:status></D:response>"
      "<D:sync-token>tok-2</D:sync-token></D:multistatus>");
  ASSERT_TRUE(ms);
  ASSERT_EQ(ms->responses.size(), 1u);
  EXPECT_EQ(ms->responses[0].status, 507);
  EXPECT_EQ(ms->sync_token, "tok-2");
}

TEST(DavXml, GarbageIsUnavailableNotACrash) {
  for (const char* body : {"", "<html><body>Bad Gateway</body></html>", "<multistatus", "\xff\xfe<"}) {
    auto ms = parse_multistatus(body);
    ASSERT_FALSE(ms) << body;
    EXPECT_TRUE(ms.error().is_unavailable()) << body;
  }
  EXPECT_TRUE(parse_error_conditions("not xml").empty());
}

TEST(DavXml, RequestBodiesEscapeHrefsAndTokens) {
  const std::string multiget = multiget_body(DavKind::kCalendar, {"/a/cal/x&y.ics"});
  EXPECT_NE(multiget.find("<C:calendar-multiget"), std::string::npos);
  EXPECT_NE(multiget.find("<D:href>/a/cal/x&amp;y.ics</D:href>"), std::string::npos);
  EXPECT_NE(multiget.find("<C:calendar-data/>"), std::string::npos);
  EXPECT_NE(sync_collection_body("").find("<D:sync-token></D:sync-token>"), std::string::npos);
  EXPECT_NE(sync_collection_body("a<b").find("<D:sync-token>a&lt;b</D:sync-token>"), std::string::npos);
  EXPECT_TRUE(parse_multistatus("<multistatus xmlns='DAV:'/>")) << "an empty multistatus is one";
}

TEST(DavXml, UidQueriesFilterOnTheUidOfTheRightComponent) {
  const std::string card = uid_query_body(DavKind::kAddressbook, "", "a<b");
  EXPECT_NE(card.find("<C:addressbook-query"), std::string::npos);
  EXPECT_NE(card.find("<C:prop-filter name=\"UID\"><C:text-match collation=\"i;octet\" match-type=\"equals\">"
                      "a&lt;b</C:text-match>"),
            std::string::npos)
      << card;
  EXPECT_NE(card.find("<C:address-data/>"), std::string::npos);
  const std::string task = uid_query_body(DavKind::kCalendar, "VTODO", "t-1");
  EXPECT_NE(task.find("<C:comp-filter name=\"VCALENDAR\"><C:comp-filter name=\"VTODO\"><C:prop-filter name=\"UID\">"),
            std::string::npos)
      << task;
  EXPECT_EQ(task.find("match-type"), std::string::npos) << "CalDAV's text-match has no match-type";
}

}  // namespace
}  // namespace conflux::adapters
