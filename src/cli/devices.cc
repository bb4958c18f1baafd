// `conflux devices list|show|forget`: the devices the server keeps sync state
// for (store::StateStore::devices), the DevInf each one sent, and forgetting
// one, which makes its next sync of every datastore slow.
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/services.h"
#include "protocol/devinf.h"

namespace conflux::app {
namespace {

std::string joined(const std::vector<std::string>& parts, const std::string& separator) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : separator) + p;
  return out;
}

// "Funambol SyncEvolution 2.0" from a DevInf; "-" when none was sent or it
// no longer parses.
std::string model_of(const std::optional<std::string>& devinf_xml) {
  if (!devinf_xml) return "-";
  auto devinf = protocol::parse_devinf_xml(*devinf_xml);
  if (!devinf) return "-";
  std::vector<std::string> parts;
  for (const auto* part : {&devinf->man, &devinf->mod, &devinf->sw_v}) {
    if (!part->empty()) parts.push_back(*part);
  }
  return parts.empty() ? "-" : joined(parts, " ");
}

Result<store::KnownDevice> find_device(Services& s, const std::string& user, const std::string& device) {
  auto all = s.state->devices(UserId(user));
  if (!all) return all.error();
  for (auto& d : *all) {
    if (d.device.str() == device) return std::move(d);
  }
  return Status::not_found("user " + user + " has no device " + device + " (see `conflux devices list`)");
}

int devices_list(Services& s, const std::string& user) {
  auto all = s.state->devices(UserId(user));
  if (!all) return fail(all.error().message());
  if (!all->empty()) std::cout << "user\tdevice\tmodel\tlast sync (UTC)\tdatastores\n";
  for (const auto& d : *all) {
    auto devinf = s.state->device_info(d.user, d.device);
    if (!devinf) return fail(devinf.error().message());
    std::cout << d.user.str() << "\t" << d.device.str() << "\t" << model_of(*devinf) << "\t"
              << (d.last_sync_at ? when(d.last_sync_at) : "-") << "\t"
              << (d.databases.empty() ? "-" : joined(d.databases, ",")) << "\n";
  }
  return 0;
}

void print_devinf_summary(const protocol::DevInf& devinf) {
  auto line = [](const char* label, const std::string& value) {
    if (!value.empty()) std::cout << "  " << label << ": " << value << "\n";
  };
  line("DTD version", devinf.ver_dtd);
  line("manufacturer", devinf.man);
  line("model", devinf.mod);
  line("type", devinf.dev_typ);
  line("software", devinf.sw_v);
  line("firmware", devinf.fw_v);
  line("hardware", devinf.hw_v);
  std::cout << "  UTC: " << (devinf.utc ? "yes" : "no")
            << ", large objects: " << (devinf.support_large_objs ? "yes" : "no")
            << ", number of changes: " << (devinf.support_number_of_changes ? "yes" : "no") << "\n";
  for (const auto& ds : devinf.datastores) {
    std::vector<std::string> types;
    for (int t : ds.sync_types) types.push_back(std::to_string(t));
    std::cout << "  datastore " << ds.source_ref << (ds.display_name.empty() ? "" : " (" + ds.display_name + ")")
              << ": receives " << ds.rx_pref.type << (ds.rx_pref.version.empty() ? "" : " " + ds.rx_pref.version)
              << ", sends " << ds.tx_pref.type << (ds.tx_pref.version.empty() ? "" : " " + ds.tx_pref.version)
              << ", sync types " << (types.empty() ? "-" : joined(types, ",")) << "\n";
  }
}

int devices_show(Services& s, const std::string& user, const std::string& device) {
  auto d = find_device(s, user, device);
  if (!d) return fail(d.error().message());
  std::cout << "user: " << d->user.str() << "\ndevice: " << d->device.str()
            << "\nlast sync: " << (d->last_sync_at ? when(d->last_sync_at) + " UTC" : "none reported") << "\n";
  for (const auto& database : d->databases) {
    const engine::DeviceStore ds{d->user, d->device, database};
    auto map = s.state->map_entries(ds);
    if (!map) return fail(map.error().message());
    std::cout << "datastore " << database << ": " << map->size() << " items mapped\n";
  }
  auto devinf_xml = s.state->device_info(d->user, d->device);
  if (!devinf_xml) return fail(devinf_xml.error().message());
  if (!devinf_xml->has_value()) {
    std::cout << "DevInf: none sent\n";
    return 0;
  }
  std::cout << "DevInf (sent " << when(d->devinf_at) << " UTC):\n";
  if (auto devinf = protocol::parse_devinf_xml(**devinf_xml)) {
    print_devinf_summary(*devinf);
  } else {
    std::cout << "  (does not parse: " << devinf.error().message() << ")\n";
  }
  std::cout << **devinf_xml << "\n";
  return 0;
}

int devices_forget(Services& s, const std::string& user, const std::string& device) {
  auto d = find_device(s, user, device);
  if (!d) return fail(d.error().message());
  auto forgotten = s.state->forget_device(d->user, d->device);
  if (!forgotten) return fail(forgotten.error().message());
  std::cout << "forgot device " << device << " of " << user << ": its anchors, maps and DevInf";
  if (d->databases.empty()) {
    std::cout << "; it had completed no sync\n";
    return 0;
  }
  std::cout << " for " << joined(d->databases, ", ") << ".\nIts next sync of "
            << (d->databases.size() == 1 ? "that datastore" : "each") << " is a slow sync: the device sends every "
            << "item and the server matches those it has (nothing is deleted).\n";
  return 0;
}

}  // namespace

void register_device_commands(CLI::App& app, Context& ctx) {
  struct DeviceOptions {
    std::string user;
    std::string device;
  };
  auto opts = std::make_shared<DeviceOptions>();
  auto* devices = app.add_subcommand("devices", "the devices that sync with this server");
  devices->require_subcommand(0, 1);

  auto* list = devices->add_subcommand("list", "one line per device: model, last sync, datastores");
  list->add_option("--user", opts->user, "only this user's");
  set_action(list, ctx, [opts](const config::Config& cfg) {
    auto services = Services::open_accounts(cfg);
    if (!services) return fail(services.error().message());
    return devices_list(**services, opts->user);
  });

  auto* show = devices->add_subcommand("show", "one device: its datastores and the DevInf it sent");
  show->add_option("user", opts->user, "user name")->required();
  show->add_option("device", opts->device, "device id as listed")->required();
  set_action(show, ctx, [opts](const config::Config& cfg) {
    auto services = Services::open_accounts(cfg);
    if (!services) return fail(services.error().message());
    return devices_show(**services, opts->user, opts->device);
  });

  auto* forget = devices->add_subcommand("forget", "drop a device's anchors and maps; its next sync is slow");
  forget->add_option("user", opts->user, "user name")->required();
  forget->add_option("device", opts->device, "device id as listed")->required();
  set_action(forget, ctx, [opts](const config::Config& cfg) {
    auto services = Services::open_accounts(cfg);
    if (!services) return fail(services.error().message());
    return devices_forget(**services, opts->user, opts->device);
  });
}

}  // namespace conflux::app
