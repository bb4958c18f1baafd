#include "cli/webhooks.h"

#include <algorithm>
#include <iostream>
#include <sstream>

#include "cli/command.h"
#include "cli/services.h"

namespace conflux::app {
namespace {

Result<std::unique_ptr<notify::Outbox>> open_outbox(Services& s) { return notify::open_outbox(s.state_db, s.pg_db); }

int webhooks_failed(Services& s) {
  auto outbox = open_outbox(s);
  if (!outbox) return fail(outbox.error().message());
  auto dead = (*outbox)->dead_letters();
  if (!dead) return fail(dead.error().message());
  if (dead->empty()) {
    std::cout << "no failed webhooks\n";
    return 0;
  }
  std::cout << "id\twebhook\tcreated\tattempts\tlast error\n";
  for (const auto& m : *dead) {
    std::cout << m.id << "\t" << m.target << "\t" << when(m.created_at) << "\t" << m.attempts << "\t" << m.last_error
              << "\n";
  }
  return 0;
}

int webhooks_retry(Services& s, const std::string& id) {
  auto outbox = open_outbox(s);
  if (!outbox) return fail(outbox.error().message());
  auto count = (*outbox)->retry(id, s.clock.now_seconds());
  if (!count) return fail(count.error().message());
  std::cout << *count << " webhook message(s) will be sent again by the running server\n";
  return 0;
}

}  // namespace

std::string webhook_metrics(notify::Outbox& outbox, const notify::WebhookCounters& counters, int64_t now) {
  std::ostringstream out;
  out << "# HELP conflux_webhook_deliveries_total Webhook delivery attempts by outcome.\n"
         "# TYPE conflux_webhook_deliveries_total counter\n"
      << "conflux_webhook_deliveries_total{outcome=\"delivered\"} " << counters.delivered.load() << "\n"
      << "conflux_webhook_deliveries_total{outcome=\"failed\"} " << counters.failed.load() << "\n"
      << "conflux_webhook_deliveries_total{outcome=\"dead\"} " << counters.dead.load() << "\n"
      << "# HELP conflux_webhook_events_total Webhook messages queued in the outbox.\n"
         "# TYPE conflux_webhook_events_total counter\n"
      << "conflux_webhook_events_total " << counters.enqueued.load() << "\n";
  auto backlog = outbox.backlog();
  if (!backlog) return out.str() + "# webhook outbox unreadable: " + backlog.error().message() + "\n";
  const int64_t lag = backlog->waiting == 0 ? 0 : std::max<int64_t>(0, now - backlog->oldest_created_at);
  out << "# HELP conflux_webhook_outbox_waiting Webhook messages waiting to be sent.\n"
         "# TYPE conflux_webhook_outbox_waiting gauge\n"
      << "conflux_webhook_outbox_waiting " << backlog->waiting << "\n"
      << "# HELP conflux_webhook_outbox_lag_seconds Age of the oldest waiting webhook message.\n"
         "# TYPE conflux_webhook_outbox_lag_seconds gauge\n"
      << "conflux_webhook_outbox_lag_seconds " << lag << "\n"
      << "# HELP conflux_webhook_dead_letters Webhook messages given up after the last retry.\n"
         "# TYPE conflux_webhook_dead_letters gauge\n"
      << "conflux_webhook_dead_letters " << backlog->dead << "\n";
  return out.str();
}

std::string san_metrics(const notify::SanCounters& counters) {
  std::ostringstream out;
  out << "# HELP conflux_san_deliveries_total Server Alerted Notifications pushed to devices, by outcome.\n"
         "# TYPE conflux_san_deliveries_total counter\n"
      << "conflux_san_deliveries_total{outcome=\"sent\"} " << counters.sent.load() << "\n"
      << "conflux_san_deliveries_total{outcome=\"failed\"} " << counters.failed.load() << "\n";
  return out.str();
}

void register_webhook_commands(CLI::App& app, Context& ctx) {
  auto id = std::make_shared<std::string>();
  auto all = std::make_shared<bool>(false);
  auto* webhooks = app.add_subcommand("webhooks", "the webhook outbox's failed messages");
  webhooks->require_subcommand(0, 1);
  auto with_accounts = [](std::function<int(Services&)> run) {
    return [run = std::move(run)](const config::Config& cfg) {
      auto services = Services::open_accounts(cfg);
      if (!services) return fail(services.error().message());
      return run(**services);
    };
  };
  set_action(webhooks->add_subcommand("failed", "messages given up after the last retry (dead letters)"), ctx,
             with_accounts(webhooks_failed));
  auto* retry = webhooks->add_subcommand("retry", "send a failed message again, with a fresh retry schedule");
  retry->add_option("id", *id, "message id (webhook-id, as listed)");
  retry->add_flag("--all", *all, "every failed message");
  set_action(retry, ctx, with_accounts([id, all](Services& s) {
               if (id->empty() == !*all) return fail("name one message id, or --all");
               return webhooks_retry(s, *id);
             }));
}

}  // namespace conflux::app
