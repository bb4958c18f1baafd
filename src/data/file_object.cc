#include "data/file_object.h"

#include <pugixml.hpp>

#include <algorithm>
#include <cstring>
#include <sstream>

#include "common/base64.h"
#include "common/digest.h"
#include "data/text_codec.h"

namespace conflux::data {
namespace {

constexpr const char* kAttributeFlags = "hsadwrx";
constexpr const char* kOctetStream = "application/octet-stream";

std::string trimmed(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

std::string node_xml(const pugi::xml_node& node) {
  std::ostringstream out;
  node.print(out, "", pugi::format_raw);
  return out.str();
}

Result<bool> parse_flag(const pugi::xml_node& flag) {
  std::string v = ascii_lower(trimmed(flag.text().get()));
  if (v == "true") return true;
  if (v == "false") return false;
  return Status::invalid_argument("<attributes><" + std::string(flag.name()) + ">: expected true or false, got '" +
                                  v.substr(0, 20) + "'");
}

Result<FileFields> parse_omads(std::string_view bytes) {
  pugi::xml_document doc;
  pugi::xml_parse_result parsed = doc.load_buffer(bytes.data(), bytes.size(), pugi::parse_default);
  if (!parsed) {
    return Status::invalid_argument(std::string("not XML: ") + parsed.description() + " at byte " +
                                    std::to_string(parsed.offset));
  }
  pugi::xml_node root = doc.document_element();
  if (std::string_view(root.name()) != "File") {
    return Status::invalid_argument("root element is <" + std::string(root.name()) + ">, not <File>");
  }
  FileFields file;
  std::string size_text;
  bool have_body = false;
  for (pugi::xml_node child : root.children()) {
    if (child.type() != pugi::node_element) continue;
    std::string_view name = child.name();
    if (name == "name") {
      file.name = child.text().get();
    } else if (name == "created") {
      file.created = trimmed(child.text().get());
    } else if (name == "modified") {
      file.modified = trimmed(child.text().get());
    } else if (name == "accessed") {
      file.accessed = trimmed(child.text().get());
    } else if (name == "cttype") {
      file.content_type = ascii_lower(trimmed(child.text().get()));
    } else if (name == "size") {
      size_text = trimmed(child.text().get());
    } else if (name == "attributes") {
      for (pugi::xml_node flag : child.children()) {
        if (flag.type() != pugi::node_element) continue;
        std::string letter = flag.name();
        if (letter.size() != 1 || !std::strchr(kAttributeFlags, letter[0])) {
          return Status::invalid_argument("<attributes>: unknown flag <" + letter.substr(0, 20) + ">");
        }
        auto value = parse_flag(flag);
        if (!value) return value.error();
        file.attributes[letter] = *value;
      }
    } else if (name == "body") {
      have_body = true;
      std::string text = child.text().get();
      if (iequals(child.attribute("enc").value(), "base64")) {
        auto decoded = base64_decode(text);
        if (!decoded) return Status::invalid_argument("<body enc=\"base64\">: not base64");
        file.body = std::move(*decoded);
      } else {
        file.body = std::move(text);
      }
    } else {
      file.extensions.push_back(node_xml(child));
    }
  }
  if (file.name.empty() && !have_body) return Status::invalid_argument("<File> has neither <name> nor <body>");
  if (!size_text.empty()) {
    bool digits = std::all_of(size_text.begin(), size_text.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits || size_text.size() > 18) return Status::invalid_argument("<size>: not a byte count");
    if (std::stoull(size_text) != file.body.size()) {
      return Status::invalid_argument("<size> says " + size_text + " bytes, <body> holds " +
                                      std::to_string(file.body.size()));
    }
  }
  if (file.content_type.empty()) file.content_type = kOctetStream;
  return file;
}

void append_text(pugi::xml_node parent, const char* name, const std::string& value) {
  if (!value.empty()) parent.append_child(name).text().set(value.c_str());
}

}  // namespace

Result<std::unique_ptr<File>> File::parse(std::string_view bytes, const Format& format) {
  std::string type = ascii_lower(format.mime_type);
  if (type == omads_file_format().mime_type) {
    auto fields = parse_omads(bytes);
    if (!fields) return fields.error().with_context("OMA DS file");
    return std::make_unique<File>(std::move(*fields), omads_file_format());
  }
  FileFields raw;
  raw.content_type = type.empty() ? kOctetStream : type;
  raw.body = std::string(bytes);
  Format source{raw.content_type, ""};
  return std::make_unique<File>(std::move(raw), std::move(source));
}

std::vector<Format> File::supported_formats() const { return {omads_file_format(), Format{fields_.content_type, ""}}; }

Result<std::string> File::write(const Format& format) const {
  std::string type = ascii_lower(format.mime_type);
  if (type == omads_file_format().mime_type) {
    pugi::xml_document doc;
    pugi::xml_node root = doc.append_child("File");
    append_text(root, "name", fields_.name);
    append_text(root, "created", fields_.created);
    append_text(root, "modified", fields_.modified);
    append_text(root, "accessed", fields_.accessed);
    if (!fields_.attributes.empty()) {
      pugi::xml_node attrs = root.append_child("attributes");
      for (const char* c = kAttributeFlags; *c; ++c) {
        auto it = fields_.attributes.find(std::string(1, *c));
        if (it != fields_.attributes.end())
          attrs.append_child(it->first.c_str()).text().set(it->second ? "true" : "false");
      }
    }
    append_text(root, "cttype", fields_.content_type);
    pugi::xml_node body = root.append_child("body");
    body.append_attribute("enc") = "base64";
    body.text().set(base64_encode(fields_.body).c_str());
    root.append_child("size").text().set(std::to_string(fields_.body.size()).c_str());
    for (const auto& ext : fields_.extensions) root.append_buffer(ext.data(), ext.size());
    std::ostringstream out;
    doc.save(out, "", pugi::format_raw | pugi::format_no_declaration);
    return out.str();
  }
  if (type == fields_.content_type || type == kOctetStream) return fields_.body;
  return Status::invalid_argument("a " + fields_.content_type + " file cannot be written as " + format.to_string());
}

std::string File::identity_key() const {
  if (fields_.name.empty() && fields_.body.empty()) return "";
  return "file:" + ascii_lower(fields_.name) + "|" + sha256_hex(fields_.body);
}

Result<std::unique_ptr<DataObject>> File::merged_with(const DataObject& theirs) const {
  if (theirs.kind() != DataKind::kFile) {
    return Status::invalid_argument(std::string("cannot merge a file with a ") + data_kind_name(theirs.kind()));
  }
  const FileFields& other = static_cast<const File&>(theirs).fields();
  FileFields result = fields_;
  auto fill = [](std::string& ours, const std::string& their) {
    if (ours.empty()) ours = their;
  };
  fill(result.name, other.name);
  fill(result.created, other.created);
  fill(result.modified, other.modified);
  fill(result.accessed, other.accessed);
  if (result.body.empty() && !other.body.empty()) {
    result.body = other.body;
    result.content_type = other.content_type;
  }
  for (const auto& [flag, value] : other.attributes) result.attributes.emplace(flag, value);
  for (const auto& ext : other.extensions) {
    if (std::find(result.extensions.begin(), result.extensions.end(), ext) == result.extensions.end()) {
      result.extensions.push_back(ext);
    }
  }
  return std::unique_ptr<DataObject>(std::make_unique<File>(std::move(result), source_));
}

}  // namespace conflux::data
