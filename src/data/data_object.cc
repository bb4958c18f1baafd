#include "data/data_object.h"

#include "data/calendar.h"
#include "data/contact.h"
#include "data/note.h"
#include "data/text_codec.h"

namespace conflux::data {

const char* data_kind_name(DataKind kind) {
  switch (kind) {
    case DataKind::kContact:
      return "contact";
    case DataKind::kEvent:
      return "event";
    case DataKind::kTask:
      return "task";
    case DataKind::kNote:
      return "note";
    case DataKind::kFile:
      return "file";
    case DataKind::kRecord:
      return "record";
    case DataKind::kXmlDocument:
      return "xml document";
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
  // TODO(data objects issue): files, records, XML.
  return Status::unimplemented("no data object for " + format.to_string() + " yet");
}

Result<std::unique_ptr<DataObject>> merge(const DataObject& ours, const DataObject& theirs) {
  return ours.merged_with(theirs);
}

}  // namespace conflux::data
