#include <gtest/gtest.h>

#include <pugixml.hpp>

#include "data/xml_document.h"

namespace conflux::data {
namespace {

const char* kBook =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<book id=\"b1\" lang=\"en\">\n  <!-- a classic -->\n  <title>Dune</title>\n  <isbn> 978-0441013593 </isbn>\n"
    "  <author role=\"main\">Frank Herbert</author>\n  <chapter id=\"1\"><title>Prophecy</title></chapter>\n"
    "</book>\n";

std::string text_at(const DataObject& o, const char* xpath) {
  const auto& doc = static_cast<const XmlDocument&>(o).document();
  return doc.select_node(xpath).node().text().get();
}

TEST(XmlDocumentTest, ParsesAndWritesBothXmlTypes) {
  auto doc = parse(kBook, xml_format());
  ASSERT_TRUE(doc.has_value()) << doc.error().to_string();
  ASSERT_EQ((*doc)->kind(), DataKind::kXmlDocument);
  EXPECT_EQ(text_at(**doc, "/book/title"), "Dune");
  for (const Format& f : (*doc)->supported_formats()) {
    auto out = (*doc)->write(f);
    ASSERT_TRUE(out.has_value()) << f.to_string();
    EXPECT_NE(out->find("<!-- a classic -->"), std::string::npos) << *out;
    auto again = XmlDocument::parse(*out, f);
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(*(*again)->write(f), *out);  // a fixed point after one write
    EXPECT_EQ(text_at(**again, "/book/chapter[@id='1']/title"), "Prophecy");
  }
  auto text_xml = parse(kBook, Format{"text/xml", ""});
  ASSERT_TRUE(text_xml.has_value());
  EXPECT_EQ((*text_xml)->kind(), DataKind::kXmlDocument);
  auto refused = (*doc)->write(Format{"text/plain", ""});
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), StatusCode::kInvalidArgument);
}

TEST(XmlDocumentTest, BrokenDocumentsAreRejectedWithTheOffset) {
  for (const char* bad : {"<a><b></a>", "", "just text", "<a x=1/>", "<a></b>"}) {
    SCOPED_TRACE(bad);
    auto doc = parse(bad, xml_format());
    ASSERT_FALSE(doc.has_value());
    EXPECT_EQ(doc.error().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(doc.error().message().find("XML document"), std::string::npos) << doc.error().message();
  }
}

TEST(XmlDocumentTest, ExternalEntitiesAreNotExpanded) {
  const char* xxe = "<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><a>&e;</a>";
  auto doc = parse(xxe, xml_format());
  if (doc) {
    auto out = (*doc)->write(xml_format());
    ASSERT_TRUE(out.has_value());
    EXPECT_EQ(out->find("root:"), std::string::npos);
  } else {
    EXPECT_EQ(doc.error().code(), StatusCode::kInvalidArgument);
  }
}

TEST(XmlDocumentTest, IdentityByKeyElementOrIdAttribute) {
  auto by_attr = XmlDocument::parse(kBook, xml_format());
  ASSERT_TRUE(by_attr.has_value());
  EXPECT_EQ((*by_attr)->identity_key(), "xml:book@id=b1");

  auto by_isbn = XmlDocument::parse(kBook, xml_format(), XmlIdentity{"isbn", "id"});
  ASSERT_TRUE(by_isbn.has_value());
  EXPECT_EQ((*by_isbn)->identity_key(), "xml:book/isbn=978-0441013593");

  auto by_path = XmlDocument::parse(kBook, xml_format(), XmlIdentity{"chapter/title", ""});
  ASSERT_TRUE(by_path.has_value());
  EXPECT_EQ((*by_path)->identity_key(), "xml:book/chapter/title=Prophecy");

  // Key element missing: the id attribute; both missing: no key.
  auto fallback = XmlDocument::parse(kBook, xml_format(), XmlIdentity{"ean", "lang"});
  ASSERT_TRUE(fallback.has_value());
  EXPECT_EQ((*fallback)->identity_key(), "xml:book@lang=en");
  auto none = XmlDocument::parse("<book><title>x</title></book>", xml_format());
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ((*none)->identity_key(), "");
}

TEST(XmlDocumentTest, ElementLevelMerge) {
  auto ours = XmlDocument::parse(
      "<book id='b1'><title>Dune</title><note/><chapter id='1'><title>Prophecy</title></chapter>"
      "<tag>scifi</tag></book>",
      xml_format());
  auto theirs = XmlDocument::parse(
      "<book id='b1' year='1965'><title>Dune (1st ed.)</title><note>signed</note>"
      "<chapter id='1' pages='40'><title>X</title><summary>Arrakis</summary></chapter>"
      "<chapter id='2'><title>Muad'Dib</title></chapter><tag>classic</tag><tag>old</tag></book>",
      xml_format());
  ASSERT_TRUE(ours && theirs);
  auto merged = merge(**ours, **theirs);
  ASSERT_TRUE(merged.has_value()) << merged.error().to_string();
  const DataObject& m = **merged;
  const auto& doc = static_cast<const XmlDocument&>(m).document();
  EXPECT_STREQ(doc.child("book").attribute("year").value(), "1965");
  EXPECT_EQ(text_at(m, "/book/title"), "Dune");   // ours wins
  EXPECT_EQ(text_at(m, "/book/note"), "signed");  // ours was empty
  EXPECT_EQ(text_at(m, "/book/chapter[@id='1']/title"), "Prophecy");
  EXPECT_EQ(text_at(m, "/book/chapter[@id='1']/summary"), "Arrakis");
  EXPECT_STREQ(doc.select_node("/book/chapter[@id='1']").node().attribute("pages").value(), "40");
  EXPECT_EQ(text_at(m, "/book/chapter[@id='2']/title"), "Muad'Dib");
  EXPECT_EQ(doc.select_nodes("/book/chapter").size(), 2u);
  // Same-name siblings pair up by position: our first tag stays, their second is added.
  auto tags = doc.select_nodes("/book/tag");
  ASSERT_EQ(tags.size(), 2u);
  EXPECT_STREQ(tags[0].node().text().get(), "scifi");
  EXPECT_STREQ(tags[1].node().text().get(), "old");
  // Inputs unchanged.
  EXPECT_EQ(text_at(**ours, "/book/note"), "");
}

TEST(XmlDocumentTest, MergeRefusesAnotherRootOrKind) {
  auto a = XmlDocument::parse("<a/>", xml_format());
  auto b = XmlDocument::parse("<b/>", xml_format());
  auto note = parse("n", Format{"text/plain", ""});
  ASSERT_TRUE(a && b && note);
  for (const DataObject* other : std::vector<const DataObject*>{b->get(), note->get()}) {
    auto refused = (*a)->merged_with(*other);
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().code(), StatusCode::kInvalidArgument);
  }
}

TEST(XmlDocumentTest, CloneIsEqualAndKeepsTheIdentityRule) {
  auto doc = XmlDocument::parse(kBook, xml_format(), XmlIdentity{"isbn", ""});
  ASSERT_TRUE(doc.has_value());
  auto copy = (*doc)->clone();
  EXPECT_EQ(*copy->write(xml_format()), *(*doc)->write(xml_format()));
  EXPECT_EQ(copy->identity_key(), (*doc)->identity_key());
  EXPECT_NE(&static_cast<const XmlDocument&>(*copy).document(), &(*doc)->document());
}

}  // namespace
}  // namespace conflux::data
