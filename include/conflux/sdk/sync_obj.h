/* Conflux plugin SDK: the SyncObj in C — which store a call is about, one
 * item (metadata plus raw bytes), and a user's credentials.
 * Every pointer is borrowed for the duration of the call (see adapter.h). */
#ifndef CONFLUX_SDK_SYNC_OBJ_H
#define CONFLUX_SDK_SYNC_OBJ_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Which collection a call is about: the items of `user` in datastore
 * `database`. Both are non-empty and hold no '/' or NUL; the host has
 * checked the user's token already. A plugin keeps users apart: a call never
 * sees another user's items. */
typedef struct cfx_store_ref {
  const char* user;
  const char* database;
} cfx_store_ref;

typedef enum cfx_action {
  CFX_ACTION_CREATE = 0,
  CFX_ACTION_UPDATE = 1,
  CFX_ACTION_DELETE = 2,
} cfx_action;

/* One item, as the CAF's SyncObj carries it. */
typedef struct cfx_sync_obj {
  cfx_action action;
  const char* guid;         /* the item's id in the back end */
  const char* user;         /* whose item; equals the call's store->user */
  const char* database;     /* equals the call's store->database */
  const char* content_type; /* MIME type of data: "text/vcard" */
  const char* data;         /* the item bytes, untouched; may hold NUL */
  size_t size;              /* bytes in data */
} cfx_sync_obj;

typedef enum cfx_credential_scheme {
  CFX_CRED_PASSWORD = 0,   /* secret is the password */
  CFX_CRED_MD5_DIGEST = 1, /* secret is B64(MD5(B64(MD5(user:password)) ":" nonce)) (syncml:auth-md5) */
} cfx_credential_scheme;

/* A user's credentials as a client presented them. Never log `secret`. */
typedef struct cfx_credentials {
  const char* user;
  const char* secret;
  cfx_credential_scheme scheme;
  const char* nonce; /* CFX_CRED_MD5_DIGEST: the nonce bytes the digest was made with */
  size_t nonce_size;
} cfx_credentials;

#ifdef __cplusplus
}
#endif

#endif /* CONFLUX_SDK_SYNC_OBJ_H */
