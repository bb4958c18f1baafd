// XmlDocument: a DataObject holding one XML document (MISSION §4 "Data
// objects"), parsed with pugixml, read and written as application/xml and
// text/xml. pugixml expands no external entities and loads no DTDs, so a
// hostile document cannot reach files or the network. Comments are kept,
// whitespace-only text between elements is not.
//
// Identity (duplicate detection) is configurable through XmlIdentity, which
// the caller passes to XmlDocument::parse (data::parse uses the default):
// the text of a key element (a path below the root, e.g. "isbn" or
// "meta/id") or, when none is set or found, a stable id attribute of the
// root element ("id" by default). No configuration key sets it yet.
//
// Thread rule: immutable after parse; const methods from any thread.
#pragma once

#include <memory>
#include <string>

#include "data/data_object.h"

namespace pugi {
class xml_document;
}

namespace conflux::data {

inline Format xml_format() { return {"application/xml", ""}; }

struct XmlIdentity {
  std::string key_element;          // path below the root; empty = none
  std::string id_attribute = "id";  // attribute of the root; empty = none
};

class XmlDocument final : public DataObject {
 public:
  XmlDocument(std::unique_ptr<pugi::xml_document>&& doc, Format source, XmlIdentity identity);
  ~XmlDocument() override;

  // One well-formed document with a root element; kInvalidArgument with
  // pugixml's reason and the byte offset otherwise.
  static Result<std::unique_ptr<XmlDocument>> parse(std::string_view bytes, const Format& format,
                                                    XmlIdentity identity = {});

  DataKind kind() const override { return DataKind::kXmlDocument; }
  Format source_format() const override { return source_; }
  std::vector<Format> supported_formats() const override { return {xml_format(), {"text/xml", ""}}; }
  // The document without indentation, with an XML declaration.
  Result<std::string> write(const Format& format) const override;

  // "xml:" + root name + "/" + key element + "=" + its trimmed text, else
  // "xml:" + root name + "@" + id attribute + "=" + its value; empty when
  // neither is there.
  std::string identity_key() const override;

  // Element by element, ours winning. Children are matched by name and
  // id-attribute value, the n-th of theirs to the n-th of ours; matched
  // elements merge recursively (attributes ours lacks are added; text is
  // ours unless ours is empty); elements of theirs with no match are
  // appended. kInvalidArgument for another kind or another root element.
  Result<std::unique_ptr<DataObject>> merged_with(const DataObject& theirs) const override;

  std::unique_ptr<DataObject> clone() const override;

  // The parsed document (borrowed; lives as long as the object).
  const pugi::xml_document& document() const { return *doc_; }

 private:
  const std::unique_ptr<pugi::xml_document> doc_;
  const Format source_;
  const XmlIdentity identity_;
};

}  // namespace conflux::data
