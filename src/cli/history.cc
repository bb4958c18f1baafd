// `conflux history USER STORE [--item ID]` and `conflux restore USER STORE
// (--to TIME | --before-session ID) [--item ID] [--dry-run]`: the item
// history (caf/item_history.h) and putting a store back as it was.
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "cli/command.h"
#include "cli/services.h"

namespace conflux::app {
namespace {

// What the options of `history` or `restore` are parsed into.
struct HistoryCommands {
  bool restore = false;  // restore; else history
  std::string user;
  std::string store;
  std::string item;            // --item: one item's GUID
  std::string to;              // restore --to: "2026-12-07 02:30:00" (UTC), ISO 8601 with Z, or Unix seconds
  std::string before_session;  // restore --before-session
  bool dry_run = false;
};

// Unix seconds, "YYYY-MM-DD HH:MM:SS" or "YYYY-MM-DDTHH:MM:SS[Z]", all UTC.
std::optional<int64_t> parse_moment(const std::string& text) {
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos) return std::stoll(text);
  for (const char* format : {"%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"}) {
    std::tm tm{};
    const char* end = strptime(text.c_str(), format, &tm);
    if (end && (*end == '\0' || (end[0] == 'Z' && end[1] == '\0'))) return static_cast<int64_t>(timegm(&tm));
  }
  return std::nullopt;
}

int list_sessions(const std::vector<caf::ItemVersion>& versions) {
  struct Session {
    int64_t first_at = 0;
    std::string origin;
    std::map<caf::VersionKind, int> counts;
  };
  std::vector<std::string> order;
  std::map<std::string, Session> sessions;
  for (const auto& v : versions) {
    if (v.kind == caf::VersionKind::kFound) continue;
    auto [it, fresh] = sessions.try_emplace(v.session);
    if (fresh) {
      order.push_back(v.session);
      it->second.first_at = v.at;
      it->second.origin = v.origin;
    }
    ++it->second.counts[v.kind];
  }
  for (const auto& key : order) {
    Session& s = sessions[key];
    std::cout << (key.empty() ? "-" : key) << "\t" << when(s.first_at) << "\t" << s.origin << "\tcreated "
              << s.counts[caf::VersionKind::kCreated] << " updated " << s.counts[caf::VersionKind::kUpdated]
              << " deleted " << s.counts[caf::VersionKind::kDeleted] << "\n";
  }
  return 0;
}

int list_item(const std::vector<caf::ItemVersion>& versions) {
  for (const auto& v : versions) {
    std::cout << v.id << "\t" << when(v.at) << "\t" << caf::version_kind_name(v.kind) << "\t" << v.origin << "\t"
              << (v.session.empty() ? "-" : v.session) << "\t" << v.raw.size() << " bytes\n";
  }
  return 0;
}

int restore(Services& s, const HistoryCommands& c, std::vector<caf::ItemVersion>&& versions) {
  const int days = s.history->history_days(c.store);
  int64_t cut_id = 0;
  if (!c.before_session.empty()) {
    for (const auto& v : versions) {
      if (v.kind != caf::VersionKind::kFound && v.session == c.before_session) {
        cut_id = v.id;
        break;
      }
    }
    if (cut_id == 0) {
      return fail("no change of session " + c.before_session + " to " + c.store + " is in the history (none, or " +
                  "older than the retention of " + std::to_string(days) + " days)");
    }
  } else {
    auto moment = parse_moment(c.to);
    if (!moment) return fail("--to " + c.to + ": expected \"YYYY-MM-DD HH:MM:SS\" (UTC) or Unix seconds");
    const int64_t oldest = s.clock.now_seconds() - int64_t{days} * 86400;
    if (*moment < oldest) {
      return fail("--to " + c.to + " is older than the retention of " + std::to_string(days) +
                  " days: history before " + when(oldest) + " UTC is purged");
    }
    for (const auto& v : versions) {
      if (v.kind != caf::VersionKind::kFound && v.at > *moment) {
        cut_id = v.id;
        break;
      }
    }
    if (cut_id == 0) {
      std::cout << "nothing changed in " << c.store << " since " << when(*moment) << " UTC\n";
      return 0;
    }
  }
  // Purges by count leave gaps before each thinned item's oldest version:
  // undoing that version or an earlier one needs what is gone.
  auto whole_from = s.history_store->whole_from(UserId(c.user), c.store);
  if (!whole_from) return fail(whole_from.error().message());
  if (cut_id <= *whole_from) {
    int64_t whole_at = 0;
    for (const auto& v : versions) {
      if (v.id == *whole_from) whole_at = v.at;
    }
    return fail("that moment is older than the retention: " + c.store + " keeps at most " +
                std::to_string(s.history->history_versions(c.store)) + " versions of an item, so its history is " +
                "whole only after " + when(whole_at) + " UTC");
  }
  const std::optional<Guid> only = c.item.empty() ? std::nullopt : std::optional<Guid>(Guid(c.item));
  std::vector<caf::SyncObj> changes = caf::plan_restore(versions, cut_id, only);
  for (const auto& obj : changes) {
    std::cout << (c.dry_run ? "would " : "")
              << (obj.action == caf::Action::kDelete   ? "delete "
                  : obj.action == caf::Action::kCreate ? "re-create "
                                                       : "revert ")
              << (obj.guid.empty() ? "a deleted item" : obj.guid.str()) << "\n";
  }
  if (c.dry_run || changes.empty()) {
    std::cout << changes.size() << " changes" << (c.dry_run ? " (dry run: nothing written)" : "") << "\n";
    return 0;
  }
  const std::string session = "restore-" + std::to_string(s.clock.now_seconds()) + "-" + std::to_string(getpid());
  // An administrator acts for the user: the CAF still scopes every call to them.
  caf::StoreRef ref{UserId(c.user), c.store,           s.tokens->issue(UserId(c.user), caf::TokenKind::kReadWrite),
                    std::nullopt,   "conflux restore", session};
  std::vector<Guid> deleted;  // per change: the guid it deletes, else empty
  deleted.reserve(changes.size());
  for (const auto& obj : changes) deleted.push_back(obj.action == caf::Action::kDelete ? obj.guid : Guid());
  int failed = 0;
  engine::HeldDeletion approved;  // the user asked for these deletions: the guard lets them reach devices
  approved.kind = engine::HeldKind::kConfirmed;
  approved.where = engine::DeviceStore{UserId(c.user), DeviceId(), c.store};
  approved.session = SessionKey(session);
  approved.reason = "conflux restore";
  const auto results = s.content->apply(ref, std::move(changes));
  for (size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    if (r.status.is_ok()) {
      if (!deleted[i].empty()) approved.guids.push_back(deleted[i]);
      continue;
    }
    if (failed++ == 0) std::cerr << "conflux: " << r.status.message() << "\n";
  }
  if (!approved.guids.empty()) {
    if (auto st = s.state->hold_deletions(approved).status(); !st.is_ok()) return fail(st.message());
  }
  std::cout << "restored as session " << session << "; devices get the changes at their next sync; undo with\n"
            << "  conflux restore " << c.user << " " << c.store << " --before-session " << session << "\n";
  return failed ? fail(std::to_string(failed) + " changes failed") : 0;
}

int run_history(const HistoryCommands& c, const config::Config& cfg) {
  if (c.restore && c.to.empty() == c.before_session.empty()) {
    return fail("restore needs --to TIME or --before-session ID");
  }
  auto services = Services::open_all(cfg);
  if (!services) return fail(services.error().message());
  auto& s = **services;
  const auto& stores = s.registry.stores();
  if (std::none_of(stores.begin(), stores.end(), [&](const caf::StoreSettings& st) { return st.name == c.store; })) {
    return fail("no datastore '" + c.store + "' is configured");
  }
  if (s.history->history_days(c.store) <= 0) return fail(c.store + " keeps no history (history_days = 0)");
  const std::optional<Guid> only = c.item.empty() ? std::nullopt : std::optional<Guid>(Guid(c.item));
  auto versions = s.history_store->versions(UserId(c.user), c.store, c.restore ? std::nullopt : only);
  if (!versions) return fail(versions.error().message());
  if (!c.restore) return c.item.empty() ? list_sessions(*versions) : list_item(*versions);
  return restore(s, c, std::move(*versions));
}

}  // namespace

void register_history_commands(CLI::App& app, Context& ctx) {
  auto h = std::make_shared<HistoryCommands>();
  auto* history = app.add_subcommand("history", "sessions and versions kept of a user's datastore");
  history->add_option("user", h->user, "user name")->required();
  history->add_option("store", h->store, "datastore")->required();
  history->add_option("--item", h->item, "every version of this item (its id as listed)");
  set_action(history, ctx, [h](const config::Config& cfg) { return run_history(*h, cfg); });

  auto r = std::make_shared<HistoryCommands>();
  r->restore = true;
  auto* restore = app.add_subcommand("restore", "put a user's datastore back as it was; devices follow");
  restore->add_option("user", r->user, "user name")->required();
  restore->add_option("store", r->store, "datastore")->required();
  auto* to = restore->add_option("--to", r->to, "the moment: \"YYYY-MM-DD HH:MM:SS\" (UTC) or Unix seconds");
  auto* before = restore->add_option("--before-session", r->before_session, "as it was before this session");
  to->excludes(before);
  restore->add_option("--item", r->item, "only this item");
  restore->add_flag("--dry-run", r->dry_run, "print what would change, change nothing");
  set_action(restore, ctx, [r](const config::Config& cfg) { return run_history(*r, cfg); });
}

}  // namespace conflux::app
