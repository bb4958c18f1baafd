#include "data/text_merge.h"

#include <set>
#include <vector>

#include "data/text_codec.h"

namespace conflux::data {
namespace {

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

}  // namespace

std::string merge_free_text(std::string_view ours, std::string_view theirs) {
  const std::string our_key = collapse_lower(ours);
  const std::string their_key = collapse_lower(theirs);
  if (their_key.empty() || our_key.find(their_key) != std::string::npos) return std::string(ours);
  if (our_key.empty() || their_key.find(our_key) != std::string::npos) return std::string(theirs);
  std::set<std::string> our_lines;
  for (std::string_view line : lines_of(ours)) our_lines.insert(collapse_lower(line));
  std::string out(ours);
  for (std::string_view line : lines_of(theirs)) {
    std::string key = collapse_lower(line);
    if (key.empty() || our_lines.count(key)) continue;
    our_lines.insert(std::move(key));
    out += '\n';
    out += line;
  }
  return out;
}

}  // namespace conflux::data
