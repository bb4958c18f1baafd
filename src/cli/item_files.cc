#include "cli/item_files.h"

#include <cctype>
#include <memory>
#include <optional>

#include "data/calendar.h"
#include "data/vcard.h"

namespace conflux::app {
namespace {

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// "BEGIN:VCARD" or "END:VCARD" in any case, with trailing blanks or CR.
bool is_vcard_line(std::string_view line, std::string_view keyword) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
  return lower(std::string(line)) == lower(std::string(keyword) + ":vcard");
}

// Each BEGIN:VCARD … END:VCARD of `file` as it stands; text between cards is
// skipped. kInvalidArgument for a card that is not closed before the next
// begins or the file ends (an AGENT's embedded vCard is not supported).
Result<std::vector<std::string_view>> vcard_texts(std::string_view file) {
  std::vector<std::string_view> out;
  std::optional<size_t> open_at;  // where the card being read begins
  size_t open_line = 0;
  size_t pos = 0;
  size_t line_no = 0;
  auto unclosed = [&] {
    return Status::invalid_argument("vCard " + std::to_string(out.size() + 1) + " of the file (line " +
                                    std::to_string(open_line) + ") has no END:VCARD");
  };
  while (pos < file.size()) {
    const size_t end = file.find('\n', pos);
    const size_t next = end == std::string_view::npos ? file.size() : end + 1;
    std::string_view line = file.substr(pos, next - pos);
    ++line_no;
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    if (is_vcard_line(line, "begin")) {
      if (open_at) return unclosed();
      open_at = pos;
      open_line = line_no;
    } else if (open_at && is_vcard_line(line, "end")) {
      out.push_back(file.substr(*open_at, next - *open_at));
      open_at.reset();
    }
    pos = next;
  }
  if (open_at) return unclosed();
  return out;
}

}  // namespace

Result<ItemFileKind> item_file_kind(const caf::StoreSettings& settings) {
  const std::string type = lower(settings.content_type);
  if (type == "text/vcard" || type == "text/x-vcard") return ItemFileKind::kVCards;
  if (type == "text/calendar" || type == "text/x-vcalendar") return ItemFileKind::kICalendar;
  return Status::invalid_argument("datastore " + settings.name + " holds " + settings.content_type +
                                  "; export and import handle vCard and iCalendar stores");
}

Result<std::string> join_item_file(ItemFileKind kind, const std::vector<std::string>& items) {
  if (kind == ItemFileKind::kVCards) {
    std::string file;
    for (const auto& raw : items) {
      file += raw;
      if (!raw.empty() && raw.back() != '\n') file += "\r\n";
    }
    return file;
  }
  std::vector<std::unique_ptr<data::CalendarItem>> parsed;
  std::vector<const data::CalendarItem*> borrowed;
  for (size_t i = 0; i < items.size(); ++i) {
    auto item = data::CalendarItem::parse(items[i], data::ical20_format());
    if (!item) return item.error().with_context("item " + std::to_string(i + 1) + " of the store");
    borrowed.push_back(item->get());
    parsed.push_back(std::move(*item));
  }
  return data::write_calendar_file(borrowed);
}

Result<std::vector<std::string>> split_item_file(ItemFileKind kind, std::string_view file,
                                                 const data::Format& store_format) {
  std::vector<std::string> out;
  if (kind == ItemFileKind::kVCards) {
    auto texts = vcard_texts(file);
    if (!texts) return texts.error();
    if (texts->empty()) return Status::invalid_argument("no vCard (BEGIN:VCARD) in the file");
    for (size_t i = 0; i < texts->size(); ++i) {
      auto card = data::parse_vcard((*texts)[i]);
      if (!card) return card.error().with_context("vCard " + std::to_string(i + 1) + " of the file");
      if (store_format.version.empty() || store_format.version == data::vcard_version_name(card->version)) {
        out.emplace_back((*texts)[i]);
        continue;
      }
      const data::VCardVersion wanted = store_format.version == "2.1"   ? data::VCardVersion::k21
                                        : store_format.version == "4.0" ? data::VCardVersion::k40
                                                                        : data::VCardVersion::k30;
      out.push_back(data::write_vcard(*card, wanted));
    }
    return out;
  }
  auto items = data::CalendarItem::parse_all(file, data::ical20_format());
  if (!items) return items.error().with_context("the calendar file");
  for (size_t i = 0; i < items->size(); ++i) {
    auto raw = (*items)[i]->write(store_format);
    if (!raw) return raw.error().with_context("item " + std::to_string(i + 1) + " of the file");
    out.push_back(std::move(*raw));
  }
  return out;
}

}  // namespace conflux::app
