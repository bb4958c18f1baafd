// conflux-csv: a Conflux content adapter plugin that keeps each user's
// contacts in a CSV address book — the file Google Contacts and Outlook
// export and import — so a spreadsheet, a mail client's import and a phone
// syncing through Conflux all see the same contacts, both ways.
//
// Store section:
//   adapter   = "plugin"
//   plugin    = "conflux-csv"            (or the .so's absolute path)
//   directory = "/srv/addressbooks"      the user's book is <directory>/<user>/<database>.csv
//   layout    = "google" | "outlook"     columns of books this plugin creates (default google);
//                                        an existing book keeps the layout of its header row
//
// Ids: each row keeps its Conflux id in a column "Conflux ID" (added to a
// book exported without it; importers ignore it). A row someone
// added by hand has none; its id is derived from its content until this
// plugin next writes the book, which stores it. A row's revision is a hash of
// the row, so every edit — by Conflux or in a spreadsheet — is seen.
//
// Back end down: a `directory` that is not there (an unmounted share) is
// CFX_UNAVAILABLE, and nothing is written.
//
// Every call reads the book afresh (other programs edit it); a write goes to a
// temporary file, is fsynced and renamed over the book, so a reader never
// sees half a book. The host serialises calls (no CFX_CAP_CONCURRENT).
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <conflux/sdk/adapter.h>

#include "csv_contacts.h"

using csv_plugin::Contact;
using csv_plugin::Layout;

struct cfx_ctx {
  std::string directory;
  Layout layout = Layout::kGoogle;
};

namespace {

cfx_status fail(cfx_error* err, cfx_status code, const std::string& message, const char* key = nullptr) {
  snprintf(err->message, sizeof err->message, "%s", message.c_str());
  if (key) snprintf(err->key, sizeof err->key, "%s", key);
  return code;
}

std::string hex_hash(const std::string& bytes) {  // FNV-1a, 64 bit: a revision, not security
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char out[17];
  snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
  return out;
}

bool is_directory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// One user's address book in memory.
struct Book {
  Layout layout = Layout::kGoogle;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;

  Contact contact(size_t i) const { return csv_plugin::from_row(layout, header, rows[i]); }
  // The id the row keeps ("" when none).
  std::string stored_id(size_t i) const {
    if (id_column < 0 || static_cast<size_t>(id_column) >= rows[i].size()) return "";
    return rows[i][id_column];
  }
  std::string id(size_t i) const {
    std::string stored = stored_id(i);
    return stored.empty() ? "h" + revision(i) : stored;
  }
  std::string revision(size_t i) const { return hex_hash(csv_plugin::write_csv_record(rows[i])); }
  // Index of the row with `id`; rows.size() when there is none.
  size_t find(const std::string& wanted) const {
    for (size_t i = 0; i < rows.size(); ++i) {
      if (id(i) == wanted) return i;
    }
    return rows.size();
  }

 int id_column = -1;  // index of kIdColumn in header
};

// Where ids are kept; a book without the column (an export straight from
// Google or Outlook) gets it, at the end.
void find_id_column(Book& book) {
  for (size_t i = 0; i < book.header.size(); ++i) {
    if (book.header[i] == csv_plugin::kIdColumn) {
      book.id_column = static_cast<int>(i);
      return;
    }
  }
  book.header.push_back(csv_plugin::kIdColumn);
  book.id_column = static_cast<int>(book.header.size() - 1);
}

std::string user_dir(const cfx_ctx* ctx, const cfx_store_ref* store) { return ctx->directory + "/" + store->user; }
std::string book_path(const cfx_ctx* ctx, const cfx_store_ref* store) {
  return user_dir(ctx, store) + "/" + store->database + ".csv";
}

// CFX_NOT_FOUND when the user has no book yet (the collection is missing).
cfx_status load(const cfx_ctx* ctx, const cfx_store_ref* store, Book& book, cfx_error* err) {
  if (!is_directory(ctx->directory)) {
    return fail(err, CFX_UNAVAILABLE, "address book directory " + ctx->directory + " is not there");
  }
  const std::string path = book_path(ctx, store);
  FILE* f = fopen(path.c_str(), "rb");
  if (f == nullptr) {
    if (errno == ENOENT) return fail(err, CFX_NOT_FOUND, "no address book " + path);
    return fail(err, CFX_UNAVAILABLE, "cannot read " + path + ": " + strerror(errno));
  }
  std::string text;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  const bool read_error = ferror(f);
  fclose(f);
  if (read_error) return fail(err, CFX_UNAVAILABLE, "cannot read " + path);
  auto records = csv_plugin::parse_csv(text);
  book.layout = ctx->layout;
  if (records.empty()) {
    book.header = csv_plugin::header_of(book.layout);
    find_id_column(book);
    return CFX_OK;
  }
  if (!csv_plugin::detect_layout(records[0], book.layout)) {
    return fail(err, CFX_FAILED_PRECONDITION, path + ": the first row is neither a Google nor an Outlook header");
  }
  book.header = records[0];
  book.rows.assign(records.begin() + 1, records.end());
  find_id_column(book);
  return CFX_OK;
}

// An existing book, or a new empty one when the user has none yet.
cfx_status load_or_new(const cfx_ctx* ctx, const cfx_store_ref* store, Book& book, cfx_error* err) {
  cfx_status st = load(ctx, store, book, err);
  if (st != CFX_NOT_FOUND) return st;
  *err = cfx_error{};
  book = Book{};
  book.layout = ctx->layout;
  book.header = csv_plugin::header_of(book.layout);
  find_id_column(book);
  return CFX_OK;
}

cfx_status write_all(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return errno == ENOSPC || errno == EDQUOT ? CFX_RESOURCE_EXHAUSTED : CFX_UNAVAILABLE;
    done += static_cast<size_t>(w);
  }
  return CFX_OK;
}

// Writes the whole book: temp file, fsync, rename, fsync of the directory.
// Rows without an id get theirs stored, so it stays fixed from now on.
cfx_status save(const cfx_ctx* ctx, const cfx_store_ref* store, Book& book, cfx_error* err) {
  for (size_t i = 0; i < book.rows.size(); ++i) {
    if (!book.stored_id(i).empty()) continue;
    Contact c = book.contact(i);
    c.id = book.id(i);
    book.rows[i] = csv_plugin::to_row(book.layout, book.header, c);
  }
  const std::string dir = user_dir(ctx, store);
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return fail(err, CFX_UNAVAILABLE, "cannot create " + dir + ": " + strerror(errno));
  }
  std::string text = csv_plugin::write_csv_record(book.header);
  for (const auto& row : book.rows) text += csv_plugin::write_csv_record(row);
  const std::string path = book_path(ctx, store);
  const std::string temp = dir + "/." + store->database + ".csv.tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return fail(err, CFX_UNAVAILABLE, "cannot write " + temp + ": " + strerror(errno));
  cfx_status st = write_all(fd, text);
  if (st == CFX_OK && ::fsync(fd) != 0) st = CFX_UNAVAILABLE;
  ::close(fd);
  if (st == CFX_OK && ::rename(temp.c_str(), path.c_str()) != 0) st = CFX_UNAVAILABLE;
  if (st != CFX_OK) {
    ::unlink(temp.c_str());
    return fail(err, st, "cannot write " + path + ": " + strerror(errno));
  }
  if (int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return CFX_OK;
}

// --- the adapter's functions (include/conflux/sdk/adapter.h)

cfx_status csv_open(const char* /*database: one book per user and database, named at each call*/, const cfx_option* options, size_t count, cfx_ctx** ctx_r,
                    cfx_error* err) {
  cfx_ctx ctx;
  for (size_t i = 0; i < count; ++i) {
    const std::string key = options[i].key, value = options[i].value;
    if (key == "directory") {
      if (value.empty() || value[0] != '/') return fail(err, CFX_INVALID_ARGUMENT, "must be an absolute path", "directory");
      if (!is_directory(value)) return fail(err, CFX_INVALID_ARGUMENT, "no directory " + value, "directory");
      ctx.directory = value;
    } else if (key == "layout") {
      if (value == "google") {
        ctx.layout = Layout::kGoogle;
      } else if (value == "outlook") {
        ctx.layout = Layout::kOutlook;
      } else {
        return fail(err, CFX_INVALID_ARGUMENT, "must be google or outlook, not '" + value + "'", "layout");
      }
    }
  }
  if (ctx.directory.empty()) return fail(err, CFX_INVALID_ARGUMENT, "required", "directory");
  *ctx_r = new cfx_ctx(std::move(ctx));
  return CFX_OK;
}

void csv_close(cfx_ctx* ctx) { delete ctx; }

cfx_status csv_list(cfx_ctx* ctx, const cfx_store_ref* store, const cfx_list_sink* sink, cfx_error* err) {
  Book book;
  if (cfx_status st = load(ctx, store, book, err); st != CFX_OK) return st;
  for (size_t i = 0; i < book.rows.size(); ++i) sink->put(sink->host, book.id(i).c_str(), book.revision(i).c_str());
  return CFX_OK;
}

cfx_status csv_read(cfx_ctx* ctx, const cfx_store_ref* store, const char* id, const cfx_bytes_sink* sink,
                    cfx_error* err) {
  Book book;
  if (cfx_status st = load(ctx, store, book, err); st != CFX_OK) return st;
  size_t i = book.find(id);
  if (i == book.rows.size()) return fail(err, CFX_NOT_FOUND, std::string("no contact ") + id);
  const std::string card = csv_plugin::to_vcard(book.contact(i));
  sink->put(sink->host, card.data(), card.size());
  return CFX_OK;
}

cfx_status csv_write(cfx_ctx* ctx, const cfx_store_ref* store, const cfx_sync_obj* obj, cfx_write_mode mode,
                     const cfx_bytes_sink* revision, cfx_error* err) {
  Contact contact;
  if (!csv_plugin::from_vcard(std::string(obj->data, obj->size), contact)) {
    return fail(err, CFX_INVALID_ARGUMENT, "not a vCard (this address book holds contacts only)");
  }
  contact.id = obj->guid;
  Book book;
  if (cfx_status st = load_or_new(ctx, store, book, err); st != CFX_OK) return st;
  size_t i = book.find(obj->guid);
  if (mode == CFX_WRITE_CREATE && i != book.rows.size()) {
    return fail(err, CFX_ALREADY_EXISTS, std::string("contact ") + obj->guid + " exists");
  }
  if (mode == CFX_WRITE_REPLACE && i == book.rows.size()) {
    return fail(err, CFX_NOT_FOUND, std::string("no contact ") + obj->guid);
  }
  auto row = csv_plugin::to_row(book.layout, book.header, contact);
  if (i == book.rows.size()) {
    book.rows.push_back(row);
  } else {
    book.rows[i] = row;
  }
  if (cfx_status st = save(ctx, store, book, err); st != CFX_OK) return st;
  const std::string rev = hex_hash(csv_plugin::write_csv_record(row));
  revision->put(revision->host, rev.data(), rev.size());
  return CFX_OK;
}

cfx_status csv_remove(cfx_ctx* ctx, const cfx_store_ref* store, const char* id, cfx_error* err) {
  Book book;
  if (cfx_status st = load(ctx, store, book, err); st != CFX_OK) return st;
  size_t i = book.find(id);
  if (i == book.rows.size()) return fail(err, CFX_NOT_FOUND, std::string("no contact ") + id);
  book.rows.erase(book.rows.begin() + static_cast<long>(i));
  return save(ctx, store, book, err);
}

const cfx_option_spec kOptions[] = {
    {"directory", 1, "absolute path; each user's book is <directory>/<user>/<database>.csv"},
    {"layout", 0, "google or outlook: the columns of books this plugin creates (default google)"},
};

const cfx_adapter_v1 kAdapter = {
    CFX_ABI_MAJOR,
    CFX_ABI_MINOR,
    sizeof(cfx_adapter_v1),
    "csv",
    CSV_PLUGIN_VERSION,
    "MIT",
    0,  // no own accounts, no change notification, one call at a time
    kOptions,
    sizeof kOptions / sizeof kOptions[0],
    csv_open,
    csv_close,
    csv_list,
    csv_read,
    csv_write,
    csv_remove,
    nullptr,  // verify_credentials
    nullptr,  // watch
    nullptr,  // unwatch
};

}  // namespace

CFX_ADAPTER_ENTRY { return host_abi_major == CFX_ABI_MAJOR ? &kAdapter : nullptr; }
