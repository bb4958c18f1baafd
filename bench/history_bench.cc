// history_bench: what the item history (caf/item_history.h) costs, in one
// run: 10,000 contacts in the SQLite back end, each edited 10 times, once
// without history and once with it (the HistoryRecorder around every apply,
// as the Content Manager does; the versions in their own conflux.db). Prints
// the CPU time per change with history off and on, and the space the
// versions take. docs/PERFORMANCE.md quotes its output.
//
//   build/bench/history_bench [contacts] [edits]   (defaults 10000 10)
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "adapters/sqlite/sqlite_adapter.h"
#include "caf/item_history.h"
#include "common/clock.h"
#include "store/sqlite_history_store.h"

namespace {

using namespace conflux;
namespace fs = std::filesystem;

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// A contact of about 300 bytes, as phones send them; `round` changes its NOTE.
std::string contact(int i, int round) {
  return "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Person " + std::to_string(i) + "\r\nN:" + std::to_string(i) +
         ";Person;;;\r\nTEL;TYPE=CELL:+49 170 " + std::to_string(1000000 + i) + "\r\nEMAIL;TYPE=INTERNET:person" +
         std::to_string(i) + "@example.org\r\nADR;TYPE=HOME:;;Street " + std::to_string(i % 500) +
         ";Berlin;;10115;Germany\r\nORG:Example Ltd\r\nNOTE:edit " + std::to_string(round) +
         " of a note that says a little about this person\r\nEND:VCARD\r\n";
}

uintmax_t size_of(const fs::path& db) {
  uintmax_t total = 0;
  for (const char* suffix : {"", "-wal"}) {
    std::error_code ec;
    auto n = fs::file_size(db.string() + suffix, ec);
    if (!ec) total += n;
  }
  return total;
}

struct Run {
  double cpu_per_change_us = 0;
  uintmax_t items_bytes = 0;
  uintmax_t history_bytes = 0;
  int64_t versions = 0;
};

int fail(const std::string& what) {
  std::fprintf(stderr, "history_bench: %s\n", what.c_str());
  return 1;
}

// Creates `contacts`, then edits each `edits` times in batches of 100, with
// the recorder around every apply when `history` is set.
Result<Run> run(const fs::path& dir, int contacts, int edits, bool history) {
  fs::create_directories(dir);
  auto items_db = SqliteDb::open((dir / "items.db").string());
  if (!items_db) return items_db.error();
  std::shared_ptr<SqliteDb> items(std::move(*items_db));
  caf::StoreSettings settings;
  settings.name = "contacts";
  settings.adapter = "sqlite";
  settings.content_type = "text/vcard";
  auto adapter = adapters::SqliteAdapter::open(items, settings);
  if (!adapter) return adapter.error();
  auto state_db = SqliteDb::open((dir / "conflux.db").string());
  if (!state_db) return state_db.error();
  std::shared_ptr<SqliteDb> state(std::move(*state_db));
  auto store = store::SqliteHistoryStore::open(state);
  if (!store) return store.error();
  SystemClock clock;
  settings.history_days = history ? 30 : 0;
  caf::HistoryRecorder recorder(**store, clock, {settings});
  caf::StoreRef ref{UserId("bench"), "contacts", {}, std::nullopt, "device bench", "bench"};

  std::vector<Guid> guids(contacts);
  auto write = [&](std::vector<caf::SyncObj>&& batch) -> Status {
    auto pending = recorder.before_apply(**adapter, ref, batch);
    auto results = (*adapter)->apply(ref, std::move(batch));
    recorder.after_apply(ref, std::move(pending), results);
    for (const auto& r : results) {
      if (!r.status.is_ok()) return r.status;
    }
    return Status::ok();
  };
  auto batch_of = [&](int first, int round) {
    std::vector<caf::SyncObj> batch;
    for (int i = first; i < first + 100 && i < contacts; ++i) {
      caf::SyncObj obj;
      obj.user = ref.user;
      obj.database = ref.database;
      obj.action = round == 0 ? caf::Action::kCreate : caf::Action::kUpdate;
      obj.guid = round == 0 ? Guid("c" + std::to_string(i)) : guids[i];
      obj.content_type = "text/vcard";
      obj.raw = contact(i, round);
      batch.push_back(std::move(obj));
    }
    return batch;
  };
  for (int first = 0; first < contacts; first += 100) {
    CFX_RETURN_IF_ERROR(write(batch_of(first, 0)));
    for (int i = first; i < first + 100 && i < contacts; ++i) guids[i] = Guid("c" + std::to_string(i));
  }
  const double start = cpu_seconds();
  for (int round = 1; round <= edits; ++round) {
    for (int first = 0; first < contacts; first += 100) CFX_RETURN_IF_ERROR(write(batch_of(first, round)));
  }
  Run out;
  out.cpu_per_change_us = (cpu_seconds() - start) * 1e6 / (static_cast<double>(contacts) * edits);
  CFX_RETURN_IF_ERROR(items->exec("PRAGMA wal_checkpoint(TRUNCATE)"));
  CFX_RETURN_IF_ERROR(state->exec("PRAGMA wal_checkpoint(TRUNCATE)"));
  out.items_bytes = size_of(dir / "items.db");
  out.history_bytes = size_of(dir / "conflux.db");
  auto versions = (*store)->versions(ref.user, ref.database, std::nullopt);
  if (!versions) return versions.error();
  out.versions = static_cast<int64_t>(versions->size());
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const int contacts = argc > 1 ? std::atoi(argv[1]) : 10000;
  const int edits = argc > 2 ? std::atoi(argv[2]) : 10;
  if (contacts <= 0 || edits <= 0) return fail("usage: history_bench [contacts] [edits]");
  const fs::path dir = fs::temp_directory_path() / ("history_bench." + std::to_string(getpid()));
  auto off = run(dir / "off", contacts, edits, false);
  if (!off) return fail(off.error().to_string());
  auto on = run(dir / "on", contacts, edits, true);
  fs::remove_all(dir);
  if (!on) return fail(on.error().to_string());
  const uintmax_t empty = off->history_bytes;  // the schema alone
  std::printf("%d contacts, each edited %d times (%d changes)\n", contacts, edits, contacts * edits);
  std::printf("CPU per change, history off: %.1f us\n", off->cpu_per_change_us);
  std::printf("CPU per change, history on:  %.1f us (+%.1f us)\n", on->cpu_per_change_us,
              on->cpu_per_change_us - off->cpu_per_change_us);
  std::printf("items.db:                    %.1f MB\n", static_cast<double>(on->items_bytes) / 1e6);
  std::printf("history (%lld versions):  %.1f MB, %.0f bytes per version\n", static_cast<long long>(on->versions),
              static_cast<double>(on->history_bytes - empty) / 1e6,
              static_cast<double>(on->history_bytes - empty) / static_cast<double>(on->versions));
  return 0;
}
