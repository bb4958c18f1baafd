// Data objects: the meaning of an item's bytes (MISSION §4 "Data objects").
//
// A DataObject is parsed once from bytes plus a Format, can be written in any
// format its kind supports (that is where conversion between the device's
// format and the back end's happens), gives a key for duplicate detection,
// and merges field by field with another version of itself.
//
// Kinds: contact (vCard 2.1/3.0/4.0, contact.h), event and task (vCalendar
// 1.0 / iCalendar 2.0, calendar.h), note (text/plain, vNote 1.1, iCalendar
// VJOURNAL; note.h), each also as Funambol's SIF (sif.h), file (file_object.h), record (record.h) and XML
// document (xml_document.h).
//
// Errors: Status values, never exceptions. Broken input is kInvalidArgument
// naming the line and property (or element, or column). No SyncML status codes here (engine/status_map.cc maps).
// Thread rule: objects are immutable after parse; const methods may be called
// from any thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace conflux::data {

// A content type and its version, as in SyncML Meta/Type and DevInf CTCap.
// mime_type is lower case; version may be empty ("the type's default").
struct Format {
  std::string mime_type;
  std::string version;

  static Format vcard21() { return {"text/x-vcard", "2.1"}; }
  static Format vcard30() { return {"text/vcard", "3.0"}; }
  static Format vcard40() { return {"text/vcard", "4.0"}; }

  bool operator==(const Format&) const = default;
  std::string to_string() const { return version.empty() ? mime_type : mime_type + " " + version; }
};

enum class DataKind { kContact, kEvent, kTask, kNote, kFile, kRecord, kXmlDocument };

const char* data_kind_name(DataKind kind);  // "contact", "event", ...

class DataObject {
 public:
  virtual ~DataObject() = default;

  virtual DataKind kind() const = 0;

  // The format the object was parsed from.
  virtual Format source_format() const = 0;

  // Every format write() accepts, preferred first.
  virtual std::vector<Format> supported_formats() const = 0;

  // Serialises in `format`, converting when it differs from the source
  // format. kInvalidArgument when the kind cannot be written in `format`
  // (a contact as text/calendar). An empty version means the type's default.
  virtual Result<std::string> write(const Format& format) const = 0;

  // Key for duplicate detection (slow sync, "add of an item the server
  // already has"): two objects with equal non-empty keys are the same real
  // thing. Empty when the object has too little to tell (never a duplicate).
  // Each kind documents its rule.
  virtual std::string identity_key() const = 0;
  // Every key the object can be recognised by: two objects sharing any one
  // are the same thing. A kind whose identity has alternatives (a contact:
  // name plus phone *or* e-mail) lists each; by default identity_key() alone.
  virtual std::vector<std::string> identity_keys() const {
    std::string key = identity_key();
    if (key.empty()) return {};
    return {std::move(key)};
  }

  // Field-level two-way merge: the result holds every field of `*this`
  // ("ours", the side that wins a conflict) and adds what only `theirs` has,
  // following the kind's rules. Neither input changes; the caller owns the
  // result. kInvalidArgument when `theirs` is another kind.
  virtual Result<std::unique_ptr<DataObject>> merged_with(const DataObject& theirs) const = 0;

  virtual std::unique_ptr<DataObject> clone() const = 0;
};

// Parses `bytes` as `format`: text/x-vcard, text/vcard (and text/directory)
// give a Contact; text/calendar and text/x-vcalendar an Event or Task, or a
// Note when the data holds only VJOURNALs; text/plain and text/x-vnote a
// Note; text/x-s4j-sifc, -sife, -sift, -sifn (Funambol's SIF, data/sif.h) a
// Contact, Event, Task or Note; application/vnd.conflux.record+json a Record; application/xml and
// text/xml an XmlDocument (default identity); application/vnd.omads-file+xml
// and every other type a File (other types: the bytes as they are). The
// data's own version line wins over format.version (devices label 3.0 cards
// text/x-vcard). kInvalidArgument for broken bytes.
Result<std::unique_ptr<DataObject>> parse(std::string_view bytes, const Format& format);

// ours.merged_with(theirs), see DataObject::merged_with.
Result<std::unique_ptr<DataObject>> merge(const DataObject& ours, const DataObject& theirs);

}  // namespace conflux::data
