#include "cli/sessions.h"

#include <iostream>
#include <set>

#include "cli/command.h"

namespace conflux::app {
namespace {

// How many of the newest report lines a session id prefix is looked up in.
constexpr int kPrefixSearchLimit = 10000;

const char* sync_type_name(int code) {
  switch (code) {
    case 200: return "two-way";
    case 201: return "slow";
    case 202: return "one-way-from-client";
    case 203: return "refresh-from-client";
    case 204: return "one-way-from-server";
    case 205: return "refresh-from-server";
    default: return "other";
  }
}

// The column names of print()'s lines.
void print_header() {
  std::cout << "session\tfinished (UTC)\tuser\tdevice\tdatastore\tsync type\tfrom device\tto device\tconflicts\n";
}

void print(const engine::SyncReport& r) {
  std::cout << r.session.str() << "\t" << when(r.finished_at) << "\t" << r.where.user.str() << "\t"
            << r.where.device.str() << "\t" << r.where.database << "\t" << sync_type_name(r.sync_type)
            << "\tfrom device +" << r.counts.client_adds << " ~" << r.counts.client_updates << " -"
            << r.counts.client_deletes << " !" << r.counts.client_errors << "\tto device +" << r.counts.server_adds
            << " ~" << r.counts.server_updates << " -" << r.counts.server_deletes << "\tconflicts "
            << r.counts.conflicts;
  if (!r.problems.empty()) std::cout << "\tproblems " << r.problems.size();
  std::cout << "\n";
}

// One line per failed item, under its datastore's line.
void print_problems(const engine::SyncReport& r) {
  for (const auto& p : r.problems) {
    const bool to_device = p.direction == engine::ItemProblem::Direction::kToDevice;
    std::cout << "  " << (to_device ? "to device   item " : "from device item ") << p.item << "\tstatus " << p.status
              << "\t" << p.what << "\n";
  }
}

}  // namespace

int sessions_list(Services& s, const std::string& user, int limit) {
  auto reports = s.state->reports(UserId(user), limit);
  if (!reports) {
    std::cerr << "conflux: " << reports.error().message() << "\n";
    return 1;
  }
  if (!reports->empty()) print_header();
  for (const auto& r : *reports) print(r);
  return 0;
}

int sessions_show(Services& s, const std::string& session) {
  auto reports = s.state->session_report(SessionKey(session));
  if (!reports) return fail(reports.error().message());
  if (reports->empty() && !session.empty()) {
    // Not a whole id: a prefix of exactly one listed session's id will do.
    auto recent = s.state->reports(UserId(""), kPrefixSearchLimit);
    if (!recent) return fail(recent.error().message());
    std::set<std::string> matches;
    for (const auto& r : *recent) {
      if (r.session.str().starts_with(session)) matches.insert(r.session.str());
    }
    if (matches.size() > 1) {
      std::string listed;
      for (const auto& m : matches) listed += (listed.empty() ? "" : ", ") + m;
      return fail("session prefix " + session + " is ambiguous: " + listed);
    }
    if (matches.size() == 1) {
      reports = s.state->session_report(SessionKey(*matches.begin()));
      if (!reports) return fail(reports.error().message());
    }
  }
  if (reports->empty()) return fail("no completed session " + session);
  print_header();
  for (const auto& r : *reports) {
    print(r);
    print_problems(r);
  }
  return 0;
}

void register_session_commands(CLI::App& app, Context& ctx) {
  struct SessionOptions {
    std::string user;
    int limit = 50;
    std::string session;
  };
  auto opts = std::make_shared<SessionOptions>();
  auto* sessions = app.add_subcommand("sessions", "reports of completed sync sessions");
  sessions->require_subcommand(0, 1);

  auto* list = sessions->add_subcommand("list", "one line per datastore of each session, newest first");
  list->add_option("--user", opts->user, "only this user's");
  list->add_option("--limit", opts->limit, "at most this many lines")->check(CLI::Range(1, 100000));
  set_action(list, ctx, [opts](const config::Config& cfg) {
    auto services = Services::open_accounts(cfg);
    if (!services) return fail(services.error().message());
    return sessions_list(**services, opts->user, opts->limit);
  });

  auto* show = sessions->add_subcommand("show", "the report of one session");
  show->add_option("session", opts->session, "session id as listed, or the start of one")->required();
  set_action(show, ctx, [opts](const config::Config& cfg) {
    auto services = Services::open_accounts(cfg);
    if (!services) return fail(services.error().message());
    return sessions_show(**services, opts->session);
  });
}

}  // namespace conflux::app
