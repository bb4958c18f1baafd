// `conflux export USER STORE [FILE]`: every item of a user's datastore in one
// vCard or iCalendar file (cli/item_files.h), read through the CAF like a
// device's sync reads them, so it works for every back end. A progress bar
// on a terminal only.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "cli/command.h"
#include "cli/item_files.h"
#include "cli/progress.h"
#include "cli/services.h"

namespace conflux::app {
namespace {

// Items are read this many at a time, so the bar moves on a big store.
constexpr size_t kReadBatch = 100;

struct ExportOptions {
  std::string user;
  std::string store;
  std::string file;  // empty or "-": standard output
};

// Writes `text` to `path` through a temporary file renamed over it, so an
// interrupted export never leaves half a file under the name asked for.
Status write_file(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".part-" + std::to_string(getpid());
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) return Status::unavailable("cannot write " + temporary);
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  if (ec) {
    std::filesystem::remove(temporary, ec);
    return Status::unavailable("cannot write " + path + ": " + ec.message());
  }
  return Status::ok();
}

int run_export(const ExportOptions& o, const config::Config& cfg) {
  auto services = Services::open_all(cfg);
  if (!services) return fail(services.error().message());
  Services& s = **services;
  auto ref = act_for_user(s, UserId(o.user), o.store, caf::TokenKind::kReadOnly, "conflux export");
  if (!ref) return fail(ref.error().message());
  const caf::StoreSettings* settings = s.registry.settings_for(o.store);
  auto kind = item_file_kind(*settings);
  if (!kind) return fail(kind.error().message());

  caf::Query listing;
  listing.metadata_only = true;
  auto listed = s.content->search(*ref, listing);
  if (!listed) return fail(listed.error().message());
  std::vector<std::string> items;
  items.reserve(listed->size());
  {
    ProgressBar bar("exporting " + o.store, listed->size());
    for (size_t first = 0; first < listed->size(); first += kReadBatch) {
      caf::Query batch;
      for (size_t i = first; i < std::min(first + kReadBatch, listed->size()); ++i) {
        batch.guids.push_back((*listed)[i].guid);
      }
      auto found = s.content->search(*ref, batch);
      if (!found) return fail(found.error().message());
      for (auto& obj : *found) items.push_back(std::move(obj.raw));
      bar.advance(batch.guids.size());
    }
  }
  auto file = join_item_file(*kind, items);
  if (!file) return fail(file.error().message());
  if (o.file.empty() || o.file == "-") {
    std::cout << *file << std::flush;
    return std::cout ? 0 : fail("cannot write to standard output");
  }
  if (auto st = write_file(o.file, *file); !st.is_ok()) return fail(st.message());
  std::cout << "exported " << items.size() << " items of " << o.user << "'s " << o.store << " to " << o.file << "\n";
  return 0;
}

}  // namespace

void register_export_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<ExportOptions>();
  auto* command = app.add_subcommand("export", "write a user's datastore to one vCard (.vcf) or iCalendar (.ics) file");
  command->add_option("user", o->user, "user name")->required();
  command->add_option("store", o->store, "datastore")->required();
  command->add_option("file", o->file, "file to write (default, or -: standard output)");
  set_action(command, ctx, [o](const config::Config& cfg) { return run_export(*o, cfg); });
}

}  // namespace conflux::app
