/* model_queue.h — the reliable build queue, the claims and leases of running builds, and the
 * dispatchers that hold them (keys queue, queue:claim:{owner}, queue:active, lease:{id},
 * dispatchers, dispatcher:{owner}; fields claim and attempts of deployment:{id}).
 *
 * Any number of dispatchers share one queue. A pop moves an id into the popping dispatcher's
 * own claim list (BLMOVE), and a script then moves it to the active list, sets its lease and
 * writes the claim token ("{owner}.{attempt}") into the deployment, all at once: no other
 * dispatcher ever sees an active build without its lease. A build's lease is renewed only
 * while the deployment's claim is still its token; a build whose lease expired is requeued
 * (claim cleared, state queued) by whichever dispatcher's scan sees it first, so the old run
 * loses its claim and cannot renew, promote or finish the queue entry of the new one. */
#ifndef SKIFF_MODEL_QUEUE_H
#define SKIFF_MODEL_QUEUE_H

#include <jansson.h>
#include "error.h"
#include "id.h"
#include "redis.h"

#define MODEL_OWNER_LEN 16         /* hex characters of a dispatcher's id */
#define MODEL_CLAIM_MAX 48         /* a claim token and its NUL */
#define MODEL_QUEUE_ATTEMPTS 3     /* a build lost this many times ends in error */

/* A fresh dispatcher id (random hex) into owner[MODEL_OWNER_LEN + 1]. */
void model_owner_new(char owner[MODEL_OWNER_LEN + 1]);
/* 1 when token has the shape of a claim token (owner hex, '.', digits). */
int model_claim_valid(const char *token);

/* pop: takes the next id for owner, waiting at most timeout_s (clamped below
 * redis_timeout_ms so the connection never times out first), and claims it: active list,
 * lease of ttl_s seconds, claim token into token[MODEL_CLAIM_MAX]. *id is empty on timeout.
 * An id whose record is gone, or that is not an id skiff wrote, is dropped (id set, token
 * empty). An id left in owner's claim list by a failed claim is claimed first. With
 * concurrency_project or concurrency_total set, an id over a cap goes back to its place and the
 * oldest queued build that fits is claimed instead (*id empty, after a short wait, when none
 * fits). */
int model_queue_pop(struct redis *r, const char *owner, double timeout_s, long ttl_s,
		    char id[ID_LEN + 1], char token[MODEL_CLAIM_MAX], struct error *err);
/* done: removes id from the active list, unless the deployment's claim is no longer token
 * (its build was requeued and belongs to another claim now). An empty token removes it
 * whatever the claim. 1 removed, 0 not ours, negative on error. */
int model_queue_done(struct redis *r, const char *id, const char *token, struct error *err);
/* Ids in the active list. */
int model_queue_active(struct redis *r, json_t **ids, struct error *err);

enum model_recover {
	MODEL_RECOVER_ALIVE,     /* its lease is held (or another scan got there first): left */
	MODEL_RECOVER_DROPPED,   /* finished or deleted: removed from the active list */
	MODEL_RECOVER_REQUEUED,  /* lease expired: claim cleared, state queued, next in line */
	MODEL_RECOVER_FAILED,    /* lease expired MODEL_QUEUE_ATTEMPTS times: state error */
};
/* What to do with an active id whose lease may have expired, decided and done in one script
 * so that two scans, or a scan and a claim, never both act on it. */
int model_queue_recover(struct redis *r, const char *id, enum model_recover *out,
			struct error *err);

/* Lease of a running build. renew: 1 when set, 0 when the deployment's claim is no longer
 * token (the build was taken over: stop without writing anything); an empty token sets it
 * unconditionally (a build started by hand). */
int model_lease_renew(struct redis *r, const char *id, const char *token, long ttl_s,
		      struct error *err);
/* Extends the lease only while it lives, keeping its holder (an expired or dropped one stays
 * gone): 1 extended, 0 gone, negative on error. */
int model_lease_extend(struct redis *r, const char *id, long ttl_s, struct error *err);
int model_lease_alive(struct redis *r, const char *id, struct error *err); /* 1, 0, <0 */
/* Deletes the lease if it is still token's (any lease when token is empty). */
int model_lease_drop(struct redis *r, const char *id, const char *token, struct error *err);
/* The deployment's claim token into token[MODEL_CLAIM_MAX] ("" when unclaimed); returns 1
 * when the deployment was ever claimed from the queue (an empty claim then means it was
 * queued again), 0 when never, negative on error. */
int model_lease_claim(struct redis *r, const char *id, char token[MODEL_CLAIM_MAX],
		      struct error *err);

/* A dispatcher's heartbeat (ttl_s seconds), and the ids that dispatchers whose heartbeat
 * expired left in their claim lists put back at the head of the queue. Returns how many
 * were put back, or negative. */
int model_dispatcher_beat(struct redis *r, const char *owner, long ttl_s, struct error *err);
/* A dispatcher that exits cleanly: its heartbeat and membership go, anything in its claim
 * list goes back to the queue. */
int model_dispatcher_leave(struct redis *r, const char *owner, struct error *err);

#endif
