#include "data/xml_document.h"

#include <pugixml.hpp>

#include <map>
#include <sstream>
#include <utility>
#include <vector>

#include "data/text_codec.h"

namespace conflux::data {
namespace {

std::string trimmed(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

using ChildKey = std::pair<std::string, std::string>;  // element name, id attribute value

ChildKey child_key(const pugi::xml_node& n, const std::string& id_attribute) {
  return {n.name(), id_attribute.empty() ? "" : n.attribute(id_attribute.c_str()).value()};
}

bool has_element_children(const pugi::xml_node& n) {
  return static_cast<bool>(n.find_child([](const pugi::xml_node& c) { return c.type() == pugi::node_element; }));
}

void merge_element(pugi::xml_node ours, const pugi::xml_node& theirs, const std::string& id_attribute) {
  for (const pugi::xml_attribute& a : theirs.attributes()) {
    if (!ours.attribute(a.name())) ours.append_attribute(a.name()) = a.value();
  }
  if (!has_element_children(ours) && trimmed(ours.text().get()).empty() && !trimmed(theirs.text().get()).empty()) {
    ours.text().set(theirs.text().get());
  }
  std::map<ChildKey, std::vector<pugi::xml_node>> our_children;
  for (pugi::xml_node c : ours.children()) {
    if (c.type() == pugi::node_element) our_children[child_key(c, id_attribute)].push_back(c);
  }
  std::map<ChildKey, size_t> seen;
  for (const pugi::xml_node& c : theirs.children()) {
    if (c.type() != pugi::node_element) continue;
    ChildKey key = child_key(c, id_attribute);
    size_t n = seen[key]++;
    auto it = our_children.find(key);
    if (it != our_children.end() && n < it->second.size()) {
      merge_element(it->second[n], c, id_attribute);
    } else {
      ours.append_copy(c);
    }
  }
}

}  // namespace

XmlDocument::XmlDocument(std::unique_ptr<pugi::xml_document>&& doc, Format source, XmlIdentity identity)
    : doc_(std::move(doc)), source_(std::move(source)), identity_(std::move(identity)) {}

XmlDocument::~XmlDocument() = default;

Result<std::unique_ptr<XmlDocument>> XmlDocument::parse(std::string_view bytes, const Format& format,
                                                        XmlIdentity identity) {
  std::string type = ascii_lower(format.mime_type);
  if (type != "application/xml" && type != "text/xml") {
    return Status::invalid_argument("an XML document cannot be read from " + format.to_string());
  }
  auto doc = std::make_unique<pugi::xml_document>();
  pugi::xml_parse_result parsed =
      doc->load_buffer(bytes.data(), bytes.size(), pugi::parse_default | pugi::parse_comments);
  if (!parsed) {
    return Status::invalid_argument(std::string("XML document: ") + parsed.description() + " at byte " +
                                    std::to_string(parsed.offset));
  }
  if (!doc->document_element()) return Status::invalid_argument("XML document: no root element");
  return std::make_unique<XmlDocument>(std::move(doc), Format{type, ""}, std::move(identity));
}

Result<std::string> XmlDocument::write(const Format& format) const {
  std::string type = ascii_lower(format.mime_type);
  if (type != "application/xml" && type != "text/xml") {
    return Status::invalid_argument("an XML document cannot be written as " + format.to_string());
  }
  std::ostringstream out;
  doc_->save(out, "", pugi::format_raw);
  return out.str();
}

std::string XmlDocument::identity_key() const {
  pugi::xml_node root = doc_->document_element();
  std::string prefix = std::string("xml:") + root.name();
  if (!identity_.key_element.empty()) {
    pugi::xml_node key = root.first_element_by_path(identity_.key_element.c_str());
    std::string text = key ? trimmed(key.text().get()) : "";
    if (!text.empty()) return prefix + "/" + identity_.key_element + "=" + text;
  }
  if (!identity_.id_attribute.empty()) {
    pugi::xml_attribute id = root.attribute(identity_.id_attribute.c_str());
    if (id && *id.value()) return prefix + "@" + identity_.id_attribute + "=" + id.value();
  }
  return "";
}

Result<std::unique_ptr<DataObject>> XmlDocument::merged_with(const DataObject& theirs) const {
  if (theirs.kind() != DataKind::kXmlDocument) {
    return Status::invalid_argument(std::string("cannot merge an XML document with a ") +
                                    data_kind_name(theirs.kind()));
  }
  const pugi::xml_node their_root = static_cast<const XmlDocument&>(theirs).document().document_element();
  auto result = std::make_unique<pugi::xml_document>();
  result->reset(*doc_);
  pugi::xml_node our_root = result->document_element();
  if (std::string_view(our_root.name()) != their_root.name()) {
    return Status::invalid_argument(std::string("cannot merge <") + our_root.name() + "> with <" + their_root.name() +
                                    ">");
  }
  merge_element(our_root, their_root, identity_.id_attribute);
  return std::unique_ptr<DataObject>(std::make_unique<XmlDocument>(std::move(result), source_, identity_));
}

std::unique_ptr<DataObject> XmlDocument::clone() const {
  auto copy = std::make_unique<pugi::xml_document>();
  copy->reset(*doc_);
  return std::make_unique<XmlDocument>(std::move(copy), source_, identity_);
}

}  // namespace conflux::data
