// The engine over a real ContentManager and TokenService, an in-memory back
// end (through a FaultyAdapter) and state store, with two datastores,
// "contacts" and "calendar", and the users alice/secret and bob/hunter2.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string>
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

using engine::DeviceStore;
using engine::EngineOptions;
using engine::SyncEngine;
using protocol::Command;
using protocol::CommandKind;
using protocol::Message;

class EngineFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    accounts_.add("alice", "secret");
    accounts_.add("bob", "hunter2");
    ASSERT_TRUE(registry_.add_factory(std::make_unique<FaultyAdapterFactory>(faulty_)).is_ok());
    for (const char* name : {"contacts", "calendar"}) {
      caf::StoreSettings s;
      s.name = name;
      s.adapter = FaultyAdapterFactory::kKind;
      s.content_type = "text/vcard";
      s.content_version = "3.0";
      ASSERT_TRUE(registry_.add_store(s, caf::AdapterEnv{"/nonexistent"}).is_ok());
    }
    engine_ = make_engine(EngineOptions{});
  }

  // An engine over this fixture's CAF and state store.
  std::unique_ptr<SyncEngine> make_engine(EngineOptions options) {
    return std::make_unique<SyncEngine>(manager_, state_, registry_.stores(), std::move(options), clock_);
  }

  // A device holding `names` on both sides after a completed slow sync; its
  // LUIDs in `luids_`, in the order of `names`.
  void seed(Device& d, const std::vector<std::string>& names) {
    for (const auto& n : names) luids_.push_back(d.add(vcard(n)));
    ASSERT_TRUE(d.sync(201).completed);
  }

  // Starts a two-way session of `d` and leaves it waiting for pkg 3.
  void open_session(Device& d) {
    d.start_session();
    auto p1 = d.send({alert(200, "contacts", d.last_anchor, "next-1")}, true, true);
    ASSERT_TRUE(p1) << p1.error().to_string();
    ASSERT_EQ(hdr_status_code(p1->reply), 212);
    const Command* st = find_status(p1->reply, "Alert");
    ASSERT_NE(st, nullptr);
    ASSERT_EQ(st->code, 200);
  }

  Message send_sync(Device& d, std::vector<Command> children) {
    auto out = d.send({sync_cmd("contacts", std::move(children))}, true);
    EXPECT_TRUE(out) << out.error().to_string();
    return out ? out->reply : Message{};
  }

  std::vector<std::string> server_raws() {
    auto raws = memory_->live_raws(UserId("alice"), "contacts");
    std::sort(raws.begin(), raws.end());
    return raws;
  }

  std::set<std::string> mapped_luids(const Device& d) {
    auto entries = state_.map_entries(DeviceStore{UserId("alice"), DeviceId(d.id()), "contacts"});
    EXPECT_TRUE(entries);
    std::set<std::string> luids;
    for (const auto& e : *entries) luids.insert(e.luid.str());
    return luids;
  }

  static Command group(CommandKind kind, std::vector<Command> children) {
    Command c;
    c.kind = kind;
    c.children = std::move(children);
    return c;
  }

  // An Add without Data: refused 412 without touching the back end.
  static Command incomplete_add(const std::string& luid) {
    Command c = change(CommandKind::kAdd, luid, "");
    c.items[0].data_kind = protocol::DataKind::kNone;
    return c;
  }

  static int code_for(const Message& m, const std::string& cmd_name, const std::string& luid) {
    for (const Command* s : find_statuses(m, cmd_name)) {
      if (std::find(s->source_refs.begin(), s->source_refs.end(), luid) != s->source_refs.end()) return s->code;
    }
    return -1;
  }

  ManualClock clock_{1'700'000'000};
  caf::TokenService tokens_{std::string(32, 'k'), clock_, 3600};
  FakeAccountDirectory accounts_;
  std::shared_ptr<MemoryAdapter> memory_ = std::make_shared<MemoryAdapter>();
  std::shared_ptr<FaultyAdapter> faulty_ = std::make_shared<FaultyAdapter>(memory_);
  caf::BackendRegistry registry_;
  caf::ContentManager manager_{registry_, accounts_, tokens_, clock_};
  MemoryStateStore state_{clock_};
  std::unique_ptr<SyncEngine> engine_;
  std::vector<std::string> luids_;
};

}  // namespace conflux::test
