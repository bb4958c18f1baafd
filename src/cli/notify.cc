#include "cli/notify.h"

#include <fstream>
#include <iostream>
#include <map>

#include "cli/command.h"
#include "protocol/san.h"

namespace conflux::app {

int notify(Services& s, const NotifyRequest& r) {
  static const std::map<std::string, int> kTypes = {{"two-way", 206},
                                                    {"one-way-from-client", 207},
                                                    {"refresh-from-client", 208},
                                                    {"one-way-from-server", 209},
                                                    {"refresh-from-server", 210}};
  auto type = kTypes.find(r.type);
  if (type == kTypes.end()) return fail("unknown sync type '" + r.type + "'");
  const caf::StoreSettings* store = nullptr;
  for (const auto& st : s.config.stores) {
    if (st.name == r.store) store = &st;
  }
  if (!store) return fail("no datastore '" + r.store + "' is configured");
  // A device that never synced this datastore has no profile for it to alert.
  auto anchors = s.state->anchors(engine::DeviceStore{UserId(r.user), DeviceId(r.device), r.store});
  if (!anchors) return fail(anchors.error().message());
  if (!anchors->has_value()) {
    return fail("device '" + r.device + "' of user '" + r.user + "' has not synced '" + r.store + "' yet");
  }
  // The digest's credential part is B64(MD5(server-id ":" password)); the
  // one the server keeps is the user's syncml:auth-md5 secret, made with the
  // user name, so the device checks it with the user name as server id.
  auto secret = s.users->md5_secret(UserId(r.user));
  if (!secret) return fail(secret.error().message());

  protocol::ServerAlertedNotification san;
  san.ui_mode = protocol::SanUiMode::kBackground;
  san.initiator = protocol::SanInitiator::kServer;
  san.session_id = static_cast<uint16_t>(r.session_id);
  san.server_id = r.server_id.empty() ? r.user : r.server_id;
  san.syncs = {protocol::SanSync{type->second, protocol::san_content_type(store->content_type), store->name}};
  auto bytes = protocol::encode_san(san, *secret, r.nonce);
  if (!bytes) return fail(bytes.error().message());
  std::ofstream out(r.out, std::ios::binary | std::ios::trunc);
  out.write(bytes->data(), static_cast<std::streamsize>(bytes->size()));
  out.close();
  if (!out) return fail("cannot write " + r.out);
  std::cout << "wrote " << bytes->size() << " bytes (application/vnd.syncml.ds.notification) to " << r.out << "\n";
  return 0;
}

void register_notify_command(CLI::App& app, Context& ctx) {
  auto request = std::make_shared<NotifyRequest>();
  auto* notify_cmd = app.add_subcommand("notify", "write a Server Alerted Notification asking a device to sync");
  notify_cmd->add_option("--user", request->user, "the device's user")->required();
  notify_cmd->add_option("--device", request->device, "device id (as it syncs)")->required();
  notify_cmd->add_option("--store", request->store, "datastore to sync")->required();
  notify_cmd->add_option("--type", request->type, "sync type")
      ->check(CLI::IsMember(
          {"two-way", "one-way-from-client", "refresh-from-client", "one-way-from-server", "refresh-from-server"}));
  notify_cmd->add_option("--out", request->out, "file to write the notification to")->required();
  notify_cmd->add_option("--server-id", request->server_id, "server id in the device's profile (default: user)");
  notify_cmd->add_option("--nonce", request->nonce, "the device's notification nonce (default: empty)");
  notify_cmd->add_option("--session", request->session_id, "SessionID the device should use")
      ->check(CLI::Range(0, 65535));
  set_action(notify_cmd, ctx, [request](const config::Config& cfg) {
    auto services = Services::open_accounts(cfg);
    if (!services) return fail(services.error().message());
    return notify(**services, *request);
  });
}

}  // namespace conflux::app
