// Note: a DataObject holding one memo (MISSION §4 "Data objects"), read and
// written as text/plain (SyncEvolution memos: the whole text is the body) and
// vNote 1.1 (text/x-vnote, phones: BEGIN:VNOTE, BODY often
// QUOTED-PRINTABLE with CHARSET).
//
// vNote rules: 2.1-style unfolding (a line break before whitespace is
// removed, the whitespace kept), QP soft breaks, CHARSET through iconv (a
// value that is not UTF-8 and has no CHARSET is read as windows-1252),
// escapes \n \; \, \\ decoded. Known properties: BODY, SUMMARY, DCREATED,
// LAST-MODIFIED, CATEGORIES, CLASS; X- properties are kept as text; others are
// dropped. Line breaks in text are normalised to LF. The writer escapes '\'
// and ';', uses CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE for non-ASCII or
// multi-line values, and never folds otherwise.
//
// Thread rule: immutable after parse; const methods from any thread.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "data/data_object.h"

namespace conflux::data {

inline Format text_plain_format() { return {"text/plain", ""}; }
inline Format vnote11_format() { return {"text/x-vnote", "1.1"}; }

struct NoteFields {
  std::string body;           // UTF-8, LF line ends
  std::string summary;        // vNote SUMMARY; empty when none
  std::string created;        // DCREATED as sent (YYYYMMDDTHHMMSSZ); may be empty
  std::string last_modified;  // LAST-MODIFIED as sent; may be empty
  std::vector<std::pair<std::string, std::string>> extra;  // CATEGORIES, CLASS, X-...: (NAME, text)

  bool operator==(const NoteFields&) const = default;
};

class Note final : public DataObject {
 public:
  Note(NoteFields&& fields, Format source) : fields_(std::move(fields)), source_(std::move(source)) {}

  // text/plain: any bytes (UTF-8, else read as windows-1252); text/x-vnote:
  // exactly one VNOTE, kInvalidArgument when broken. Other types:
  // kInvalidArgument.
  static Result<std::unique_ptr<Note>> parse(std::string_view bytes, const Format& format);

  DataKind kind() const override { return DataKind::kNote; }
  Format source_format() const override { return source_; }
  std::vector<Format> supported_formats() const override { return {text_plain_format(), vnote11_format()}; }
  // text/plain writes the body (the summary when the body is empty);
  // text/x-vnote writes vNote 1.1.
  Result<std::string> write(const Format& format) const override;

  // Duplicate-detection rule: the first non-empty line of the body (of the
  // summary when the body is empty), lower case, whitespace collapsed,
  // prefixed "note:". Empty for an empty note.
  std::string identity_key() const override;

  // Ours wins for body, summary and dates when ours has them; extra
  // properties are united by (name, value).
  Result<std::unique_ptr<DataObject>> merged_with(const DataObject& theirs) const override;

  std::unique_ptr<DataObject> clone() const override { return std::make_unique<Note>(NoteFields(fields_), source_); }

  const NoteFields& fields() const { return fields_; }

 private:
  const NoteFields fields_;
  const Format source_;
};

}  // namespace conflux::data
