// `conflux notify`: writes a Server Alerted Notification (package 0) that
// asks one device to sync one datastore, for whatever push channel reaches
// the device (WAP Push, SMS gateway, OBEX).
#pragma once

#include <string>

#include "cli/services.h"

namespace conflux::app {

struct NotifyRequest {
  std::string user;
  std::string device;
  std::string store;
  // two-way, one-way-from-client, refresh-from-client, one-way-from-server, refresh-from-server
  std::string type = "two-way";
  std::string out;        // file to write
  std::string server_id;  // empty: the user name (see notify.cc)
  std::string nonce;      // per-device nonce the device is configured with; often empty
  int session_id = 0;
};

int notify(Services& services, const NotifyRequest& request);

}  // namespace conflux::app
