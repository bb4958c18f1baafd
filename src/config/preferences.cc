#include "config/preferences.h"

#include <algorithm>
#include <set>

#include "common/log.h"

namespace conflux::config {
namespace {

std::vector<std::string> segments(const std::string& path) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t dot; (dot = path.find('.', start)) != std::string::npos; start = dot + 1) {
    out.push_back(path.substr(start, dot - start));
  }
  out.push_back(path.substr(start));
  return out;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

// "stores.x.adapter" → "x"; "" for a key outside [stores].
std::string store_of(const std::string& key) {
  if (!key.starts_with("stores.")) return "";
  const std::string rest = key.substr(7);
  return rest.substr(0, rest.find('.'));
}

}  // namespace

Preferences::Preferences(Config initial) : current_(std::make_shared<const Config>(std::move(initial))) {}

std::shared_ptr<const Config> Preferences::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

void Preferences::on_change(Subscriber subscriber) { subscribers_.push_back(std::move(subscriber)); }

void Preferences::add_check(std::string name, std::function<Status(const Config&)> check) {
  checks_.emplace_back(std::move(name), std::move(check));
}

bool Preferences::covers(const std::string& pattern, const std::string& key) {
  const auto want = segments(pattern);
  const auto have = segments(key);
  if (want.size() > have.size()) return false;
  for (size_t i = 0; i < want.size(); ++i) {
    if (want[i] != "*" && want[i] != have[i]) return false;
  }
  return true;
}

bool Preferences::follows(const Subscriber& subscriber, const std::vector<std::string>& changed) const {
  if (subscriber.keys.empty()) return true;
  return std::any_of(changed.begin(), changed.end(), [&](const std::string& key) {
    return std::any_of(subscriber.keys.begin(), subscriber.keys.end(),
                       [&](const std::string& pattern) { return covers(pattern, key); });
  });
}

Preferences::ReloadReport Preferences::reload(Result<Config> candidate) {
  auto log = logger("config");
  ReloadReport report;
  if (!candidate) {
    report.status = candidate.error();
    log->error("reload refused, the old settings stay in force: {}", report.status.message());
    return report;
  }
  const auto before = config_keys(*current());
  const auto after = config_keys(*candidate);
  for (const auto& [key, value] : after) {
    auto it = before.find(key);
    if (it == before.end() || it->second != value) report.changed.push_back(key);
  }
  for (const auto& [key, _] : before) {
    if (!after.count(key)) report.changed.push_back(key);
  }
  std::sort(report.changed.begin(), report.changed.end());

  for (const auto& [name, check] : checks_) {
    if (Status st = check(*candidate); !st.is_ok()) {
      report.status = st;
      log->error("reload refused, the old settings stay in force: {}", st.message());
      return report;
    }
  }
  for (const auto& subscriber : subscribers_) {
    if (!subscriber.check || !follows(subscriber, report.changed)) continue;
    if (Status st = subscriber.check(*candidate); !st.is_ok()) {
      report.status = st.with_context(subscriber.name);
      log->error("reload refused, the old settings stay in force: {}", report.status.message());
      return report;
    }
  }

  auto snapshot = std::make_shared<const Config>(std::move(*candidate));
  for (const auto& subscriber : subscribers_) {
    if (!follows(subscriber, report.changed)) continue;
    subscriber.apply(*snapshot);
    report.applied_by.push_back(subscriber.name);
  }
  for (const auto& key : report.changed) {
    bool live = std::any_of(subscribers_.begin(), subscribers_.end(), [&](const Subscriber& s) {
      return std::any_of(s.keys.begin(), s.keys.end(), [&](const std::string& p) { return covers(p, key); });
    });
    if (!live) report.needs_restart.push_back(key);
  }
  {
    std::lock_guard lock(mutex_);
    current_ = snapshot;
  }
  // In the log a datastore added or removed is one line, not one per key.
  std::vector<std::string> whole_stores;  // "datastore 'x' added"
  std::set<std::string> whole_store_names;
  for (const auto& [key, _] : after) {
    if (key.starts_with("stores.") && key.ends_with(".adapter") && !before.count(key)) {
      whole_store_names.insert(store_of(key));
      whole_stores.push_back("datastore '" + store_of(key) + "' added");
    }
  }
  for (const auto& [key, _] : before) {
    if (key.starts_with("stores.") && key.ends_with(".adapter") && !after.count(key)) {
      whole_store_names.insert(store_of(key));
      whole_stores.push_back("datastore '" + store_of(key) + "' removed");
    }
  }
  auto single_keys = [&](const std::vector<std::string>& keys) {
    std::vector<std::string> out;
    for (const auto& key : keys) {
      if (!whole_store_names.count(store_of(key))) out.push_back(key);
    }
    return out;
  };
  const std::vector<std::string> changed_keys = single_keys(report.changed);
  if (report.changed.empty()) {
    log->info("reload: nothing changed");
  } else if (!changed_keys.empty()) {
    log->info("reload: changed {}; applied by {}", joined(changed_keys),
              report.applied_by.empty() ? "nobody" : joined(report.applied_by));
  }
  for (const auto& what : whole_stores) log->warn("reload: {} but needs a restart to take effect", what);
  for (const auto& key : single_keys(report.needs_restart)) {
    log->warn("reload: {} changed but needs a restart to take effect", key);
  }
  return report;
}

}  // namespace conflux::config
