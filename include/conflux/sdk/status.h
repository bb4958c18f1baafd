/* Conflux plugin SDK: status codes and the error a call fills in.
 *
 * The codes are Conflux's own (src/common/status.h), in the same order, and
 * tell the host what to do next:
 *   CFX_UNAVAILABLE        back end down: the host keeps the change and retries later
 *   CFX_ABORTED            concurrent change: the host redoes the step
 *   CFX_FAILED_PRECONDITION state must be fixed by someone first; no retry
 *   CFX_NOT_FOUND          no such item (or collection, from list())
 *   CFX_ALREADY_EXISTS     a create of an id that exists
 *   CFX_UNAUTHENTICATED    the back end refused the credentials
 *   CFX_PERMISSION_DENIED  known user, not allowed
 *   CFX_INVALID_ARGUMENT   bad option or an item the back end cannot hold
 *   CFX_RESOURCE_EXHAUSTED a limit (disk full, quota): retried like UNAVAILABLE
 *   CFX_UNIMPLEMENTED, CFX_INTERNAL
 * A plugin never returns SyncML or HTTP numbers; the engine makes those.
 */
#ifndef CONFLUX_SDK_STATUS_H
#define CONFLUX_SDK_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cfx_status {
  CFX_OK = 0,
  CFX_INVALID_ARGUMENT = 1,
  CFX_NOT_FOUND = 2,
  CFX_ALREADY_EXISTS = 3,
  CFX_PERMISSION_DENIED = 4,
  CFX_UNAUTHENTICATED = 5,
  CFX_RESOURCE_EXHAUSTED = 6,
  CFX_FAILED_PRECONDITION = 7,
  CFX_ABORTED = 8,
  CFX_UNAVAILABLE = 9,
  CFX_UNIMPLEMENTED = 10,
  CFX_INTERNAL = 11,
} cfx_status;

/* Owned by the host, zeroed before every call. On failure the plugin writes
 * a one-line message (NUL-terminated, truncated to fit) and, when a config
 * key is to blame, that key; the host prefixes it with the store
 * ("stores.contacts.directory: ..."). Never put a password in it. */
typedef struct cfx_error {
  char key[64];
  char message[512];
} cfx_error;

#ifdef __cplusplus
}
#endif

#endif /* CONFLUX_SDK_STATUS_H */
