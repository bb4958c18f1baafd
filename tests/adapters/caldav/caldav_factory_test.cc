// The caldav store section: every bad key named, the good ones accepted.
#include <gtest/gtest.h>

#include "adapters/caldav/caldav_adapter.h"

namespace conflux::adapters {
namespace {

caf::StoreSettings settings(caf::StoreOptions options, std::string type = "text/vcard") {
  caf::StoreSettings s;
  s.name = "contacts";
  s.adapter = "caldav";
  s.content_type = std::move(type);
  s.options = std::move(options);
  s.login = caf::BackendLogin::kPerUser;
  return s;
}

std::string error_of(const caf::StoreSettings& s) {
  Status st = CaldavAdapterFactory().validate(s);
  return st.is_ok() ? "" : st.message();
}

TEST(CaldavFactory, AcceptsACollectionUrlOrABaseUrl) {
  EXPECT_EQ(error_of(settings({{"collection_url", "http://127.0.0.1:1/{user}/contacts/"}})), "");
  EXPECT_EQ(error_of(settings({{"url", "https://dav.example.org/"}, {"collection", "work"}})), "");
  EXPECT_EQ(error_of(settings({{"url", "https://dav.example.org/"},
                               {"component", "VTODO"},
                               {"multiget_batch", int64_t{10}},
                               {"server_quirks", "radicale"}},
                              "text/calendar")),
            "");
}

TEST(CaldavFactory, NamesTheBadKey) {
  EXPECT_NE(error_of(settings({})).find("stores.contacts.url:"), std::string::npos);
  EXPECT_NE(error_of(settings({{"url", "http://a/"}, {"collection_url", "http://a/{user}/"}})).find("either"),
            std::string::npos);
  EXPECT_NE(error_of(settings({{"collection_url", "http://a/shared/"}})).find("{user}"), std::string::npos);
  EXPECT_NE(error_of(settings({{"url", "ftp://a/"}})).find("stores.contacts.url: must be an http"), std::string::npos);
  EXPECT_NE(error_of(settings({{"url", "http://a/"}, {"component", "VTODO"}})).find("only for content_type"),
            std::string::npos);
  EXPECT_NE(error_of(settings({{"url", "http://a/"}, {"component", "VJOURNAL"}}, "text/calendar"))
                .find("one of VEVENT, VTODO"),
            std::string::npos);
  EXPECT_EQ(error_of(settings({{"url", "http://a/"}, {"multiget_batch", int64_t{0}}})),
            "stores.contacts.multiget_batch: must be an integer from 1 to 1000");
  // A number in quotes is text, not a number: refused with the key named.
  EXPECT_EQ(error_of(settings({{"url", "http://a/"}, {"multiget_batch", "ten"}})),
            "stores.contacts.multiget_batch: must be an integer from 1 to 1000");
  EXPECT_EQ(error_of(settings({{"url", "http://a/"}, {"timeout_seconds", "30"}})),
            "stores.contacts.timeout_seconds: must be an integer from 1 to 3600");
  EXPECT_NE(error_of(settings({{"url", "http://a/"}, {"server_quirks", "exchange"}})).find("radicale"),
            std::string::npos);
  EXPECT_NE(error_of(settings({{"url", "http://a/"}, {"colour", "red"}})).find("stores.contacts.colour: unknown"),
            std::string::npos);
  EXPECT_NE(error_of(settings({{"url", "http://a/"}}, "text/plain")).find("content_type"), std::string::npos);
}

TEST(CaldavFactory, ServiceLoginNeedsACollectionUrlPerUser) {
  auto s = settings({{"url", "http://a/"}});
  s.login = caf::BackendLogin::kService;
  EXPECT_NE(error_of(s).find("collection_url"), std::string::npos);
}

TEST(CaldavFactory, EveryQuirkEntryHasAName) {
  ASSERT_FALSE(dav_server_quirks().empty());
  EXPECT_EQ(dav_server_quirks().front().name, "generic");
  for (const auto& q : dav_server_quirks()) EXPECT_EQ(find_dav_server_quirks(q.name), &q);
}

}  // namespace
}  // namespace conflux::adapters
