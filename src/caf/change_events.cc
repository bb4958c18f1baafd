#include "caf/change_events.h"

namespace conflux::caf {

const char* change_source_name(ChangeSource source) {
  switch (source) {
    case ChangeSource::kDevice: return "device";
    case ChangeSource::kPortal: return "portal";
    case ChangeSource::kBackend: return "backend";
  }
  return "unknown";
}

}  // namespace conflux::caf
