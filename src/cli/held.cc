// `conflux held list|confirm|discard`: deletions the mass-deletion guard held
// (engine/deletion_guard.h) until the user decides. A device's deletions:
// confirm deletes the items through the CAF, as ordinary deletions, so every
// device gets them at its next sync; discard forgets the batch, so the device
// that deleted the items gets them back at its next sync. The server's
// deletions held from a device: confirm lets them through at its next sync;
// discard makes that sync slow, so the device sends its items back.
#include "cli/held.h"

#include <ctime>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli/command.h"

namespace conflux::app {
namespace {

Result<engine::HeldDeletion> find_held(Services& s, int64_t id) {
  auto all = s.state->held_deletions(UserId());
  if (!all) return all.error();
  for (auto& h : *all) {
    if (h.id == id) return std::move(h);
  }
  return Status::not_found("no held deletion " + std::to_string(id) + " (see `conflux held list`)");
}

// Records that the user approved deleting `h`'s items, for `device` (empty:
// every device), so the guard lets the deletions reach the devices.
Status record_confirmed(Services& s, const engine::HeldDeletion& h, const DeviceId& device) {
  engine::HeldDeletion approved = h;
  approved.kind = engine::HeldKind::kConfirmed;
  approved.where.device = device;
  approved.reason = "confirmed: " + h.reason;
  return s.state->hold_deletions(approved).status();
}

int held_list(Services& s, const std::string& user) {
  auto all = s.state->held_deletions(UserId(user));
  if (!all) return fail(all.error().message());
  for (const auto& h : *all) {
    if (h.kind == engine::HeldKind::kConfirmed) continue;  // decided already
    std::cout << h.id << "\t" << when(h.held_at) << "\t" << h.where.user.str() << "\t" << h.where.database << "\t"
              << h.where.device.str() << "\t" << h.guids.size() << " items\t" << h.reason << "\n";
  }
  return 0;
}

int held_confirm(Services& s, int64_t id) {
  auto h = find_held(s, id);
  if (!h) return fail(h.error().message());
  if (h->kind == engine::HeldKind::kConfirmed) return fail("held deletion " + std::to_string(id) + " was confirmed");
  if (h->kind == engine::HeldKind::kToDevice) {
    if (auto st = record_confirmed(s, *h, h->where.device); !st.is_ok()) return fail(st.message());
    if (auto st = s.state->release_held(id); !st.is_ok()) return fail(st.message());
    std::cout << "held deletion " << id << " confirmed: device " << h->where.device.str() << " gets the "
              << h->guids.size() << " deletions at its next sync\n";
    return 0;
  }
  // An administrator acts for the user: the CAF still scopes every call to them.
  caf::StoreRef ref{h->where.user, h->where.database,      s.tokens->issue(h->where.user, caf::TokenKind::kReadWrite),
                    std::nullopt,  "conflux held confirm", "held-" + std::to_string(id)};
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
  if (auto st = record_confirmed(s, *h, DeviceId()); !st.is_ok()) return fail(st.message());
  if (auto st = s.state->release_held(id); !st.is_ok()) return fail(st.message());
  std::cout << "held deletion " << id << " confirmed: " << h->guids.size()
            << " items deleted; every device gets the deletions at its next sync\n";
  return 0;
}

int held_discard(Services& s, int64_t id) {
  auto h = find_held(s, id);
  if (!h) return fail(h.error().message());
  if (h->kind == engine::HeldKind::kConfirmed) return fail("held deletion " + std::to_string(id) + " was confirmed");
  if (h->kind == engine::HeldKind::kToDevice) {
    // Without anchors and map the device's next sync is slow: it sends every
    // item, the server matches those it has and takes the others back.
    if (auto st = s.state->forget_anchors(h->where); !st.is_ok()) return fail(st.message());
    if (auto st = s.state->clear_map(h->where); !st.is_ok()) return fail(st.message());
    if (auto st = s.state->release_held(id); !st.is_ok()) return fail(st.message());
    std::cout << "held deletion " << id << " discarded: device " << h->where.device.str() << " keeps the "
              << h->guids.size() << " items and sends them back at its next sync (a slow sync)\n";
    return 0;
  }
  if (auto st = s.state->release_held(id); !st.is_ok()) return fail(st.message());
  std::cout << "held deletion " << id << " discarded: " << h->guids.size() << " items stay; device "
            << h->where.device.str() << " gets them back at its next sync\n";
  return 0;
}

}  // namespace

std::string held_metrics(Services& s) {
  auto all = s.state->held_deletions(UserId());
  if (!all) return "# held deletions unreadable: " + all.error().message() + "\n";
  int from_device = 0;
  int to_device = 0;
  for (const auto& h : *all) {
    if (h.kind == engine::HeldKind::kFromDevice) ++from_device;
    if (h.kind == engine::HeldKind::kToDevice) ++to_device;
  }
  std::ostringstream out;
  out << "# HELP conflux_held_deletions Mass deletions held until the user confirms or discards them.\n"
      << "# TYPE conflux_held_deletions gauge\n"
      << "conflux_held_deletions{direction=\"from_device\"} " << from_device << "\n"
      << "conflux_held_deletions{direction=\"to_device\"} " << to_device << "\n";
  return out.str();
}

void register_held_commands(CLI::App& app, Context& ctx) {
  struct HeldOptions {
    std::string user;  // list --user
    int64_t id = 0;    // confirm / discard
  };
  auto opts = std::make_shared<HeldOptions>();
  auto* held = app.add_subcommand("held", "deletions held by the mass-deletion guard until you decide");
  held->require_subcommand(0, 1);

  auto* list = held->add_subcommand("list", "list held deletions, oldest first");
  list->add_option("--user", opts->user, "only this user's");
  set_action(list, ctx, [opts](const config::Config& cfg) {
    auto services = Services::open_all(cfg);
    if (!services) return fail(services.error().message());
    return held_list(**services, opts->user);
  });

  auto* confirm = held->add_subcommand("confirm", "apply a held deletion; every device gets it");
  confirm->add_option("id", opts->id, "held deletion id (as listed)")->required();
  set_action(confirm, ctx, [opts](const config::Config& cfg) {
    auto services = Services::open_all(cfg);
    if (!services) return fail(services.error().message());
    return held_confirm(**services, opts->id);
  });

  auto* discard = held->add_subcommand("discard", "drop a held deletion; the device gets its items back");
  discard->add_option("id", opts->id, "held deletion id (as listed)")->required();
  set_action(discard, ctx, [opts](const config::Config& cfg) {
    auto services = Services::open_all(cfg);
    if (!services) return fail(services.error().message());
    return held_discard(**services, opts->id);
  });
}

}  // namespace conflux::app
