#include "cli/cache_admin.h"

#include <algorithm>
#include <iostream>
#include <sstream>

#include "cli/command.h"

namespace conflux::app {
namespace {

struct StoreFigures {
  std::string name;
  cache::QueueStats stats;
  int64_t lag_seconds = 0;
};

// Figures of every cached store; an error when the cache cannot be read.
Result<std::vector<StoreFigures>> figures(Services& s) {
  std::vector<StoreFigures> out;
  if (!s.cache_store) return out;
  const int64_t now = s.clock.now_seconds();
  for (const auto& store : s.config.stores) {
    if (!store.cache.enabled) continue;
    auto stats = s.cache_store->queue_stats(store.name);
    if (!stats) return stats.error().with_context("cache of '" + store.name + "'");
    const int64_t lag = stats->length == 0 ? 0 : std::max<int64_t>(0, now - stats->oldest_enqueued_at);
    out.push_back(StoreFigures{store.name, *stats, lag});
  }
  return out;
}

// A Prometheus label value: backslash, quote and newline escaped.
std::string label(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    out += c == '\n' ? std::string("\\n") : std::string(1, c);
  }
  return out;
}

void print_entry(const cache::QueueEntry& e) {
  std::cout << e.seq << "\t" << e.database << "\t" << e.user.str() << "\t" << caf::action_name(e.action) << "\t"
            << e.cuid.str() << "\tqueued " << when(e.enqueued_at) << "\t" << e.attempts << " attempts\t" << e.last_error
            << "\n";
}

}  // namespace

int cache_status(Services& s) {
  if (!s.cache_store) return fail("no datastore has cache = true");
  auto all = figures(s);
  if (!all) return fail(all.error().message());
  std::cout << "datastore\tqueued\tlag_seconds\tstuck\ttombstones\n";
  for (const auto& f : *all) {
    std::cout << f.name << "\t" << f.stats.length << "\t" << f.lag_seconds << "\t" << f.stats.stuck << "\t"
              << f.stats.tombstones << "\n";
  }
  return 0;
}

int cache_stuck(Services& s) {
  if (!s.cache_store) return fail("no datastore has cache = true");
  auto entries = s.cache_store->stuck();
  if (!entries) return fail(entries.error().message());
  if (!entries->empty()) std::cout << "entry\tdatastore\tuser\taction\titem\tqueued (UTC)\tattempts\tlast error\n";
  for (const auto& e : *entries) print_entry(e);
  return 0;
}

int cache_retry(Services& s, int64_t seq) {
  if (!s.cache_store) return fail("no datastore has cache = true");
  if (Status st = s.cache_store->retry_now(seq); !st.is_ok()) return fail(st.message());
  std::cout << "queue entry " << seq << " will be tried again\n";
  return 0;
}

int cache_drop(Services& s, int64_t seq) {
  if (!s.cache_store) return fail("no datastore has cache = true");
  auto record = s.cache_store->drop(seq, s.clock.now_seconds());
  if (!record) return fail(record.error().message());
  std::cout << "queue entry " << seq << " dropped; its content is kept as dropped record " << *record
            << " (conflux cache dropped)\n";
  return 0;
}

int cache_dropped(Services& s) {
  if (!s.cache_store) return fail("no datastore has cache = true");
  auto records = s.cache_store->dropped();
  if (!records) return fail(records.error().message());
  for (const auto& d : *records) {
    std::cout << "--- dropped record " << d.id << " (queue entry " << d.entry.seq << ", dropped " << when(d.dropped_at)
              << " UTC)\n"
              << d.entry.database << "\t" << d.entry.user.str() << "\t" << caf::action_name(d.entry.action) << "\t"
              << d.entry.cuid.str() << "\t" << d.entry.attempts << " attempts\t" << d.entry.last_error << "\n";
    if (!d.raw.empty()) std::cout << d.content_type << "\n" << d.raw << (d.raw.back() == '\n' ? "" : "\n");
  }
  return 0;
}

std::string cache_metrics(Services& s) {
  auto all = figures(s);
  if (!all) return "# cache unreadable: " + all.error().message() + "\n";
  if (all->empty()) return "";
  std::ostringstream out;
  auto family = [&](const char* name, const char* help, auto value) {
    out << "# HELP " << name << " " << help << "\n# TYPE " << name << " gauge\n";
    for (const auto& f : *all) out << name << "{datastore=\"" << label(f.name) << "\"} " << value(f) << "\n";
  };
  family("conflux_cache_queue_length", "Changes waiting for the Cache Monitor.",
         [](const StoreFigures& f) { return static_cast<int64_t>(f.stats.length); });
  family("conflux_cache_replication_lag_seconds", "Age of the oldest queued change.",
         [](const StoreFigures& f) { return f.lag_seconds; });
  family("conflux_cache_stuck_entries", "Queued changes the Cache Monitor gave up on.",
         [](const StoreFigures& f) { return static_cast<int64_t>(f.stats.stuck); });
  family("conflux_cache_tombstones", "Deleted items the cache still keeps.",
         [](const StoreFigures& f) { return static_cast<int64_t>(f.stats.tombstones); });
  return out.str();
}

void register_cache_commands(CLI::App& app, Context& ctx) {
  auto entry = std::make_shared<int64_t>(0);
  auto* cache = app.add_subcommand("cache", "the persistent cache's replication queue");
  cache->require_subcommand(0, 1);
  // Every cache command needs the cache, which only the configured stores open.
  auto with_cache = [](std::function<int(Services&)> run) {
    return [run = std::move(run)](const config::Config& cfg) {
      auto services = Services::open_all(cfg);
      if (!services) return fail(services.error().message());
      return run(**services);
    };
  };
  set_action(cache->add_subcommand("status", "per cached datastore: queued, lag, stuck, tombstones"), ctx,
             with_cache(cache_status));
  set_action(cache->add_subcommand("stuck", "queue entries the Cache Monitor gave up on"), ctx,
             with_cache(cache_stuck));
  auto* retry = cache->add_subcommand("retry", "try a stuck queue entry again");
  retry->add_option("id", *entry, "queue entry id (as listed)")->required();
  set_action(retry, ctx, with_cache([entry](Services& s) { return cache_retry(s, *entry); }));
  auto* drop = cache->add_subcommand("drop", "take an entry out of the queue, keeping its content on record");
  drop->add_option("id", *entry, "queue entry id (as listed)")->required();
  set_action(drop, ctx, with_cache([entry](Services& s) { return cache_drop(s, *entry); }));
  set_action(cache->add_subcommand("dropped", "entries dropped so far, with their content"), ctx,
             with_cache(cache_dropped));
}

}  // namespace conflux::app
