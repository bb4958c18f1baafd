// Ids are types, not strings: passing a Luid where a Guid belongs must not
// compile. Each wraps the string the wire or the back end uses.
#pragma once

#include <compare>
#include <functional>
#include <string>
#include <string_view>

namespace conflux {

template <typename Tag>
class StrongId {
 public:
  StrongId() = default;
  explicit StrongId(std::string value) : value_(std::move(value)) {}

  const std::string& str() const { return value_; }
  bool empty() const { return value_.empty(); }
  auto operator<=>(const StrongId&) const = default;

 private:
  std::string value_;
};

struct GuidTag {};
struct LuidTag {};
struct CuidTag {};
struct UserIdTag {};
struct DeviceIdTag {};
struct SessionKeyTag {};

using Guid = StrongId<GuidTag>;              // the back end's global id of an item
using Luid = StrongId<LuidTag>;              // a device's local id of an item
using Cuid = StrongId<CuidTag>;              // the CAF cache's id of an item
using UserId = StrongId<UserIdTag>;          // a Conflux user name
using DeviceId = StrongId<DeviceIdTag>;      // SyncHdr Source LocURI of a client
using SessionKey = StrongId<SessionKeyTag>;  // our key for a SyncML session (in RespURI)

}  // namespace conflux

template <typename Tag>
struct std::hash<conflux::StrongId<Tag>> {
  size_t operator()(const conflux::StrongId<Tag>& id) const noexcept { return std::hash<std::string>()(id.str()); }
};

namespace conflux {
struct AnchorTag {};
// A back end's sync anchor: an opaque value the back end hands out ("current
// anchor", the revision an item was written at) and understands when given
// back ("changes since"). The engine only stores and compares for equality.
using Anchor = StrongId<AnchorTag>;
}  // namespace conflux
