// The files `conflux export` writes and `conflux import` reads: every item of
// a datastore in one file, as other programs exchange them. A contacts store
// gives a file of vCards one after the other (.vcf); a calendar store gives
// one iCalendar VCALENDAR holding every VEVENT and VTODO with the VTIMEZONEs
// they use (.ics). Which one follows from the store's content type.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "caf/store_settings.h"
#include "common/status.h"
#include "data/data_object.h"

namespace conflux::app {

enum class ItemFileKind { kVCards, kICalendar };

// The file kind for a store of `settings`; kInvalidArgument for a store of
// another content type (notes, files, records), naming it.
Result<ItemFileKind> item_file_kind(const caf::StoreSettings& settings);

// The store's items, each as the raw bytes of one item (as the CAF holds
// them), joined into one file. kInvalidArgument names the item that is not
// a vCard or iCalendar item.
Result<std::string> join_item_file(ItemFileKind kind, const std::vector<std::string>& items);

// The items of a file, each as raw bytes in `store_format` (a vCard is kept
// byte for byte when it is in the store's version already; a calendar item
// is written as one VCALENDAR). kInvalidArgument names the broken item.
Result<std::vector<std::string>> split_item_file(ItemFileKind kind, std::string_view file,
                                                 const data::Format& store_format);

}  // namespace conflux::app
