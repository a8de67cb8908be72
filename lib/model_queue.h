/* model_queue.h — the reliable build queue and the leases of running builds (keys
 * queue, queue:active, lease:{id}). */
#ifndef SKIFF_MODEL_QUEUE_H
#define SKIFF_MODEL_QUEUE_H

#include <jansson.h>
#include "error.h"
#include "id.h"
#include "redis.h"

/* pop: BLMOVE queue → active, waiting at most timeout_s (clamped below redis_timeout_ms so
 * the connection never times out first); *id empty on timeout. done: removes id from active. */
int model_queue_pop(struct redis *r, double timeout_s, char id[ID_LEN + 1], struct error *err);
int model_queue_done(struct redis *r, const char *id, struct error *err);
/* Ids in the active list. */
int model_queue_active(struct redis *r, json_t **ids, struct error *err);
/* Lease of a running build. */
int model_lease_renew(struct redis *r, const char *id, long ttl_s, struct error *err);
int model_lease_alive(struct redis *r, const char *id, struct error *err); /* 1, 0, <0 */
int model_lease_drop(struct redis *r, const char *id, struct error *err);

#endif
