#include "cli/conformance.h"

#include <stdlib.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "adapters/conformance/conformance.h"
#include "adapters/plugin/plugin_adapter.h"
#include "cli/command.h"

namespace conflux::app {

namespace {

namespace fs = std::filesystem;

// The plugin as a store of a server would have it, with its tracker state in
// a temporary directory.
class PluginTarget final : public conformance::Target {
 public:
  PluginTarget(caf::StoreSettings settings, std::string data_dir, const ConformanceRequest& request)
      : settings_(std::move(settings)), data_dir_(std::move(data_dir)), request_(request) {}

  Result<std::shared_ptr<caf::ContentAdapter>> open() override { return open_in(data_dir_ + "/main"); }
  // Its own tracker state: it knows nothing of what open()'s adapters wrote.
  Result<std::shared_ptr<caf::ContentAdapter>> open_other() override { return open_in(data_dir_ + "/other"); }

  Status take_down() override { return run("--down", request_.down_command); }
  Status bring_up() override { return run("--up", request_.up_command); }
  std::optional<caf::Credentials> good_credentials() override { return good_credentials_; }
  void set_good_credentials(caf::Credentials creds) { good_credentials_ = std::move(creds); }

 private:
  Result<std::shared_ptr<caf::ContentAdapter>> open_in(const std::string& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    return factory_.create(settings_, caf::AdapterEnv{dir});
  }
  Status run(const char* option, const std::string& command) {
    if (request_.down_command.empty() || request_.up_command.empty()) {
      return Status::unimplemented("give --down and --up commands to test an outage");
    }
    const int rc = std::system(command.c_str());
    if (rc != 0) return Status::internal(std::string(option) + " command exited with " + std::to_string(rc));
    return Status::ok();
  }

  adapters::PluginAdapterFactory factory_;
  const caf::StoreSettings settings_;
  const std::string data_dir_;
  const ConformanceRequest& request_;
  std::optional<caf::Credentials> good_credentials_;
};

// The first line of `path`.
Result<std::string> read_password_file(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return Status::invalid_argument("--password-file " + path + ": cannot read it");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace

void register_conformance_command(CLI::App& app, Context& ctx) {
  auto request = std::make_shared<ConformanceRequest>();
  auto* cmd = app.add_subcommand("conformance", "run the adapter conformance suite on a plugin");
  cmd->add_option("--plugin", request->plugin, "the plugin's shared object")->required();
  cmd->add_option("--option", request->options, "one of the plugin's config keys, KEY=VALUE; repeatable");
  cmd->add_option("--content-type", request->content_type, "the store's content type (default text/vcard)");
  cmd->add_option("--down", request->down_command, "shell command that makes the back end unreachable");
  cmd->add_option("--up", request->up_command, "shell command that makes it reachable again");
  cmd->add_option("--case", request->only, "run only this case; repeatable");
  auto* login = cmd->add_option("--login", request->login, "a user the back end's own accounts know");
  cmd->add_option("--password-file", request->password_file, "file holding that user's password")->needs(login);
  login->needs("--password-file");
  // Needs no configuration: it runs the plugin as a store of its own.
  set_action(cmd, ctx, [request](const config::Config&) { return conformance(*request); });
}

int conformance(const ConformanceRequest& request) {
  caf::StoreSettings settings;
  settings.name = "conformance";
  settings.adapter = adapters::PluginAdapterFactory::kKind;
  settings.content_type = request.content_type;
  settings.options["plugin"] = fs::absolute(request.plugin).string();
  for (const auto& entry : request.options) {
    const auto eq = entry.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "conflux: --option " << entry << ": expected KEY=VALUE\n";
      return 2;
    }
    settings.options[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  for (const auto& name : request.only) {
    bool known = false;
    for (const auto& c : conformance::cases()) known = known || c.name == name;
    if (!known) {
      std::cerr << "conflux: --case " << name << ": no such case\n";
      return 2;
    }
  }
  adapters::PluginAdapterFactory factory;
  if (Status st = factory.validate(settings); !st.is_ok()) {
    std::cerr << "conflux: " << st.message() << "\n";
    return 2;
  }

  std::optional<caf::Credentials> good_credentials;
  if (!request.login.empty()) {
    auto password = read_password_file(request.password_file);
    if (!password) {
      std::cerr << "conflux: " << password.error().message() << "\n";
      return 2;
    }
    good_credentials = caf::Credentials::with_password(UserId(request.login), std::move(*password));
  }

  std::string tmpl = (fs::temp_directory_path() / "conflux-conformance-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    std::cerr << "conflux: cannot make a temporary directory\n";
    return 2;
  }
  PluginTarget target(settings, tmpl, request);
  if (good_credentials) target.set_good_credentials(std::move(*good_credentials));
  {
    auto probe = target.open();
    if (!probe) {
      std::cerr << "conflux: " << probe.error().message() << "\n";
      std::error_code ec;
      fs::remove_all(tmpl, ec);
      return 2;
    }
  }

  int passed = 0, failed = 0, skipped = 0;
  for (const auto& c : conformance::cases()) {
    if (!request.only.empty() && std::find(request.only.begin(), request.only.end(), c.name) == request.only.end()) {
      continue;
    }
    const conformance::Verdict v = conformance::run_case(c, target);
    switch (v.outcome) {
      case conformance::Outcome::kPassed:
        ++passed;
        std::cout << "ok       " << c.name << "\n";
        break;
      case conformance::Outcome::kFailed:
        ++failed;
        std::cout << "FAILED   " << c.name << ": " << v.detail << "  [" << c.summary << "]\n";
        break;
      case conformance::Outcome::kSkipped:
        ++skipped;
        std::cout << "skipped  " << c.name << ": " << v.detail << "\n";
        break;
    }
    std::cout.flush();
  }
  std::cout << passed << " passed, " << failed << " failed, " << skipped << " skipped\n";
  std::error_code ec;
  fs::remove_all(tmpl, ec);
  return failed == 0 ? 0 : 1;
}

}  // namespace conflux::app
