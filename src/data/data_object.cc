#include "data/data_object.h"

#include "data/calendar.h"
#include "data/contact.h"
#include "data/file_object.h"
#include "data/note.h"
#include "data/record.h"
#include "data/sif.h"
#include "data/text_codec.h"
#include "data/xml_document.h"

namespace conflux::data {

const char* data_kind_name(DataKind kind) {
  switch (kind) {
    case DataKind::kContact: return "contact";
    case DataKind::kEvent: return "event";
    case DataKind::kTask: return "task";
    case DataKind::kNote: return "note";
    case DataKind::kFile: return "file";
    case DataKind::kRecord: return "record";
    case DataKind::kXmlDocument: return "xml document";
  }
  return "unknown";
}

Result<std::unique_ptr<DataObject>> parse(std::string_view bytes, const Format& format) {
  std::string type = ascii_lower(format.mime_type);
  if (type == "text/x-vcard" || type == "text/vcard" || type == "text/directory") {
    auto contact = Contact::parse(bytes);
    if (!contact) return contact.error();
    return std::unique_ptr<DataObject>(std::move(*contact));
  }
  if ((type == "text/calendar" || type == "text/x-vcalendar") && holds_only_journals(bytes)) {
    auto note = Note::parse(bytes, format);
    if (!note) return note.error();
    return std::unique_ptr<DataObject>(std::move(*note));
  }
  if (type == "text/calendar" || type == "text/x-vcalendar") {
    auto item = CalendarItem::parse(bytes, format);
    if (!item) return item.error();
    return std::unique_ptr<DataObject>(std::move(*item));
  }
  if (type == "text/plain" || type == "text/x-vnote") {
    auto note = Note::parse(bytes, format);
    if (!note) return note.error();
    return std::unique_ptr<DataObject>(std::move(*note));
  }
  if (is_sif_type(type)) return parse_sif(bytes, type);
  if (type == record_format().mime_type) {
    auto record = Record::parse(bytes);
    if (!record) return record.error();
    return std::unique_ptr<DataObject>(std::move(*record));
  }
  if (type == "application/xml" || type == "text/xml") {
    auto doc = XmlDocument::parse(bytes, format);
    if (!doc) return doc.error();
    return std::unique_ptr<DataObject>(std::move(*doc));
  }
  auto file = File::parse(bytes, format);  // the OMA DS file object, or any other type as raw bytes
  if (!file) return file.error();
  return std::unique_ptr<DataObject>(std::move(*file));
}

Result<std::unique_ptr<DataObject>> merge(const DataObject& ours, const DataObject& theirs) {
  return ours.merged_with(theirs);
}

}  // namespace conflux::data
