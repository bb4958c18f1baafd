// Large objects (RepPro §"Large objects"): items bigger than a message travel
// in chunks, MoreData on all but the last and Size on the first, both ways.
#include <algorithm>
#include <optional>

#include "common/base64.h"
#include "common/log.h"
#include "engine/message_run.h"

namespace conflux::engine {

using protocol::Command;
using protocol::CommandKind;
using protocol::StatusCode;

SyncEngine::MessageRun::ChunkStep SyncEngine::MessageRun::take_client_chunk(DatastoreState& ds, const Command& cmd,
                                                                            const protocol::Item& item,
                                                                            protocol::Item& assembled) {
  const std::string luid = item.source ? item.source->loc_uri : (item.target ? item.target->loc_uri : "");
  if (ds.partial) {
    if (ds.partial->luid == luid && ds.partial->kind == cmd.kind) {
      ds.partial->data += item.data;
      if (ds.partial->data.size() > engine_.options_.max_object_size + 4) {
        ds.partial.reset();
        return ChunkStep{StatusCode::kRequestEntityTooLarge, false};
      }
      if (item.more_data) return ChunkStep{StatusCode::kChunkAccepted, false};
      // The last chunk: the object is whole. Its size must be the declared
      // one, counted in transported bytes or, for b64 data, decoded bytes
      // (RepPro §"Large objects"; clients differ).
      PartialItem whole = std::move(*ds.partial);
      ds.partial.reset();
      assembled = item;
      assembled.data = std::move(whole.data);
      assembled.more_data = false;
      assembled.meta = protocol::Meta{};
      assembled.meta->type = whole.type;
      assembled.meta->format = protocol::item_format_name(whole.format);
      const uint64_t sent = assembled.data.size();
      uint64_t decoded = sent;
      if (whole.format == protocol::ItemFormat::kB64) {
        if (auto bytes = base64_decode(assembled.data)) decoded = bytes->size();
      }
      if (whole.declared_size != sent && whole.declared_size != decoded) {
        logger("engine")->warn("session {} datastore {}: item {} declared {} bytes, {} arrived", session_.key.str(),
                               ds.server_uri, luid, whole.declared_size, sent);
        return ChunkStep{StatusCode::kSizeMismatch, false};
      }
      return ChunkStep{std::nullopt, true};
    }
    // Another item before the last chunk: the partial one is dropped and the
    // client told so (Alert 223, "no end of data").
    Command alert;
    alert.kind = CommandKind::kAlert;
    alert.cmd_id = next_cmd_id();
    alert.code = protocol::to_int(protocol::AlertCode::kNoEndOfData);
    protocol::Item about;
    about.target = protocol::LocRef{ds.partial->luid, {}};
    about.source = protocol::LocRef{ds.server_uri, {}};
    alert.items.push_back(std::move(about));
    commands_.push_back(std::move(alert));
    ds.partial.reset();
  }
  if (!item.more_data) return ChunkStep{std::nullopt, false};

  // The first chunk names the whole object's size.
  std::optional<uint64_t> size = item.meta && item.meta->size ? item.meta->size
                                 : cmd.meta && cmd.meta->size ? cmd.meta->size
                                                              : std::nullopt;
  if (!size) return ChunkStep{StatusCode::kSizeRequired, false};
  if (*size > engine_.options_.max_object_size) return ChunkStep{StatusCode::kRequestedSizeTooBig, false};
  ds.partial =
      PartialItem{cmd.kind, luid, item_type(cmd, item, ds.content_type), item_format(cmd, item), *size, item.data};
  return ChunkStep{StatusCode::kChunkAccepted, false};
}

SyncEngine::MessageRun::Chunk SyncEngine::MessageRun::take_chunk(Command& cmd, uint64_t& offset, uint64_t room) {
  protocol::Item& item = cmd.items.front();
  const std::string whole = std::move(item.data);
  // Room for data: what the message has left, less the command's own size.
  item.data.clear();
  const uint64_t frame = protocol::encoded_size(cmd, session_.version, where_.encoding) + 64;
  uint64_t want = room > frame + 256 ? room - frame : 256;
  for (;;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(want, whole.size() - offset));
    // Never split a UTF-8 sequence: the chunk travels as XML text.
    while (n > 0 && offset + n < whole.size() && (static_cast<uint8_t>(whole[offset + n]) & 0xC0) == 0x80) --n;
    if (n == 0) n = std::min<size_t>(whole.size() - offset, 4);
    item.data = whole.substr(offset, n);
    item.more_data = offset + n < whole.size();
    if (offset == 0) {
      if (!cmd.meta) cmd.meta = protocol::Meta{};
      cmd.meta->size = whole.size();  // the whole object, on the first chunk only
    }
    const uint64_t encoded = protocol::encoded_size(cmd, session_.version, where_.encoding);
    // Escaping can make text bigger on the wire than in bytes: shrink and retry.
    if (encoded > room && want > 256) {
      want = want * 3 / 4;
      continue;
    }
    offset += n;
    return Chunk{encoded, !item.more_data};
  }
}

}  // namespace conflux::engine
