#include "portal/push.h"

#include <deque>
#include <nlohmann/json.hpp>

namespace conflux::portal {

using nlohmann::json;

namespace {

constexpr auto kLookInterval = std::chrono::seconds(1);
// Pieces waiting for a client that does not read: beyond this the stream
// ends (the client reconnects and gets the current state).
constexpr size_t kMaxPending = 64;

std::string event(const char* type, const json& data) {
  return std::string("event: ") + type + "\ndata: " + data.dump() + "\n\n";
}

}  // namespace

class PushHub::Stream final : public server::ResponseStream {
 public:
  Stream(caf::Token token, EventSourceOptions options, int64_t now)
      : token_(std::move(token)), options_(std::move(options)), next_ping_(now + options_.ping_seconds) {}

  void next(std::function<void(std::string)> deliver) override {
    std::unique_lock lock(mutex_);
    if (!pending_.empty()) {
      std::string piece = std::move(pending_.front());
      pending_.pop_front();
      lock.unlock();
      deliver(std::move(piece));
    } else if (ended_) {
      lock.unlock();
      deliver("");
    } else {
      deliver_ = std::move(deliver);
    }
  }

  void cancel() override {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
    deliver_ = nullptr;
  }

  bool cancelled() {
    std::lock_guard lock(mutex_);
    return cancelled_;
  }

  // Queues `piece`; an empty one ends the stream.
  void push(std::string piece) {
    std::unique_lock lock(mutex_);
    if (cancelled_ || ended_) return;
    if (piece.empty() || pending_.size() >= kMaxPending)
      ended_ = true;
    else
      pending_.push_back(std::move(piece));
    if (!deliver_) return;
    auto deliver = std::exchange(deliver_, nullptr);
    std::string out;
    if (!pending_.empty()) {
      out = std::move(pending_.front());
      pending_.pop_front();
    }
    lock.unlock();
    deliver(std::move(out));
  }

  // Called by the hub's thread only.
  void look(JmapApi& api, const caf::TokenService& tokens, int64_t now) {
    if (!tokens.verify(token_.value)) return push("");  // expired: the client logs in again
    json changed = json::object();
    const json states = api.states(token_);
    for (const auto& [account, by_type] : states.items()) {
      for (auto& [type, state] : by_type.items()) {
        if (!options_.types.empty() && !options_.types.count(type)) continue;
        if (last_.contains(account) && last_[account].value(type, "") == state) continue;
        last_[account][type] = state;
        changed[account][type] = state;
      }
    }
    if (!changed.empty()) {
      // The first look sends the current state, except to a client that
      // waits for one change (closeafter=state, long-poll style).
      const bool initial = !seen_first_;
      seen_first_ = true;
      if (!(initial && options_.close_after_state)) {
        push(event("state", {{"@type", "StateChange"}, {"changed", changed}}));
        if (options_.close_after_state) return push("");
      }
    }
    if (options_.ping_seconds > 0 && now >= next_ping_) {
      next_ping_ = now + options_.ping_seconds;
      push(event("ping", {{"interval", options_.ping_seconds}}));
    }
  }

 private:
  const caf::Token token_;
  const EventSourceOptions options_;
  // The hub thread's own.
  json last_ = json::object();  // account → type → state last sent
  bool seen_first_ = false;
  int64_t next_ping_;

  std::mutex mutex_;
  std::deque<std::string> pending_;           // guarded by mutex_
  std::function<void(std::string)> deliver_;  // guarded by mutex_
  bool cancelled_ = false;                    // guarded by mutex_
  bool ended_ = false;                        // guarded by mutex_
};

PushHub::PushHub(JmapApi& api, const caf::TokenService& tokens, const Clock& clock)
    : api_(api), tokens_(tokens), clock_(clock), thread_([this](const std::stop_token& stop) { run(stop); }) {}

PushHub::~PushHub() { stop(); }

std::shared_ptr<server::ResponseStream> PushHub::subscribe(const caf::Token& token, EventSourceOptions options) {
  auto stream = std::make_shared<Stream>(token, std::move(options), clock_.now_seconds());
  {
    std::lock_guard lock(mutex_);
    streams_.push_back(stream);
  }
  wake_.notify_all();  // the first event (the current state) goes out now
  return stream;
}

void PushHub::stop() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
  std::vector<std::shared_ptr<Stream>> streams;
  {
    std::lock_guard lock(mutex_);
    streams.swap(streams_);
  }
  for (auto& s : streams) s->push("");
}

void PushHub::look_once() {
  std::vector<std::shared_ptr<Stream>> streams;
  {
    std::lock_guard lock(mutex_);
    std::erase_if(streams_, [](const auto& s) { return s->cancelled(); });
    streams = streams_;
  }
  const int64_t now = clock_.now_seconds();
  for (auto& s : streams) s->look(api_, tokens_, now);
}

void PushHub::run(const std::stop_token& stop) {
  std::mutex mu;
  while (!stop.stop_requested()) {
    look_once();
    std::unique_lock lock(mu);
    wake_.wait_for(lock, stop, kLookInterval, [] { return false; });
  }
}

}  // namespace conflux::portal
