// libFuzzer target: the whole message path, SyncHandler::operator() over a
// real SyncEngine, ContentManager and TokenService, with the tests'
// in-memory back end (tests/caf/memory_adapter.h) and state store
// (tests/engine/memory_state_store.h) as the only seams swapped.
//
// Each input is the body of two POSTs to /sync, as XML or WBXML by its first
// byte (a WBXML document starts with its version, 0x00-0x03):
//   1. a session's first message (no ?sid=);
//   2. a continuation (?sid=) of the session LLVMFuzzerInitialize opened with
//      a valid pkg 1 (user "fuzz", device "fuzz-device", alerts for contacts
//      and calendar), so inputs that claim to come from fuzz-device reach
//      pkg 3-6 paths: Sync with changes, Map, Status, Put/Get, Results.
// Every input starts from the same state: a fresh world (back end holding two
// contacts, empty state store) into which the saved pkg-1 session is put back.
// State never carries over from one input to the next, so a finding
// reproduces from its input alone.
//
// Properties beyond "no crash, hang or sanitizer report":
//   - the HTTP status is one SyncHandler documents for client input (200,
//     400, 404, 413, 415); 503 means the engine failed on a state store that
//     cannot fail, i.e. a client message made it give up;
//   - a 200 reply decodes with our own decoder for its content type.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "caf/backend_registry.h"
#include "caf/content_manager.h"
#include "caf/token_service.h"
#include "common/clock.h"
#include "common/log.h"
#include "engine/sync_engine.h"
#include "fuzz/properties.h"
#include "protocol/wbxml_codec.h"
#include "protocol/xml_codec.h"
#include "server/sync_handler.h"
#include "tests/caf/fake_account_directory.h"
#include "tests/caf/memory_adapter.h"
#include "tests/engine/memory_state_store.h"

namespace conflux::fuzz {
namespace {

constexpr const char* kXmlType = "application/vnd.syncml+xml";
constexpr const char* kWbxmlType = "application/vnd.syncml+wbxml";

// Pkg 1 of the session every continuation belongs to: basic auth fuzz:fuzz,
// a slow sync of contacts (the server sends its two items in pkg 4) and a
// two-way sync of calendar with an anchor the server does not know (508).
constexpr std::string_view kPkg1 =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><SyncML xmlns=\"SYNCML:SYNCML1.2\"><SyncHdr>"
    "<VerDTD>1.2</VerDTD><VerProto>SyncML/1.2</VerProto><SessionID>1</SessionID><MsgID>1</MsgID>"
    "<Target><LocURI>http://fuzz.invalid/sync</LocURI></Target><Source><LocURI>fuzz-device</LocURI></Source>"
    "<Cred><Meta><Format xmlns=\"syncml:metinf\">b64</Format><Type xmlns=\"syncml:metinf\">syncml:auth-basic</Type>"
    "</Meta><Data>ZnV6ejpmdXp6</Data></Cred>"
    "<Meta><MaxMsgSize xmlns=\"syncml:metinf\">65536</MaxMsgSize></Meta></SyncHdr><SyncBody>"
    "<Alert><CmdID>1</CmdID><Data>201</Data><Item><Target><LocURI>contacts</LocURI></Target>"
    "<Source><LocURI>./contacts</LocURI></Source><Meta><Anchor xmlns=\"syncml:metinf\"><Next>1</Next></Anchor>"
    "</Meta></Item></Alert>"
    "<Alert><CmdID>2</CmdID><Data>200</Data><Item><Target><LocURI>calendar</LocURI></Target>"
    "<Source><LocURI>./calendar</LocURI></Source><Meta><Anchor xmlns=\"syncml:metinf\"><Last>7</Last>"
    "<Next>8</Next></Anchor></Meta></Item></Alert><Final/></SyncBody></SyncML>";

constexpr int64_t kNow = 1'700'000'000;

// Everything one input runs against; built afresh per input (microseconds).
struct World {
  World() {
    accounts.add("fuzz", "fuzz");
    require(registry.add_factory(std::make_unique<test::MemoryAdapterFactory>(memory)), "add memory factory");
    for (auto [name, type, version] :
         {std::tuple{"contacts", "text/vcard", "3.0"}, std::tuple{"calendar", "text/calendar", "2.0"},
          std::tuple{"notes", "text/plain", "1.0"}}) {
      caf::StoreSettings s;
      s.name = name;
      s.adapter = test::MemoryAdapterFactory::kKind;
      s.content_type = type;
      s.content_version = version;
      require(registry.add_store(s, caf::AdapterEnv{"/nonexistent"}), "add store");
    }
    std::vector<caf::SyncObj> items;
    for (const char* name : {"Ada Lovelace", "Alan Turing"}) {
      caf::SyncObj obj;
      obj.action = caf::Action::kCreate;
      obj.database = "contacts";
      obj.user = UserId("fuzz");
      obj.content_type = "text/vcard";
      obj.raw = std::string("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:") + name + "\r\nN:" + name + ";;;;\r\nEND:VCARD\r\n";
      items.push_back(std::move(obj));
    }
    for (const auto& r : memory->apply(caf::StoreRef{UserId("fuzz"), "contacts", {}}, std::move(items))) {
      require(r.status, "seed contacts");
    }
    engine::EngineOptions options;
    // One secret for every World, so the pkg-1 session id (<key>.<tag>, the
    // tag an HMAC under this secret) opens the session in each of them.
    options.server_secret = "conflux-fuzz-server-secret";
    engine = std::make_unique<engine::SyncEngine>(manager, state, registry.stores(), options, clock);
    handler = std::make_unique<server::SyncHandler>(*engine, server::SyncHandlerOptions{});
  }

  static void require(const Status& s, const char* what) {
    if (!s.is_ok()) property_failed(std::string("fuzz world setup: ") + what, s.to_string());
  }

  ManualClock clock{kNow};
  caf::TokenService tokens{std::string(32, 'k'), clock, 3600};
  test::FakeAccountDirectory accounts;
  std::shared_ptr<test::MemoryAdapter> memory = std::make_shared<test::MemoryAdapter>();
  caf::BackendRegistry registry;
  caf::ContentManager manager{registry, accounts, tokens, clock};
  test::MemoryStateStore state{clock};
  std::unique_ptr<engine::SyncEngine> engine;
  std::unique_ptr<server::SyncHandler> handler;
};

// The pkg-1 session: its key and the engine's saved state after pkg 2.
struct OpenSession {
  std::string id;  // as in the RespURI: <key>.<tag>
  SessionKey key;  // the state store's name for it
  std::string blob;
};
// CONFLUX_FUZZ_VERBOSE=1 prints each answer (for checking what a seed reaches).
bool g_verbose = false;

server::HttpRequest post(std::string target, const char* type, std::string body) {
  server::HttpRequest r;
  r.method = "POST";
  r.target = std::move(target);
  r.content_type = type;
  r.body = std::move(body);
  r.remote_address = "fuzz";
  return r;
}

// Checks the properties of one answer; returns the decoded reply of a 200.
std::optional<protocol::Message> check_response(const server::HttpResponse& r, std::string_view body,
                                                const char* mode) {
  const std::string where = std::string(mode) + ", body (hex): " + hex(body);
  if (g_verbose) std::fprintf(stderr, "--- %s: HTTP %d\n%s\n", mode, r.status, r.body.c_str());
  switch (r.status) {
    case 200: break;
    case 400:
    case 404:
    case 413:
    case 415: return std::nullopt;
    default:
      property_failed("SyncHandler answered HTTP " + std::to_string(r.status) + " to client input", r.body + where);
  }
  Result<protocol::Message> reply = Status::invalid_argument("unset");
  if (r.content_type == kXmlType) {
    reply = protocol::decode_xml(r.body);
  } else if (r.content_type == kWbxmlType) {
    reply = protocol::decode_wbxml(r.body);
  } else {
    property_failed("200 reply with content type '" + r.content_type + "'", where);
  }
  if (!reply) {
    property_failed("our own decoder rejects a 200 reply",
                    reply.error().to_string() + "\nreply (hex): " + hex(r.body, 4096) + "\n" + where);
  }
  return std::move(*reply);
}

// Runs pkg 1 and returns the session it opened.
OpenSession start_session() {
  World world;
  server::HttpResponse r = (*world.handler)(post("/sync", kXmlType, std::string(kPkg1)));
  auto reply = check_response(r, kPkg1, "pkg 1");
  if (!reply) property_failed("fuzz init: pkg 1 was not answered", std::to_string(r.status) + " " + r.body);
  const std::string& resp_uri = reply->hdr.resp_uri;
  const size_t at = resp_uri.find("?sid=");
  if (at == std::string::npos) property_failed("fuzz init: pkg 2 has no RespURI with ?sid=", r.body);
  const std::string id = resp_uri.substr(at + 5);
  OpenSession session{id, SessionKey(id.substr(0, id.find('.'))), ""};
  auto blob = world.state.load_session(session.key);
  if (!blob || !blob->has_value()) property_failed("fuzz init: pkg-1 session was not saved", r.body);
  session.blob = **blob;
  return session;
}

// The pkg-1 session, opened on first use (from LLVMFuzzerInitialize).
const OpenSession& open_session() {
  static const OpenSession session = start_session();
  return session;
}

}  // namespace
}  // namespace conflux::fuzz

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  const char* verbose = std::getenv("CONFLUX_FUZZ_VERBOSE");
  conflux::fuzz::g_verbose = verbose != nullptr && *verbose != '\0' && *verbose != '0';
  conflux::set_log_level(conflux::fuzz::g_verbose ? "debug" : "off");
  (void)conflux::fuzz::open_session();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace conflux;
  const std::string body(reinterpret_cast<const char*>(data), size);
  const char* type = size > 0 && data[0] <= 0x03 ? fuzz::kWbxmlType : fuzz::kXmlType;

  fuzz::World world;
  fuzz::check_response((*world.handler)(fuzz::post("/sync", type, body)), body, "new session");

  const fuzz::OpenSession& open = fuzz::open_session();
  fuzz::World::require(world.state.save_session(open.key, open.blob), "restore pkg-1 session");
  fuzz::check_response((*world.handler)(fuzz::post("/sync?sid=" + open.id, type, body)), body, "continuation");
  return 0;
}
