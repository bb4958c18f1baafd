// The one fixture of the engine tests: a SyncEngine over a real
// ContentManager and TokenService, the in-memory back end (behind a
// FaultyAdapter) and a MemoryStateStore, all on one ManualClock. Two
// datastores, "contacts" (text/vcard 3.0) and "calendar" (text/calendar
// 2.0); two users, alice/secret and bob/hunter2. Devices made without a
// user are alice's (tests/engine/sync_client.h).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "caf/content_manager.h"
#include "caf/token_service.h"
#include "common/clock.h"
#include "engine/sync_engine.h"
#include "tests/caf/fake_account_directory.h"
#include "tests/caf/memory_adapter.h"
#include "tests/engine/faulty_adapter.h"
#include "tests/engine/memory_state_store.h"
#include "tests/engine/sync_client.h"

namespace conflux::test {

class EngineHarness : public ::testing::Test {
 protected:
  void SetUp() override {
    accounts_.add("alice", "secret");
    accounts_.add("bob", "hunter2");
    ASSERT_TRUE(registry_.add_factory(std::make_unique<FaultyAdapterFactory>(faulty_)).is_ok());
    for (auto [name, type, version] :
         {std::tuple{"contacts", "text/vcard", "3.0"}, std::tuple{"calendar", "text/calendar", "2.0"}}) {
      caf::StoreSettings s;
      s.name = name;
      s.adapter = FaultyAdapterFactory::kKind;
      s.content_type = type;
      s.content_version = version;
      ASSERT_TRUE(registry_.add_store(s, caf::AdapterEnv{"/nonexistent"}).is_ok());
    }
    restart_engine();
  }

  // A new engine with `options_` over the same CAF, back end and state store,
  // as after a server restart; `policy`, when given, becomes every
  // datastore's conflict policy. It takes the old engine's place, so Devices
  // made with engine() (or *engine_) stay valid.
  void restart_engine(const std::string& policy = "") {
    auto stores = registry_.stores();
    if (!policy.empty()) {
      for (auto& s : stores) s.conflict_policy = caf::parse_conflict_policy(policy).value();
    }
    engine_.emplace(manager_, state_, stores, options_, clock_);
  }
  engine::SyncEngine& engine() { return *engine_; }

  // Device `d` with `n` cards, "Person 0" to "Person n-1", after a completed
  // first slow sync.
  void seed(Device& d, int n) {
    for (int i = 0; i < n; ++i) d.add(vcard("Person " + std::to_string(i)));
    SyncRun run = d.sync(201);
    ASSERT_TRUE(run.completed);
  }

  // Live items of `user`'s contacts on the server.
  size_t server_items(const std::string& user = "alice") { return memory_->live_count(UserId(user), "contacts"); }
  // alice's live items of `db` on the server, sorted.
  std::vector<std::string> sorted_server(const std::string& db = "contacts") {
    auto raws = memory_->live_raws(UserId("alice"), db);
    std::sort(raws.begin(), raws.end());
    return raws;
  }
  // The status code `m` gives the `cmd_name` of item `luid` (-1: none).
  static int code_for(const protocol::Message& m, const std::string& cmd_name, const std::string& luid) {
    for (const protocol::Command* s : find_statuses(m, cmd_name)) {
      if (std::find(s->source_refs.begin(), s->source_refs.end(), luid) != s->source_refs.end()) return s->code;
    }
    return -1;
  }
  // The items device `d` holds, sorted.
  static std::vector<std::string> sorted_items(const Device& d) {
    std::vector<std::string> out;
    for (const auto& [luid, data] : d.items()) out.push_back(data);
    std::sort(out.begin(), out.end());
    return out;
  }

  ManualClock clock_{1'700'000'000};
  caf::TokenService tokens_{std::string(32, 'k'), clock_, 3600};
  FakeAccountDirectory accounts_;
  std::shared_ptr<MemoryAdapter> memory_ = std::make_shared<MemoryAdapter>();
  std::shared_ptr<FaultyAdapter> faulty_ = std::make_shared<FaultyAdapter>(memory_);
  caf::BackendRegistry registry_;
  caf::ContentManager manager_{registry_, accounts_, tokens_, clock_};
  MemoryStateStore state_{clock_};
  // What restart_engine() builds the engine with; set it, then restart.
  engine::EngineOptions options_;
  std::optional<engine::SyncEngine> engine_;
};

}  // namespace conflux::test
