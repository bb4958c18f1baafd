#include "portal/jsnote.h"

#include <set>

#include "data/note.h"

namespace conflux::portal {

using nlohmann::json;

namespace {

const std::set<std::string> kNoteKeys = {"@type", "title", "body", "id", "updated", "created"};

bool plain(const std::string& content_type) { return content_type == "text/plain"; }

data::Format format_of(const std::string& content_type, const std::string& content_version) {
  if (content_type == "text/x-vnote") return data::vnote11_format();
  if (plain(content_type)) return data::text_plain_format();
  return data::Format{content_type, content_version};
}

}  // namespace

std::optional<json> note_from_stored(const std::string& raw, const std::string& content_type,
                                     const std::string& content_version) {
  if (plain(content_type)) {
    const size_t nl = raw.find('\n');
    std::string title = raw.substr(0, nl);
    if (!title.empty() && title.back() == '\r') title.pop_back();
    return json{{"@type", "Note"}, {"title", title}, {"body", nl == std::string::npos ? "" : raw.substr(nl + 1)}};
  }
  auto note = data::Note::parse(raw, format_of(content_type, content_version));
  if (!note) return std::nullopt;
  return json{{"@type", "Note"}, {"title", (*note)->fields().summary}, {"body", (*note)->fields().body}};
}

std::optional<std::string> stored_from_note(const json& note, const std::string& base, const std::string& content_type,
                                            const std::string& content_version,
                                            std::vector<InvalidProperty>& invalid_r) {
  const size_t problems_before = invalid_r.size();
  if (!note.is_object()) {
    invalid_r.push_back({"", "a Note must be a JSON object"});
    return std::nullopt;
  }
  for (const auto& [key, value] : note.items()) {
    if (!kNoteKeys.count(key) && key.find(':') == std::string::npos) {
      invalid_r.push_back({key, "is not a Note property"});
    }
  }
  if (auto t = note.find("@type"); t != note.end() && *t != "Note") invalid_r.push_back({"@type", "must be \"Note\""});
  auto text = [&](const char* key) -> std::string {
    auto it = note.find(key);
    if (it == note.end() || it->is_null()) return "";
    if (!it->is_string()) {
      invalid_r.push_back({key, "must be a string"});
      return "";
    }
    return it->get<std::string>();
  };
  const std::string title = text("title");
  const std::string body = text("body");
  if (title.find('\n') != std::string::npos || title.find('\r') != std::string::npos) {
    invalid_r.push_back({"title", "must be one line"});
  }
  if (invalid_r.size() != problems_before) return std::nullopt;
  if (plain(content_type)) return body.empty() ? title : title + "\n" + body;

  const data::Format format = format_of(content_type, content_version);
  data::NoteFields fields;
  if (!base.empty()) {
    if (auto stored = data::Note::parse(base, format)) fields = (*stored)->fields();
  }
  fields.summary = title;
  fields.body = body;
  auto written = data::Note(std::move(fields), format).write(format);
  if (!written) {
    invalid_r.push_back({"body", written.error().message()});
    return std::nullopt;
  }
  return *written;
}

}  // namespace conflux::portal
