#include "cli/held.h"

#include <ctime>
#include <iostream>

#include "cli/services.h"

namespace conflux::app {
namespace {

std::string when(int64_t unix_seconds) {
  std::time_t t = unix_seconds;
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", std::gmtime(&t));
  return buf;
}

int fail(const std::string& message) {
  std::cerr << "conflux: " << message << "\n";
  return 1;
}

Result<engine::HeldDeletion> find_held(Services& s, int64_t id) {
  auto all = s.state->held_deletions(UserId());
  if (!all) return all.error();
  for (auto& h : *all) {
    if (h.id == id) return std::move(h);
  }
  return Status::not_found("no held deletion " + std::to_string(id) + " (see `conflux held list`)");
}

int held_list(Services& s, const std::string& user) {
  auto all = s.state->held_deletions(UserId(user));
  if (!all) return fail(all.error().message());
  for (const auto& h : *all) {
    std::cout << h.id << "\t" << when(h.held_at) << "\t" << h.where.user.str() << "\t" << h.where.database << "\t"
              << h.where.device.str() << "\t" << h.guids.size() << " items\t" << h.reason << "\n";
  }
  return 0;
}

int held_confirm(Services& s, int64_t id) {
  auto h = find_held(s, id);
  if (!h) return fail(h.error().message());
  // An administrator acts for the user: the CAF still scopes every call to them.
  caf::StoreRef ref{h->where.user, h->where.database, s.tokens->issue(h->where.user, caf::TokenKind::kReadWrite),
                    std::nullopt, "conflux held confirm", "held-" + std::to_string(id)};
  std::vector<caf::SyncObj> batch;
  for (const auto& guid : h->guids) {
    caf::SyncObj del;
    del.action = caf::Action::kDelete;
    del.guid = guid;
    batch.push_back(std::move(del));
  }
  int failed = 0;
  std::string first_error;
  for (const auto& r : s.content->apply(ref, std::move(batch))) {
    if (r.status.is_ok() || r.status.is_not_found()) continue;
    if (failed++ == 0) first_error = r.status.message();
  }
  // Kept on failure, so confirming again retries what is left.
  if (failed) return fail(std::to_string(failed) + " deletions failed, the batch is kept: " + first_error);
  if (auto st = s.state->release_held(id); !st.is_ok()) return fail(st.message());
  std::cout << "held deletion " << id << " confirmed: " << h->guids.size()
            << " items deleted; every device gets the deletions at its next sync\n";
  return 0;
}

int held_discard(Services& s, int64_t id) {
  auto h = find_held(s, id);
  if (!h) return fail(h.error().message());
  if (auto st = s.state->release_held(id); !st.is_ok()) return fail(st.message());
  std::cout << "held deletion " << id << " discarded: " << h->guids.size() << " items stay; device "
            << h->where.device.str() << " gets them back at its next sync\n";
  return 0;
}

}  // namespace

void add_held_command(CLI::App& app, HeldCommand& command) {
  command.held = app.add_subcommand("held", "deletions held by the mass-deletion guard until you decide");
  command.held->require_subcommand(1);
  command.list = command.held->add_subcommand("list", "list held deletions, oldest first");
  command.list->add_option("--user", command.user, "only this user's");
  command.confirm = command.held->add_subcommand("confirm", "apply a held deletion; every device gets it");
  command.confirm->add_option("id", command.id, "held deletion id (as listed)")->required();
  command.discard = command.held->add_subcommand("discard", "drop a held deletion; the device gets its items back");
  command.discard->add_option("id", command.id, "held deletion id (as listed)")->required();
}

int run_held(const HeldCommand& command, const config::Config& cfg) {
  auto services = Services::open_all(cfg);
  if (!services) return fail(services.error().message());
  if (command.list->parsed()) return held_list(**services, command.user);
  if (command.confirm->parsed()) return held_confirm(**services, command.id);
  return held_discard(**services, command.id);
}

}  // namespace conflux::app
