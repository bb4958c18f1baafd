#include "scenarios.h"

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <latch>
#include <memory>
#include <thread>

#include "contacts.h"

namespace conflux::loadgen {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kAddsPerRound = 5, kReplacesPerRound = 3, kDeletesPerRound = 2;
constexpr size_t kErrorsKept = 5;
// Device id suffixes: every account's first device, and the second one that
// checks (a) or downloads (b, c) what the first uploaded.
constexpr const char* kFirstDevice = "phone";
const char* second_device(char scenario) { return scenario == 'a' ? "check" : "second"; }

std::string account_name(const LoadConfig& config, char scenario, size_t device) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%c-%03zu", scenario, device + 1);
  return config.user_prefix + buf;
}

// Derived from the name so the bench script and this program agree without
// passing a list around; these accounts exist only on throw-away servers.
std::string password_for(const std::string& user) { return "pw-" + user; }

DeviceConfig device_config(const LoadConfig& config, const std::string& user, const std::string& device_suffix) {
  DeviceConfig d;
  d.server_url = config.url;
  d.device_id = user + "-" + device_suffix;
  d.user = user;
  d.password = password_for(user);
  d.auth = config.auth;
  d.encoding = config.encoding;
  return d;
}

double cpu_seconds_of_this_process() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// One device's part of a phase: its sessions, run one after the other.
struct DeviceJob {
  SimDevice* device;
  std::vector<SessionPlan> plans;
};

PhaseResult run_phase(std::string name, std::string description, std::vector<DeviceJob> jobs, ProcMeter* meter) {
  PhaseResult result;
  result.name = std::move(name);
  result.description = std::move(description);
  result.devices = jobs.size();
  std::vector<std::vector<SessionOutcome>> outcomes(jobs.size());

  if (meter) meter->start();
  const double cpu_before = cpu_seconds_of_this_process();
  std::latch go(static_cast<std::ptrdiff_t>(jobs.size()) + 1);
  Clock::time_point started;
  {
    std::vector<std::jthread> threads;
    for (size_t i = 0; i < jobs.size(); ++i) {
      threads.emplace_back([&, i] {
        go.arrive_and_wait();
        for (const auto& plan : jobs[i].plans) outcomes[i].push_back(jobs[i].device->run_session(plan));
      });
    }
    started = Clock::now();
    go.count_down();
  }  // joins every device
  result.wall_seconds = std::chrono::duration<double>(Clock::now() - started).count();
  result.loadgen_cpu_seconds = cpu_seconds_of_this_process() - cpu_before;
  if (meter) result.server = meter->stop();

  std::vector<std::chrono::nanoseconds> sessions, messages;
  for (const auto& device : outcomes) {
    for (const auto& o : device) {
      ++result.sessions;
      sessions.push_back(o.duration);
      messages.insert(messages.end(), o.message_latencies.begin(), o.message_latencies.end());
      result.items_sent += o.items_sent;
      result.items_received += o.items_received;
      result.bytes_sent += o.bytes_sent;
      result.bytes_received += o.bytes_received;
      if (o.ok) continue;
      ++result.failures;
      if (result.errors.size() < kErrorsKept &&
          std::find(result.errors.begin(), result.errors.end(), o.error) == result.errors.end()) {
        result.errors.push_back(o.error);
      }
    }
  }
  result.messages = messages.size();
  result.session_latency = percentiles(std::move(sessions));
  result.message_latency = percentiles(std::move(messages));
  return result;
}

// The contacts one device holds, as (LUID, vCard).
struct AddressBook {
  explicit AddressBook(uint32_t device_seed) : seed(device_seed) {}

  uint32_t seed;
  uint64_t next_index = 0;
  std::vector<std::pair<std::string, std::string>> cards;

  std::pair<std::string, std::string> new_card() {
    const uint64_t index = next_index++;
    return {"c" + std::to_string(index), make_contact(index, seed)};
  }
};

SessionPlan slow_sync_upload(AddressBook& book, size_t n) {
  SessionPlan plan;
  plan.alert = plan.expected_server_alert = 201;
  for (size_t i = 0; i < n; ++i) book.cards.push_back(book.new_card());
  plan.adds = book.cards;
  plan.expected_from_server = 0;
  return plan;
}

SessionPlan slow_sync_download(size_t expected) {
  SessionPlan plan;
  plan.alert = plan.expected_server_alert = 201;
  plan.expected_from_server = expected;
  return plan;
}

// One two-way session's edits: new cards at the end, edits of the newest,
// deletes of the oldest, so an edit never meets a delete.
SessionPlan two_way_round(AddressBook& book, uint64_t round) {
  SessionPlan plan;
  plan.expected_from_server = 0;
  for (size_t i = 0; i < kReplacesPerRound && i < book.cards.size(); ++i) {
    auto& [luid, card] = book.cards[book.cards.size() - 1 - i];
    card = edit_contact(card, round);
    plan.replaces.emplace_back(luid, card);
  }
  const size_t deletes = std::min(kDeletesPerRound, book.cards.size() - plan.replaces.size());
  for (size_t i = 0; i < deletes; ++i) {
    plan.deletes.push_back(book.cards.front().first);
    book.cards.erase(book.cards.begin());
  }
  for (size_t i = 0; i < kAddsPerRound; ++i) {
    book.cards.push_back(book.new_card());
    plan.adds.push_back(book.cards.back());
  }
  return plan;
}

}  // namespace

std::vector<Account> accounts(const LoadConfig& config) {
  std::vector<Account> out;
  auto add = [&](char scenario, size_t devices) {
    if (config.scenarios.find(scenario) == std::string::npos) return;
    for (size_t i = 0; i < devices; ++i) {
      const std::string user = account_name(config, scenario, i);
      out.push_back({user, password_for(user), {user + "-" + kFirstDevice, user + "-" + second_device(scenario)}});
    }
  };
  add('a', config.a_devices);
  add('b', config.b_devices);
  add('c', config.c_devices);
  return out;
}

std::vector<PhaseResult> run_scenarios(const LoadConfig& config, ProcMeter* meter,
                                       const std::function<void(const PhaseResult&)>& on_phase) {
  std::vector<PhaseResult> results;
  auto record = [&](PhaseResult&& r) {
    on_phase(r);
    results.push_back(std::move(r));
  };
  auto devices_for = [&](char scenario, size_t n, const std::string& suffix) {
    std::vector<std::unique_ptr<SimDevice>> out;
    for (size_t i = 0; i < n; ++i) {
      out.push_back(std::make_unique<SimDevice>(device_config(config, account_name(config, scenario, i), suffix)));
    }
    return out;
  };

  if (config.scenarios.find('a') != std::string::npos && config.a_devices > 0) {
    auto devices = devices_for('a', config.a_devices, kFirstDevice);
    std::vector<AddressBook> books;
    for (size_t i = 0; i < devices.size(); ++i) books.emplace_back(config.seed + static_cast<uint32_t>(i));

    std::vector<DeviceJob> first;
    for (size_t i = 0; i < devices.size(); ++i) {
      SessionPlan plan = slow_sync_upload(books[i], config.a_base);
      plan.alert = 200;  // a two-way without history: the server must refuse it (508) and slow-sync
      plan.expected_alert_status = 508;
      first.push_back({devices[i].get(), {std::move(plan)}});
    }
    record(run_phase("a1",
                     "first sync: two-way refused (508), slow sync of " + std::to_string(config.a_base) + " contacts",
                     std::move(first), meter));

    std::vector<DeviceJob> rounds;
    for (size_t i = 0; i < devices.size(); ++i) {
      DeviceJob job{devices[i].get(), {}};
      for (size_t r = 0; r < config.a_rounds; ++r) job.plans.push_back(two_way_round(books[i], r + 1));
      rounds.push_back(std::move(job));
    }
    record(run_phase("a2", "two-way syncs: 5 adds, 3 replaces, 2 deletes each", std::move(rounds), meter));

    auto checkers = devices_for('a', config.a_devices, second_device('a'));
    std::vector<DeviceJob> check;
    for (size_t i = 0; i < checkers.size(); ++i) {
      check.push_back({checkers[i].get(), {slow_sync_download(books[i].cards.size())}});
    }
    record(run_phase("a3",
                     "check: a second device of each user slow-syncs and receives all " +
                         std::to_string(books.empty() ? 0 : books[0].cards.size()) + " contacts",
                     std::move(check), meter));
  }

  auto upload_and_download = [&](char scenario, size_t n_devices, size_t n_contacts) {
    if (config.scenarios.find(scenario) == std::string::npos || n_devices == 0) return;
    const std::string s(1, scenario);
    auto devices = devices_for(scenario, n_devices, kFirstDevice);
    std::vector<DeviceJob> upload;
    for (size_t i = 0; i < devices.size(); ++i) {
      AddressBook book(config.seed + 1000 * static_cast<uint32_t>(scenario) + static_cast<uint32_t>(i));
      upload.push_back({devices[i].get(), {slow_sync_upload(book, n_contacts)}});
    }
    record(
        run_phase(s + "1", "slow sync, upload " + std::to_string(n_contacts) + " contacts", std::move(upload), meter));
    auto second = devices_for(scenario, n_devices, second_device(scenario));
    std::vector<DeviceJob> download;
    for (auto& d : second) download.push_back({d.get(), {slow_sync_download(n_contacts)}});
    record(run_phase(s + "2", "slow sync of a second device, download " + std::to_string(n_contacts) + " contacts",
                     std::move(download), meter));
  };
  upload_and_download('b', config.b_devices, config.b_contacts);
  upload_and_download('c', config.c_devices, config.c_contacts);
  return results;
}

}  // namespace conflux::loadgen
