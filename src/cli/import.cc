// `conflux import USER STORE FILE`: every vCard or iCalendar item of a file
// (cli/item_files.h) added to a user's datastore through the CAF, as a
// device's Adds are, so it works for every back end, the history records it
// as one session and devices get the items at their next sync. A progress
// bar on a terminal only.
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>

#include "cli/command.h"
#include "cli/item_files.h"
#include "cli/progress.h"
#include "cli/services.h"

namespace conflux::app {
namespace {

// Items go to the back end this many per apply() (one transaction where the
// back end has them).
constexpr size_t kWriteBatch = 100;

struct ImportOptions {
  std::string user;
  std::string store;
  std::string file;  // "-": standard input
};

Result<std::string> read_file(const std::string& path) {
  if (path == "-") {
    std::ostringstream all;
    all << std::cin.rdbuf();
    return all.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::not_found("cannot read " + path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

int run_import(const ImportOptions& o, const config::Config& cfg) {
  auto services = Services::open_all(cfg);
  if (!services) return fail(services.error().message());
  Services& s = **services;
  const std::string session = "import-" + std::to_string(s.clock.now_seconds()) + "-" + std::to_string(getpid());
  auto ref = act_for_user(s, UserId(o.user), o.store, caf::TokenKind::kReadWrite, "conflux import");
  if (!ref) return fail(ref.error().message());
  ref->session = session;
  const caf::StoreSettings* settings = s.registry.settings_for(o.store);
  auto kind = item_file_kind(*settings);
  if (!kind) return fail(kind.error().message());
  auto text = read_file(o.file);
  if (!text) return fail(text.error().message());
  // The whole file is checked before anything is written.
  auto items = split_item_file(*kind, *text, data::Format{settings->content_type, settings->content_version});
  if (!items) return fail(o.file + ": " + items.error().message());

  caf::Query listing;
  listing.metadata_only = true;
  auto before = s.content->search(*ref, listing);
  if (!before) return fail(before.error().message());

  size_t imported = 0;
  size_t failed = 0;
  std::string first_error;
  {
    ProgressBar bar("importing into " + o.store, items->size());
    for (size_t first = 0; first < items->size(); first += kWriteBatch) {
      std::vector<caf::SyncObj> batch;
      for (size_t i = first; i < std::min(first + kWriteBatch, items->size()); ++i) {
        caf::SyncObj obj;
        obj.action = caf::Action::kCreate;
        obj.content_type = settings->content_type;
        obj.raw = std::move((*items)[i]);
        batch.push_back(std::move(obj));
      }
      const size_t count = batch.size();
      for (const auto& r : s.content->apply(*ref, std::move(batch))) {
        if (r.status.is_ok()) {
          ++imported;
        } else if (failed++ == 0) {
          first_error = r.status.message();
        }
      }
      bar.advance(count);
    }
  }
  std::cout << "imported " << imported << " items into " << o.user << "'s " << o.store << " (session " << session
            << "); devices get them at their next sync\n";
  if (!before->empty()) {
    std::cout << "note: " << o.store << " held " << before->size()
              << " items already; the imported ones were added beside them\n";
  }
  if (failed) return fail(std::to_string(failed) + " items failed, the first: " + first_error);
  return 0;
}

}  // namespace

void register_import_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<ImportOptions>();
  auto* command =
      app.add_subcommand("import", "add every item of a vCard (.vcf) or iCalendar (.ics) file to a user's datastore");
  command->add_option("user", o->user, "user name")->required();
  command->add_option("store", o->store, "datastore")->required();
  command->add_option("file", o->file, "file to read (-: standard input)")->required();
  set_action(command, ctx, [o](const config::Config& cfg) { return run_import(*o, cfg); });
}

}  // namespace conflux::app
