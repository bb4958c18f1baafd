#include "cli/sessions.h"

#include <ctime>
#include <iostream>

namespace conflux::app {
namespace {

std::string when(int64_t unix_seconds) {
  std::time_t t = unix_seconds;
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", std::gmtime(&t));
  return buf;
}

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

void print(const engine::SyncReport& r) {
  std::cout << when(r.finished_at) << "\t" << r.session.str() << "\t" << r.where.user.str() << "\t"
            << r.where.device.str() << "\t" << r.where.database << "\t" << sync_type_name(r.sync_type)
            << "\tfrom device +" << r.counts.client_adds << " ~" << r.counts.client_updates << " -" << r.counts.client_deletes << " !"
            << r.counts.client_errors << "\tto device +" << r.counts.server_adds << " ~" << r.counts.server_updates << " -"
            << r.counts.server_deletes << "\tconflicts " << r.counts.conflicts;
  if (!r.problems.empty()) std::cout << "\tproblems " << r.problems.size();
  std::cout << "\n";
}

// One line per failed item, under its datastore's line.
void print_problems(const engine::SyncReport& r) {
  for (const auto& p : r.problems) {
    const bool to_device = p.direction == engine::ItemProblem::Direction::kToDevice;
    std::cout << "  " << (to_device ? "to device   item " : "from device item ") << p.item << "\tstatus "
              << p.status << "\t" << p.what << "\n";
  }
}

}  // namespace

int sessions_list(Services& s, const std::string& user, int limit) {
  auto reports = s.state->reports(UserId(user), limit);
  if (!reports) {
    std::cerr << "conflux: " << reports.error().message() << "\n";
    return 1;
  }
  for (const auto& r : *reports) print(r);
  return 0;
}

int sessions_show(Services& s, const std::string& session) {
  auto reports = s.state->session_report(SessionKey(session));
  if (!reports) {
    std::cerr << "conflux: " << reports.error().message() << "\n";
    return 1;
  }
  if (reports->empty()) {
    std::cerr << "conflux: no completed session " << session << "\n";
    return 1;
  }
  for (const auto& r : *reports) {
    print(r);
    print_problems(r);
  }
  return 0;
}

}  // namespace conflux::app
