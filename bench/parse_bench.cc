// Parser throughput (docs/PERFORMANCE.md, "Data objects: parse and write"):
// vCard and iCalendar items from the test corpus, replicated to --items
// each, parsed and written back by
//   conflux   our data objects (Contact over vcard.h; CalendarItem over
//             libical plus our item grouping and checks),
//   libical   libical's own icalparser_parse_string and
//             icalcomponent_as_ical_string_r on the same iCalendar text.
// --dump DIR writes the inputs (items separated by NUL bytes) so that
// bench/vobject_bench.py times Python's vobject on exactly the same bytes.
//
// Output: one JSON object per line and parser/kind, as
//   {"parser": "conflux", "kind": "vcard", "items": 10000, "bytes": N,
//    "parse_s": t, "write_s": t, "errors": 0}
// with the median of --repeat runs. No thresholds: figures only.
#include <libical/ical.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "data/calendar.h"
#include "data/contact.h"
#include "data/text_codec.h"
#include "data/vcard.h"

namespace fs = std::filesystem;
using conflux::data::ascii_upper;

namespace {

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<fs::path> files_under(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file() || e.path().filename() == "MANIFEST.md") continue;
    if (fs::relative(e.path(), dir).begin()->string() == "malformed") continue;
    out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Each BEGIN:VCARD .. END:VCARD of the corpus as its original bytes, kept
// when our parser accepts it alone.
std::vector<std::string> corpus_vcards(const fs::path& dir) {
  std::vector<std::string> cards;
  for (const auto& path : files_under(dir)) {
    std::string text = read_file(path);
    std::string upper = ascii_upper(text);
    for (size_t begin = upper.find("BEGIN:VCARD"); begin != std::string::npos;
         begin = upper.find("BEGIN:VCARD", begin + 1)) {
      size_t end = upper.find("END:VCARD", begin);
      if (end == std::string::npos) break;
      end = text.find('\n', end);
      std::string card = text.substr(begin, end == std::string::npos ? std::string::npos : end + 1 - begin);
      if (conflux::data::parse_vcard(card)) cards.push_back(std::move(card));
    }
  }
  return cards;
}

// Every iCalendar 2.0 event and task of the corpus, one VCALENDAR each (with
// its VTIMEZONEs), as libical writes it. vCalendar 1.0 items are left out:
// vobject and libical's parser do not read them as iCalendar.
std::vector<std::string> corpus_icals(const fs::path& dir) {
  std::vector<std::string> items;
  for (const auto& path : files_under(dir)) {
    if (path.extension() == ".vnt") continue;
    std::string text = read_file(path);
    auto parsed = conflux::data::CalendarItem::parse_all(text, conflux::data::ical20_format());
    if (!parsed) continue;
    for (const auto& item : *parsed) {
      if (item->source_format() != conflux::data::ical20_format()) continue;
      auto written = item->write(conflux::data::ical20_format());
      if (written) items.push_back(std::move(*written));
    }
  }
  return items;
}

std::vector<std::string> replicate(const std::vector<std::string>& items, size_t n) {
  std::vector<std::string> out;
  out.reserve(n);
  for (size_t i = 0; i < n && !items.empty(); ++i) out.push_back(items[i % items.size()]);
  return out;
}

size_t total_bytes(const std::vector<std::string>& items) {
  size_t n = 0;
  for (const auto& s : items) n += s.size();
  return n;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

struct Timing {
  double parse_s;
  double write_s;
  size_t errors;
};

// `run` parses all items, then writes all parsed ones, timing each phase.
template <typename Run>
Timing median_of(int repeat, Run run) {
  std::vector<Timing> runs;
  for (int i = 0; i < repeat; ++i) runs.push_back(run());
  std::sort(runs.begin(), runs.end(), [](const Timing& a, const Timing& b) { return a.parse_s < b.parse_s; });
  Timing mid = runs[runs.size() / 2];
  std::vector<double> writes;
  for (const auto& t : runs) writes.push_back(t.write_s);
  std::sort(writes.begin(), writes.end());
  mid.write_s = writes[writes.size() / 2];
  return mid;
}

void report(const char* parser, const char* kind, const std::vector<std::string>& items, const Timing& t) {
  std::cout << "{\"parser\": \"" << parser << "\", \"kind\": \"" << kind << "\", \"items\": " << items.size()
            << ", \"bytes\": " << total_bytes(items) << ", \"parse_s\": " << t.parse_s << ", \"write_s\": " << t.write_s
            << ", \"errors\": " << t.errors << "}" << std::endl;
}

Timing conflux_vcard(const std::vector<std::string>& items) {
  std::vector<std::unique_ptr<conflux::data::Contact>> parsed;
  parsed.reserve(items.size());
  size_t errors = 0;
  auto start = std::chrono::steady_clock::now();
  for (const auto& text : items) {
    auto c = conflux::data::Contact::parse(text);
    if (c) {
      parsed.push_back(std::move(*c));
    } else {
      ++errors;
    }
  }
  double parse_s = seconds_since(start);
  size_t out_bytes = 0;
  start = std::chrono::steady_clock::now();
  for (const auto& c : parsed) out_bytes += c->write(c->source_format())->size();
  double write_s = seconds_since(start);
  if (out_bytes == 0) ++errors;
  return {parse_s, write_s, errors};
}

Timing conflux_ical(const std::vector<std::string>& items) {
  std::vector<std::unique_ptr<conflux::data::CalendarItem>> parsed;
  parsed.reserve(items.size());
  size_t errors = 0;
  auto start = std::chrono::steady_clock::now();
  for (const auto& text : items) {
    auto c = conflux::data::CalendarItem::parse(text, conflux::data::ical20_format());
    if (c) {
      parsed.push_back(std::move(*c));
    } else {
      ++errors;
    }
  }
  double parse_s = seconds_since(start);
  size_t out_bytes = 0;
  start = std::chrono::steady_clock::now();
  for (const auto& c : parsed) out_bytes += c->write(conflux::data::ical20_format())->size();
  double write_s = seconds_since(start);
  if (out_bytes == 0) ++errors;
  return {parse_s, write_s, errors};
}

Timing libical_ical(const std::vector<std::string>& items) {
  std::vector<icalcomponent*> parsed;
  parsed.reserve(items.size());
  size_t errors = 0;
  auto start = std::chrono::steady_clock::now();
  for (const auto& text : items) {
    icalcomponent* c = icalparser_parse_string(text.c_str());
    if (c) {
      parsed.push_back(c);
    } else {
      ++errors;
    }
  }
  double parse_s = seconds_since(start);
  size_t out_bytes = 0;
  start = std::chrono::steady_clock::now();
  for (icalcomponent* c : parsed) {
    char* s = icalcomponent_as_ical_string_r(c);
    out_bytes += s ? std::char_traits<char>::length(s) : 0;
    icalmemory_free_buffer(s);
  }
  double write_s = seconds_since(start);
  for (icalcomponent* c : parsed) icalcomponent_free(c);
  if (out_bytes == 0) ++errors;
  return {parse_s, write_s, errors};
}

void dump(const fs::path& dir, const char* name, const std::vector<std::string>& items) {
  fs::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary);
  for (const auto& s : items) out << s << '\0';
}

}  // namespace

int main(int argc, char** argv) {
  fs::path data = "tests/data";
  fs::path dump_dir;
  size_t n = 10000;
  int repeat = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--data") {
      data = argv[i + 1];
    } else if (flag == "--items") {
      n = std::stoul(argv[i + 1]);
    } else if (flag == "--repeat") {
      repeat = std::max(1, std::stoi(argv[i + 1]));
    } else if (flag == "--dump") {
      dump_dir = argv[i + 1];
    } else {
      std::cerr << "usage: parse_bench [--data DIR] [--items N] [--repeat N] [--dump DIR]\n";
      return 2;
    }
  }
  icalerror_set_errors_are_fatal(0);
  auto vcard_corpus = corpus_vcards(data / "vcard");
  auto ical_corpus = corpus_icals(data / "ical");
  if (vcard_corpus.empty() || ical_corpus.empty()) {
    std::cerr << "parse_bench: no corpus items under " << data << "\n";
    return 1;
  }
  std::cerr << "parse_bench: " << vcard_corpus.size() << " vCards and " << ical_corpus.size()
            << " iCalendar items from the corpus, replicated to " << n << " each\n";
  auto vcards = replicate(vcard_corpus, n);
  auto icals = replicate(ical_corpus, n);
  if (!dump_dir.empty()) {
    dump(dump_dir, "vcard.items", vcards);
    dump(dump_dir, "ical.items", icals);
  }
  report("conflux", "vcard", vcards, median_of(repeat, [&] { return conflux_vcard(vcards); }));
  report("conflux", "icalendar", icals, median_of(repeat, [&] { return conflux_ical(icals); }));
  report("libical", "icalendar", icals, median_of(repeat, [&] { return libical_ical(icals); }));
  return 0;
}
