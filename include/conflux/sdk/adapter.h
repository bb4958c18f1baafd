/* Conflux plugin SDK: the C ABI of an out-of-tree content adapter.
 *
 * A plugin is a shared object that exports one function:
 *
 *     const cfx_adapter_v1* cfx_adapter_entry(uint32_t host_abi_major);
 *
 * (declare it with CFX_ADAPTER_ENTRY). It returns a pointer to a static,
 * constant descriptor, or NULL when it cannot serve a host of that ABI major.
 *
 * What the host checks at load, before it calls anything else (the server
 * refuses to start, naming the file, both ABIs and the fix, when one fails):
 *   1. the symbol cfx_adapter_entry exists;
 *   2. abi_major == CFX_ABI_MAJOR of the host;
 *   3. abi_minor <= the host's CFX_ABI_MINOR (a plugin may need functions a
 *      newer host added; an older host cannot call them);
 *   4. struct_size >= the size of the descriptor of the plugin's abi_minor;
 *   5. name, version, licence and every required function are set;
 *   6. the store's config keys are among the plugin's `options` and every
 *      required one is present.
 *
 * Call order for one configured datastore ([stores.<name>] with
 * adapter = "plugin"):
 *   1. open(options)            once at server start -> a cfx_ctx
 *   2. list / read / write / remove, verify_credentials, watch/unwatch,
 *      as devices sync, for as long as the server runs
 *   3. close(ctx)               once at shutdown (after every unwatch)
 * Conflux keeps the change history itself (anchors, changes since an anchor,
 * tombstones): a plugin only lists its items as "id -> revision" and reads,
 * writes and removes one item. The contract, as SyncEvolution's
 * TrackingSyncSource writes it down: an id stays fixed while the user edits
 * the item; the revision changes on every edit; writing to an id that does
 * not exist is CFX_NOT_FOUND, never a silent re-create; creating an id that
 * exists is CFX_ALREADY_EXISTS.
 *
 * Memory: everything the host passes in (strings, options, item bytes) is
 * borrowed for the duration of the call; copy what you keep. Everything the
 * plugin hands back goes through a host callback (cfx_list_sink,
 * cfx_bytes_sink, cfx_error) that copies it before returning, so the plugin
 * frees its own memory whenever it likes and never frees the host's.
 * Strings are NUL-terminated UTF-8; item bytes are (data, size) and may hold
 * NUL.
 *
 * Threading: without CFX_CAP_CONCURRENT the host makes one call at a time on
 * a ctx (maybe from different threads, as libsynthesis' DB API says). With
 * it, calls on one ctx may run at once from several threads. A change
 * callback (watch) runs on a thread of the plugin's; it is thread-safe and
 * returns quickly, and the plugin must not call it after unwatch returned.
 *
 * Nothing may throw or longjmp across this interface.
 *
 * Growing the ABI: new functions go at the end of cfx_adapter_v1 and raise
 * CFX_ABI_MINOR; the host checks abi_minor and struct_size before it calls
 * them. Anything else is a new CFX_ABI_MAJOR.
 */
#ifndef CONFLUX_SDK_ADAPTER_H
#define CONFLUX_SDK_ADAPTER_H

#include <stddef.h>
#include <stdint.h>

#include "conflux/sdk/status.h"
#include "conflux/sdk/sync_obj.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CFX_ABI_MAJOR 1
#define CFX_ABI_MINOR 0

/* The plugin's state for one configured datastore; the host never looks
 * inside. */
typedef struct cfx_ctx cfx_ctx;

/* Capabilities: bits the host reads, never "key:value" text. */
enum {
  /* verify_credentials checks users against the back end's own accounts
   * (login = "per-user", or a service account). */
  CFX_CAP_OWN_ACCOUNTS = 1u << 0,
  /* watch/unwatch report changes made by others as they happen. */
  CFX_CAP_CHANGE_NOTIFY = 1u << 1,
  /* calls on one ctx may run at once from several threads (see Threading). */
  CFX_CAP_CONCURRENT = 1u << 2,
};

/* One config key the plugin accepts in its [stores.<name>] section. */
typedef struct cfx_option_spec {
  const char* key;  /* "directory" */
  int required;     /* non-zero: the server does not start without it */
  const char* help; /* one line for `conflux plugin info` and error messages */
} cfx_option_spec;

/* One key = value of the store's section, as the config file gave it
 * (numbers and booleans as their TOML text). */
typedef struct cfx_option {
  const char* key;
  const char* value;
} cfx_option;

/* Receives "id -> revision" pairs from list(). */
typedef struct cfx_list_sink {
  void* host;
  void (*put)(void* host, const char* id, const char* revision);
} cfx_list_sink;

/* Receives bytes: an item from read(), a revision from write(). */
typedef struct cfx_bytes_sink {
  void* host;
  void (*put)(void* host, const char* data, size_t size);
} cfx_bytes_sink;

/* Told that the items of `user` (NULL: of any user) in `database` may have
 * changed. A hint: the host lists again. */
typedef void (*cfx_change_fn)(void* host, const char* user);

/* An opaque handle for one watch, made by the plugin. */
typedef struct cfx_watch cfx_watch;

typedef enum cfx_write_mode {
  CFX_WRITE_CREATE = 0,  /* the id must not exist yet (CFX_ALREADY_EXISTS) */
  CFX_WRITE_REPLACE = 1, /* the id must exist (CFX_NOT_FOUND) */
} cfx_write_mode;

/* The descriptor. The first four fields never move, in any ABI major. */
typedef struct cfx_adapter_v1 {
  uint32_t abi_major;             /* CFX_ABI_MAJOR the plugin was built with */
  uint32_t abi_minor;             /* CFX_ABI_MINOR it was built with */
  uint32_t struct_size;           /* sizeof(cfx_adapter_v1) it was built with */
  const char* name;               /* short kind name, for the log: "csv" */
  const char* version;            /* the plugin's own version: "1.2.0" */
  const char* licence;            /* SPDX identifier: "MIT" */
  uint32_t capabilities;          /* CFX_CAP_* bits */
  const cfx_option_spec* options; /* the keys it accepts ... */
  size_t option_count;            /* ... and how many */

  /* Makes the state for one datastore. `database` is its name ("contacts").
   * CFX_INVALID_ARGUMENT with err->key set names a bad option; the server
   * then refuses to start. CFX_UNAVAILABLE: the back end is down now (the
   * server still refuses to start: a store is configured or it is not). */
  cfx_status (*open)(const char* database, const cfx_option* options, size_t option_count, cfx_ctx** ctx_r,
                     cfx_error* err);
  /* Frees the state; no other call on ctx is running or follows. */
  void (*close)(cfx_ctx* ctx);

  /* Every item of (user, database): sink->put(id, revision) once per item.
   * CFX_NOT_FOUND when the collection itself does not exist (the host takes
   * it as empty only while it knows no item in it); CFX_UNAVAILABLE when it
   * cannot be read now: nothing is taken as deleted. */
  cfx_status (*list)(cfx_ctx* ctx, const cfx_store_ref* store, const cfx_list_sink* sink, cfx_error* err);
  /* The item's bytes, through one or more sink->put calls (appended).
   * CFX_NOT_FOUND when there is no such item. */
  cfx_status (*read)(cfx_ctx* ctx, const cfx_store_ref* store, const char* id, const cfx_bytes_sink* sink,
                     cfx_error* err);
  /* Writes one item (obj->action is CREATE or UPDATE, obj->guid its id) and
   * hands its new revision to revision->put, the one list() reports from now
   * on. Either the whole item is stored or nothing is. CFX_INVALID_ARGUMENT
   * for an item or id the back end cannot hold. */
  cfx_status (*write)(cfx_ctx* ctx, const cfx_store_ref* store, const cfx_sync_obj* obj, cfx_write_mode mode,
                      const cfx_bytes_sink* revision, cfx_error* err);
  /* CFX_NOT_FOUND when there is no such item. */
  cfx_status (*remove)(cfx_ctx* ctx, const cfx_store_ref* store, const char* id, cfx_error* err);

  /* Optional (NULL unless CFX_CAP_OWN_ACCOUNTS): CFX_OK when the back end
   * accepts the credentials, CFX_UNAUTHENTICATED when it refuses them,
   * CFX_UNAVAILABLE when it is down. */
  cfx_status (*verify_credentials)(cfx_ctx* ctx, const char* database, const cfx_credentials* creds, cfx_error* err);

  /* Optional (NULL unless CFX_CAP_CHANGE_NOTIFY): calls on_change(host, user)
   * whenever items of the datastore may have been changed by someone else,
   * until unwatch(*watch_r) returns. */
  cfx_status (*watch)(cfx_ctx* ctx, cfx_change_fn on_change, void* host, cfx_watch** watch_r, cfx_error* err);
  void (*unwatch)(cfx_ctx* ctx, cfx_watch* watch);
} cfx_adapter_v1;

/* The bytes of cfx_adapter_v1 as ABI 1.0 defined it: a host accepts no
 * shorter descriptor. (Later minors only add at the end.) */
#define CFX_ADAPTER_V1_0_SIZE (offsetof(cfx_adapter_v1, unwatch) + sizeof(void (*)(void)))

#if defined(__GNUC__)
#define CFX_EXPORT __attribute__((visibility("default")))
#else
#define CFX_EXPORT
#endif

/* Declares the entry point:  CFX_ADAPTER_ENTRY { return host_abi_major == CFX_ABI_MAJOR ? &my_adapter : NULL; } */
#ifdef __cplusplus
#define CFX_ADAPTER_ENTRY extern "C" CFX_EXPORT const cfx_adapter_v1* cfx_adapter_entry(uint32_t host_abi_major)
#else
#define CFX_ADAPTER_ENTRY CFX_EXPORT const cfx_adapter_v1* cfx_adapter_entry(uint32_t host_abi_major)
#endif

/* The name the host looks up, and the entry's type. */
#define CFX_ADAPTER_ENTRY_SYMBOL "cfx_adapter_entry"
typedef const cfx_adapter_v1* (*cfx_adapter_entry_fn)(uint32_t host_abi_major);

#ifdef __cplusplus
}
#endif

#endif /* CONFLUX_SDK_ADAPTER_H */
