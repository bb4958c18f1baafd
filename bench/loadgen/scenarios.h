// The load scenarios (issue #4 item 9), each a few phases; every phase runs
// all its devices at once, one thread per device, and is measured on its own.
//
//   a  every device: a two-way Alert without history (the server must answer
//      508 and a slow sync) carrying `a_base` contacts; then `a_rounds`
//      two-way syncs of 5 adds, 3 replaces and 2 deletes; then a check: a
//      second device of the same user slow-syncs and must receive exactly
//      what the first one holds.
//   b  every device slow-syncs `b_contacts` new contacts; a second device of
//      the same user slow-syncs and must receive them all.
//   c  as b with `c_contacts` (10,000 by default).
//
// Each device has a user of its own ("<prefix>a-001" …), so devices never see
// each other's items and every count is known in advance.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "latency.h"
#include "proc_meter.h"
#include "sim_device.h"

namespace conflux::loadgen {

struct LoadConfig {
  std::string url;
  std::string user_prefix = "load-";
  std::string scenarios = "abc";
  AuthScheme auth = AuthScheme::kMd5;
  protocol::Encoding encoding = protocol::Encoding::kXml;
  uint32_t seed = 1;
  size_t a_devices = 10, a_rounds = 5, a_base = 20;
  size_t b_devices = 4, b_contacts = 1000;
  size_t c_devices = 1, c_contacts = 10000;
};

struct Account {
  std::string user;
  std::string password;
  std::vector<std::string> device_ids;  // the devices that log in with it
};

// The accounts the scenarios in `config` log in with, in a fixed order; the
// caller creates them on the server before the run (and, for a server that
// must know each device, such as SyncEvolution's, configures the devices).
std::vector<Account> accounts(const LoadConfig& config);

struct PhaseResult {
  std::string name;
  std::string description;
  size_t devices = 0;
  size_t sessions = 0;
  size_t failures = 0;
  std::vector<std::string> errors;  // the first few distinct ones
  double wall_seconds = 0;
  size_t items_sent = 0, items_received = 0;
  size_t messages = 0;
  size_t bytes_sent = 0, bytes_received = 0;
  Percentiles session_latency, message_latency;
  PhaseUsage server;               // zero unless a server pid was given
  double loadgen_cpu_seconds = 0;  // this process, all threads
};

// Runs the chosen scenarios against config.url. `meter` may be null (no
// server figures); `on_phase` is called after each phase (for progress).
std::vector<PhaseResult> run_scenarios(const LoadConfig& config, ProcMeter* meter,
                                       const std::function<void(const PhaseResult&)>& on_phase);

}  // namespace conflux::loadgen
