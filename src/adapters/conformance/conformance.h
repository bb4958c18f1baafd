// The adapter conformance suite: one set of cases every content adapter must
// pass — the built-in ones in CI (tests/adapters/conformance/), a plugin
// through `conflux conformance --plugin <.so>`. Each case drives the adapter
// through the caf::ContentAdapter contract (caf/content_adapter.h) the way
// the engine and the cache do, as its own user, so cases do not see each
// other's items and may share one back end.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "caf/content_adapter.h"
#include "common/status.h"

namespace conflux::conformance {

// One adapter under test and its back end.
class Target {
 public:
  virtual ~Target() = default;

  // A new adapter on the target's back end (items written through one are
  // seen by the next).
  virtual Result<std::shared_ptr<caf::ContentAdapter>> open() = 0;
  // Another writer on the same back end with no state shared with open()'s
  // adapters, as another program would be; for the change-notification case.
  virtual Result<std::shared_ptr<caf::ContentAdapter>> open_other() { return open(); }

  // Makes the back end unreachable, and reachable again, as an outage would.
  // kUnimplemented: the "backend_down" case is skipped.
  virtual Status take_down() { return Status::unimplemented("the target cannot take its back end down"); }
  virtual Status bring_up() { return Status::unimplemented("the target cannot take its back end down"); }

  // Credentials the back end accepts, for adapters with kCapOwnAccounts;
  // nullopt: "bad_credentials" checks only that wrong ones are refused.
  virtual std::optional<caf::Credentials> good_credentials() { return std::nullopt; }
};

enum class Outcome { kPassed, kFailed, kSkipped };

struct Verdict {
  Outcome outcome = Outcome::kPassed;
  std::string detail;  // why it failed or was skipped

  static Verdict passed() { return {}; }
  static Verdict failed(std::string why) { return {Outcome::kFailed, std::move(why)}; }
  static Verdict skipped(std::string why) { return {Outcome::kSkipped, std::move(why)}; }
};

struct Case {
  std::string name;     // "create", "backend_down" — what a failure is reported as
  std::string summary;  // one line: what the adapter must do
  std::function<Verdict(Target&)> run;
};

// Every case, in a fixed order.
const std::vector<Case>& cases();

// Runs one case; a case that cannot open the adapter fails with that error.
Verdict run_case(const Case& c, Target& target);

}  // namespace conflux::conformance
