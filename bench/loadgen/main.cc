// conflux_loadgen: N simulated SyncML devices at once against a running
// server (see scenarios.h and docs/PERFORMANCE.md). Exits 1 when any session
// failed a check: figures measured over errors are not figures.
//
//   conflux_loadgen --url http://127.0.0.1:8080/sync --server-pid 1234 --json out.json
//   conflux_loadgen --print-accounts      "user password device-id…" lines to create first
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <memory>

#include "report.h"
#include "scenarios.h"

using namespace conflux::loadgen;

int main(int argc, char** argv) {
  CLI::App app{"Conflux load generator: simulated SyncML devices over real HTTP"};
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);  // bench/load appends overrides
  LoadConfig config;
  std::string auth = "md5", encoding = "xml", json_path, label = "server";
  int server_pid = 0;
  bool server_tree = false, print_accounts = false;
  app.add_option("--url", config.url, "SyncML URL of the server under test");
  app.add_option("--label", label, "name of the server in the JSON output");
  app.add_option("--scenarios", config.scenarios, "which scenarios to run, e.g. abc or a")->capture_default_str();
  app.add_option("--user-prefix", config.user_prefix, "prefix of the account names")->capture_default_str();
  app.add_option("--auth", auth, "md5 or basic")->check(CLI::IsMember({"md5", "basic"}))->capture_default_str();
  app.add_option("--encoding", encoding, "xml or wbxml")->check(CLI::IsMember({"xml", "wbxml"}))->capture_default_str();
  app.add_option("--seed", config.seed, "seed of the generated contacts")->capture_default_str();
  app.add_option("--a-devices", config.a_devices, "scenario a: devices at once")->capture_default_str();
  app.add_option("--a-rounds", config.a_rounds, "scenario a: two-way syncs per device")->capture_default_str();
  app.add_option("--a-base", config.a_base, "scenario a: contacts of the first slow sync")->capture_default_str();
  app.add_option("--b-devices", config.b_devices, "scenario b: devices at once")->capture_default_str();
  app.add_option("--b-contacts", config.b_contacts, "scenario b: contacts per slow sync")->capture_default_str();
  app.add_option("--c-devices", config.c_devices, "scenario c: devices at once")->capture_default_str();
  app.add_option("--c-contacts", config.c_contacts, "scenario c: contacts per slow sync")->capture_default_str();
  app.add_option("--server-pid", server_pid, "process to measure (CPU, RSS) from /proc");
  app.add_flag("--server-tree", server_tree, "measure the descendants of --server-pid instead (not the pid itself)");
  app.add_option("--json", json_path, "write the results as JSON here");
  app.add_flag("--print-accounts", print_accounts,
               "print the accounts the run needs (user password device-id...), and exit");
  CLI11_PARSE(app, argc, argv);

  config.auth = auth == "basic" ? AuthScheme::kBasic : AuthScheme::kMd5;
  config.encoding = encoding == "wbxml" ? conflux::protocol::Encoding::kWbxml : conflux::protocol::Encoding::kXml;
  if (print_accounts) {
    for (const auto& a : accounts(config)) {
      std::cout << a.user << ' ' << a.password;
      for (const auto& d : a.device_ids) std::cout << ' ' << d;
      std::cout << '\n';
    }
    return 0;
  }
  if (config.url.empty()) {
    std::cerr << "conflux_loadgen: --url is required\n";
    return 2;
  }

  std::unique_ptr<ProcMeter> meter;
  if (server_pid > 0) {
    meter =
        std::make_unique<ProcMeter>(server_pid, server_tree ? MeterScope::kDescendantsOfRoot : MeterScope::kProcess);
  }
  auto phases = run_scenarios(config, meter.get(), [&](const PhaseResult& p) {
    std::cerr << label << " " << p.name << ": " << p.sessions << " sessions, " << p.failures << " failed, "
              << p.wall_seconds << " s\n";
  });

  std::cout << label << " (" << config.url << ")\n" << format_table(phases, meter != nullptr);
  size_t failures = 0;
  nlohmann::json out = {{"server", label},
                        {"url", config.url},
                        {"auth", auth},
                        {"encoding", encoding},
                        {"config",
                         {{"a_devices", config.a_devices},
                          {"a_rounds", config.a_rounds},
                          {"a_base", config.a_base},
                          {"b_devices", config.b_devices},
                          {"b_contacts", config.b_contacts},
                          {"c_devices", config.c_devices},
                          {"c_contacts", config.c_contacts},
                          {"scenarios", config.scenarios}}},
                        {"phases", nlohmann::json::array()}};
  for (const auto& p : phases) {
    failures += p.failures;
    out["phases"].push_back(to_json(p));
  }
  out["failures"] = failures;
  if (!json_path.empty()) {
    std::ofstream file(json_path);
    file << out.dump(2) << '\n';
    if (!file) {
      std::cerr << "conflux_loadgen: cannot write " << json_path << '\n';
      return 2;
    }
  }
  return failures == 0 ? 0 : 1;
}
