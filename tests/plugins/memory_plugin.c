/* A small plugin in plain C, built against include/conflux/sdk/ alone: the
 * loader's and the conformance suite's test subject. Items live in memory,
 * shared by every ctx of the process (so a second ctx is "another program"
 * on the same back end). Built several times with one define each:
 *   (none)            correct: passes the conformance suite
 *   CFX_TEST_BROKEN   a delete answers OK but keeps the item, items over
 *                     1 MB are cut: the suite must name delete,
 *                     changes_since_anchor and item_5mb
 *   CFX_TEST_ABI_MAJOR_2, CFX_TEST_NEWER_MINOR, CFX_TEST_SHORT_STRUCT,
 *   CFX_TEST_NO_ENTRY the loader must refuse these
 * Options: `down_file` (while this file exists every call is
 * CFX_UNAVAILABLE), `capacity` (a number: at most this many items per user). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conflux/sdk/adapter.h"

#define CHANGE_PASSWORD "right-password"
#define MAX_WATCHERS 16

struct item {
  char* user;
  char* id;
  char* data;
  size_t size;
  unsigned long revision;
  struct item* next;
};

struct cfx_watch {
  cfx_ctx* ctx;
  cfx_change_fn fn;
  void* host;
};

struct cfx_ctx {
  char down_file[512];
  long capacity;
};

static pthread_mutex_t g_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct item* g_items;           /* guarded by g_mutex */
static unsigned long g_revision;       /* guarded by g_mutex */
static struct cfx_watch* g_watchers[MAX_WATCHERS]; /* guarded by g_mutex */

static cfx_status fail(cfx_error* err, cfx_status code, const char* message, const char* key) {
  snprintf(err->message, sizeof err->message, "%s", message);
  if (key) snprintf(err->key, sizeof err->key, "%s", key);
  return code;
}

static char* copy(const char* s, size_t n) {
  char* out = malloc(n + 1);
  memcpy(out, s, n);
  out[n] = '\0';
  return out;
}

static int is_down(const cfx_ctx* ctx) {
  struct stat st;
  return ctx->down_file[0] != '\0' && stat(ctx->down_file, &st) == 0;
}

static struct item* find(const char* user, const char* id) {
  for (struct item* it = g_items; it; it = it->next) {
    if (strcmp(it->user, user) == 0 && strcmp(it->id, id) == 0) return it;
  }
  return NULL;
}

/* Tells every watcher but the writer's own ctx. Requires g_mutex. */
static void notify_others(const cfx_ctx* writer, const char* user) {
  for (int i = 0; i < MAX_WATCHERS; ++i) {
    if (g_watchers[i] && g_watchers[i]->ctx != writer) g_watchers[i]->fn(g_watchers[i]->host, user);
  }
}

static cfx_status mem_open(const char* database, const cfx_option* options, size_t count, cfx_ctx** ctx_r,
                           cfx_error* err) {
  (void)database;
  cfx_ctx* ctx = calloc(1, sizeof *ctx);
  for (size_t i = 0; i < count; ++i) {
    if (strcmp(options[i].key, "down_file") == 0) {
      snprintf(ctx->down_file, sizeof ctx->down_file, "%s", options[i].value);
    } else if (strcmp(options[i].key, "capacity") == 0) {
      char* end = NULL;
      ctx->capacity = strtol(options[i].value, &end, 10);
      if (end == options[i].value || *end != '\0' || ctx->capacity <= 0) {
        free(ctx);
        return fail(err, CFX_INVALID_ARGUMENT, "must be a positive number of items", "capacity");
      }
    }
  }
  *ctx_r = ctx;
  return CFX_OK;
}

static void mem_close(cfx_ctx* ctx) { free(ctx); }

static cfx_status mem_list(cfx_ctx* ctx, const cfx_store_ref* store, const cfx_list_sink* sink, cfx_error* err) {
  if (is_down(ctx)) return fail(err, CFX_UNAVAILABLE, "the memory store is down", NULL);
  pthread_mutex_lock(&g_mutex);
  for (struct item* it = g_items; it; it = it->next) {
    if (strcmp(it->user, store->user) != 0) continue;
    char rev[32];
    snprintf(rev, sizeof rev, "%lu", it->revision);
    sink->put(sink->host, it->id, rev);
  }
  pthread_mutex_unlock(&g_mutex);
  return CFX_OK;
}

static cfx_status mem_read(cfx_ctx* ctx, const cfx_store_ref* store, const char* id, const cfx_bytes_sink* sink,
                           cfx_error* err) {
  if (is_down(ctx)) return fail(err, CFX_UNAVAILABLE, "the memory store is down", NULL);
  pthread_mutex_lock(&g_mutex);
  struct item* it = find(store->user, id);
  if (it) sink->put(sink->host, it->data, it->size);
  pthread_mutex_unlock(&g_mutex);
  return it ? CFX_OK : fail(err, CFX_NOT_FOUND, "no such item", NULL);
}

static cfx_status mem_write(cfx_ctx* ctx, const cfx_store_ref* store, const cfx_sync_obj* obj, cfx_write_mode mode,
                            const cfx_bytes_sink* revision, cfx_error* err) {
  if (is_down(ctx)) return fail(err, CFX_UNAVAILABLE, "the memory store is down", NULL);
  size_t size = obj->size;
#ifdef CFX_TEST_BROKEN
  if (size > 1024 * 1024) size = 1024 * 1024;
#endif
  pthread_mutex_lock(&g_mutex);
  struct item* it = find(store->user, obj->guid);
  cfx_status st = CFX_OK;
  if (mode == CFX_WRITE_CREATE && it) st = fail(err, CFX_ALREADY_EXISTS, "the id exists", NULL);
  if (mode == CFX_WRITE_REPLACE && !it) st = fail(err, CFX_NOT_FOUND, "no such item", NULL);
  if (st == CFX_OK && !it && ctx->capacity > 0) {
    long n = 0;
    for (struct item* i = g_items; i; i = i->next) n += strcmp(i->user, store->user) == 0;
    if (n >= ctx->capacity) st = fail(err, CFX_RESOURCE_EXHAUSTED, "the store is full", NULL);
  }
  if (st == CFX_OK) {
    if (!it) {
      it = calloc(1, sizeof *it);
      it->user = copy(store->user, strlen(store->user));
      it->id = copy(obj->guid, strlen(obj->guid));
      it->next = g_items;
      g_items = it;
    } else {
      free(it->data);
    }
    it->data = copy(obj->data, size);
    it->size = size;
    it->revision = ++g_revision;
    char rev[32];
    int n = snprintf(rev, sizeof rev, "%lu", it->revision);
    revision->put(revision->host, rev, (size_t)n);
    notify_others(ctx, store->user);
  }
  pthread_mutex_unlock(&g_mutex);
  return st;
}

static cfx_status mem_remove(cfx_ctx* ctx, const cfx_store_ref* store, const char* id, cfx_error* err) {
  if (is_down(ctx)) return fail(err, CFX_UNAVAILABLE, "the memory store is down", NULL);
  pthread_mutex_lock(&g_mutex);
  cfx_status st = CFX_OK;
  struct item** link = &g_items;
  while (*link && !(strcmp((*link)->user, store->user) == 0 && strcmp((*link)->id, id) == 0)) link = &(*link)->next;
  if (*link == NULL) {
    st = fail(err, CFX_NOT_FOUND, "no such item", NULL);
  } else {
#ifndef CFX_TEST_BROKEN
    struct item* gone = *link;
    *link = gone->next;
    free(gone->user);
    free(gone->id);
    free(gone->data);
    free(gone);
    notify_others(ctx, store->user);
#endif
  }
  pthread_mutex_unlock(&g_mutex);
  return st;
}

static cfx_status mem_verify(cfx_ctx* ctx, const char* database, const cfx_credentials* creds, cfx_error* err) {
  (void)database;
  if (is_down(ctx)) return fail(err, CFX_UNAVAILABLE, "the memory store is down", NULL);
  if (creds->scheme == CFX_CRED_PASSWORD && strcmp(creds->secret, CHANGE_PASSWORD) == 0) return CFX_OK;
  return fail(err, CFX_UNAUTHENTICATED, "wrong user or password", NULL);
}

static cfx_status mem_watch(cfx_ctx* ctx, cfx_change_fn on_change, void* host, cfx_watch** watch_r, cfx_error* err) {
  pthread_mutex_lock(&g_mutex);
  for (int i = 0; i < MAX_WATCHERS; ++i) {
    if (g_watchers[i] == NULL) {
      cfx_watch* w = calloc(1, sizeof *w);
      w->ctx = ctx;
      w->fn = on_change;
      w->host = host;
      g_watchers[i] = w;
      *watch_r = w;
      pthread_mutex_unlock(&g_mutex);
      return CFX_OK;
    }
  }
  pthread_mutex_unlock(&g_mutex);
  return fail(err, CFX_RESOURCE_EXHAUSTED, "too many watchers", NULL);
}

static void mem_unwatch(cfx_ctx* ctx, cfx_watch* watch) {
  (void)ctx;
  pthread_mutex_lock(&g_mutex);
  for (int i = 0; i < MAX_WATCHERS; ++i) {
    if (g_watchers[i] == watch) g_watchers[i] = NULL;
  }
  pthread_mutex_unlock(&g_mutex);
  free(watch);
}

static const cfx_option_spec kOptions[] = {
    {"down_file", 0, "while this file exists the store is down"},
    {"capacity", 0, "at most this many items per user"},
};

static const cfx_adapter_v1 kAdapter = {
#ifdef CFX_TEST_ABI_MAJOR_2
    CFX_ABI_MAJOR + 1,
#else
    CFX_ABI_MAJOR,
#endif
#ifdef CFX_TEST_NEWER_MINOR
    CFX_ABI_MINOR + 1,
#else
    CFX_ABI_MINOR,
#endif
#ifdef CFX_TEST_SHORT_STRUCT
    (uint32_t)offsetof(cfx_adapter_v1, watch),
#else
    sizeof(cfx_adapter_v1),
#endif
    "memory",
    "0.1.0",
    "MIT",
    CFX_CAP_OWN_ACCOUNTS | CFX_CAP_CHANGE_NOTIFY,
    kOptions,
    sizeof kOptions / sizeof kOptions[0],
    mem_open,
    mem_close,
    mem_list,
    mem_read,
    mem_write,
    mem_remove,
    mem_verify,
    mem_watch,
    mem_unwatch,
};

#ifdef CFX_TEST_NO_ENTRY
CFX_EXPORT const cfx_adapter_v1* some_other_entry(void) { return &kAdapter; }
#else
CFX_ADAPTER_ENTRY {
  (void)host_abi_major; /* answers whatever the host speaks, so the host's own check is what refuses */
  return &kAdapter;
}
#endif
