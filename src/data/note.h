// Note: a DataObject holding one memo (MISSION §4 "Data objects"), read and
// written as text/plain (SyncEvolution memos: the whole text is the body),
// vNote 1.1 (text/x-vnote, phones: BEGIN:VNOTE, BODY often
// QUOTED-PRINTABLE with CHARSET) and iCalendar 2.0 VJOURNAL (text/calendar,
// Evolution's memos, through libical).
//
// A VJOURNAL is a Note, not a kind of its own: it is the same memo a phone
// keeps as a vNote and SyncEvolution sends as text/plain, so one datastore
// holds all three and any device gets its own form. vCalendar 1.0 has no
// journal component; its era's form of a memo is vNote 1.1. The mapping:
//   VJOURNAL        vNote 1.1       text/plain
//   DESCRIPTION     BODY            the text      (first DESCRIPTION only)
//   SUMMARY         SUMMARY         -             (text when there is no body)
//   CREATED         DCREATED        -
//   LAST-MODIFIED   LAST-MODIFIED   -
//   CATEGORIES      CATEGORIES      -
//   CLASS           CLASS           -
//   X-...           X-...           -
//   everything else (UID, DTSTAMP, DTSTART, ORGANIZER, STATUS, RRULE, more
//   DESCRIPTIONs, ...) and the VTIMEZONEs they refer to: kept verbatim and
//   written back only as VJOURNAL (vNote cannot hold them).
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
inline Format vjournal_format() { return {"text/calendar", "2.0"}; }

// True when calendar data holds a VJOURNAL and no VEVENT or VTODO (such
// data is a Note, not an Event or Task).
bool holds_only_journals(std::string_view bytes);

struct NoteFields {
  std::string body;                                        // UTF-8, LF line ends
  std::string summary;                                     // vNote SUMMARY; empty when none
  std::string created;                                     // DCREATED as sent (YYYYMMDDTHHMMSSZ); may be empty
  std::string last_modified;                               // LAST-MODIFIED as sent; may be empty
  std::vector<std::pair<std::string, std::string>> extra;  // CATEGORIES, CLASS, X-...: (NAME, text)
  std::vector<std::string> journal_only;                   // VJOURNAL properties vNote cannot hold, as iCalendar lines
  std::vector<std::string> journal_zones;                  // VTIMEZONEs those refer to, as iCalendar text

  bool operator==(const NoteFields&) const = default;
};

class Note final : public DataObject {
 public:
  Note(NoteFields&& fields, Format source) : fields_(std::move(fields)), source_(std::move(source)) {}

  // text/plain: any bytes (UTF-8, else read as windows-1252); text/x-vnote:
  // exactly one VNOTE, kInvalidArgument when broken; text/calendar (and
  // text/x-vcalendar): exactly one VJOURNAL. Other types: kInvalidArgument.
  static Result<std::unique_ptr<Note>> parse(std::string_view bytes, const Format& format);

  // Every VJOURNAL in iCalendar data (VEVENT, VTODO and others are
  // skipped). kInvalidArgument when the data is broken or holds none.
  static Result<std::vector<std::unique_ptr<Note>>> parse_journals(std::string_view bytes);

  DataKind kind() const override { return DataKind::kNote; }
  Format source_format() const override { return source_; }
  std::vector<Format> supported_formats() const override {
    return {text_plain_format(), vnote11_format(), vjournal_format(), Format{"text/x-s4j-sifn", "1.0"}};
  }
  // text/plain writes the body (the summary when the body is empty);
  // text/x-vnote writes vNote 1.1; text/calendar a VCALENDAR with one
  // VJOURNAL; text/x-s4j-sifn SIF-N (data/sif.h).
  Result<std::string> write(const Format& format) const override;

  // Duplicate-detection rule: the first non-empty line of the body (of the
  // summary when the body is empty), lower case, whitespace collapsed,
  // prefixed "note:". Empty for an empty note.
  std::string identity_key() const override;

  // Ours wins for body, summary and dates when ours has them; extra
  // properties, journal-only lines and time zones are united by value.
  Result<std::unique_ptr<DataObject>> merged_with(const DataObject& theirs) const override;

  std::unique_ptr<DataObject> clone() const override { return std::make_unique<Note>(NoteFields(fields_), source_); }

  const NoteFields& fields() const { return fields_; }

 private:
  const NoteFields fields_;
  const Format source_;
};

}  // namespace conflux::data
