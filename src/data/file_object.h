// File: a DataObject holding one file — its bytes plus name, type and size
// (MISSION §4 "Data objects", the seed's multimedia data object).
//
// Two wire forms:
//  - the OMA DS File data object (application/vnd.omads-file+xml,
//    OMA-TS-DS_DataObjFile): <File> with <name>, <created>, <modified>,
//    <accessed>, <attributes> (h s a d w r x flags), <cttype>, <body> (text,
//    or base64 with enc="base64") and <size>, parsed with pugixml. Unknown
//    child elements (vendor extensions) are kept as XML and written back.
//    A <size> that disagrees with the body is kInvalidArgument: a truncated
//    transfer must not be stored as the file;
//  - any other content type: the raw bytes are the body, the type is the
//    content type, there is no name (a photo sent as image/jpeg).
//
// Thread rule: immutable after parse; const methods from any thread.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "data/data_object.h"

namespace conflux::data {

inline Format omads_file_format() { return {"application/vnd.omads-file+xml", ""}; }

struct FileFields {
  std::string name;          // file name without directory; may be empty
  std::string content_type;  // MIME type of the body, lower case; "application/octet-stream" when unknown
  std::string body;          // the file's bytes
  std::string created;       // ISO 8601 basic as sent (20050101T120000Z); may be empty
  std::string modified;
  std::string accessed;
  std::map<std::string, bool> attributes;  // "h", "s", "a", "d", "w", "r", "x" when given
  std::vector<std::string> extensions;     // unknown child elements of <File>, as XML

  bool operator==(const FileFields&) const = default;
};

class File final : public DataObject {
 public:
  File(FileFields&& fields, Format source) : fields_(std::move(fields)), source_(std::move(source)) {}

  // application/vnd.omads-file+xml: one <File> element, kInvalidArgument
  // naming the element when broken. Any other type: the bytes as they are.
  static Result<std::unique_ptr<File>> parse(std::string_view bytes, const Format& format);

  DataKind kind() const override { return DataKind::kFile; }
  Format source_format() const override { return source_; }
  // The OMA DS file object, then the body's own type.
  std::vector<Format> supported_formats() const override;
  // The OMA DS form (body base64), or the raw bytes for the file's own
  // content type or application/octet-stream; kInvalidArgument otherwise
  // (a PNG cannot be written as text/plain).
  Result<std::string> write(const Format& format) const override;

  // Duplicate-detection rule: "file:" + lower-case name + "|" + SHA-256 of
  // the body in hex: the same name with other bytes is another version, not
  // a duplicate. Empty when there is neither name nor body.
  std::string identity_key() const override;

  // Ours wins for body, name, type and dates when ours has them; attributes
  // and extensions ours lacks are taken from theirs.
  Result<std::unique_ptr<DataObject>> merged_with(const DataObject& theirs) const override;

  std::unique_ptr<DataObject> clone() const override { return std::make_unique<File>(FileFields(fields_), source_); }

  const FileFields& fields() const { return fields_; }
  size_t size() const { return fields_.body.size(); }

 private:
  const FileFields fields_;
  const Format source_;
};

}  // namespace conflux::data
