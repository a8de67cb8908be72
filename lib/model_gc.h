/* model_gc.h — the fence of the store sweep in Redis (gc:sweep, a string with a TTL held by
 * the sweep's token while it decides and deletes; builds wait for it before they pin the blobs
 * they rely on: gc:pin:{id}, gc:pins; uploads of the deploy protocol before they finish:
 * gc:finishing) and the dispatchers' shared schedule of sweeps (gc:turn). */
#ifndef SKIFF_MODEL_GC_H
#define SKIFF_MODEL_GC_H

#include "error.h"
#include "redis.h"

/* Takes the fence for token, held ttl_ms at most: 1 taken, 0 held by another sweep. */
int model_gc_fence_take(struct redis *r, const char *token, long ttl_ms, struct error *err);
/* Releases the fence if token still holds it. */
void model_gc_fence_release(struct redis *r, const char *token);
/* 1 when token still holds the fence, which is then held ttl_ms from now; 0 when it lost it
 * (expired). */
int model_gc_fence_renew(struct redis *r, const char *token, long ttl_ms, struct error *err);
/* The uploads that are finishing (gc:finishing, a sorted set of tickets by start time in
 * Redis's clock): the deploy protocol's finish checks that every blob is stored, then writes
 * a manifest naming them, so a sweep must not delete between the two. finish_begin records
 * ticket only while no sweep holds the fence (one script): 1 recorded, 0 fence held (nothing
 * recorded: wait and call again). finish_end when it is done whatever the outcome. */
int model_gc_finish_begin(struct redis *r, const char *ticket, struct error *err);
void model_gc_finish_end(struct redis *r, const char *ticket);
/* 1 when an upload began finishing less than max_age_ms ago by Redis's clock (older ones,
 * left by a program that died, are forgotten), 0 when none. */
int model_gc_finishing(struct redis *r, long max_age_ms, struct error *err);
/* The schedule shared by every dispatcher (gc:turn, held interval_ms): 1 when owner's
 * dispatcher should run retention and the sweep now, 0 when another ran them less than
 * interval_ms ago. */
int model_gc_turn(struct redis *r, const char *owner, long interval_ms, struct error *err);

/* Blobs a build relies on, pinned for the sweep: gc:pin:{id}, a set of hashes, and gc:pins, a
 * sorted set of ids by deadline (ms, Redis's clock). */
#define MODEL_GC_PIN_BATCH 1000   /* hashes in one call of model_gc_pin */
/* Adds hashes (n <= MODEL_GC_PIN_BATCH) to id's pin and sets its deadline ttl_ms from now, in
 * one script and only while no sweep holds the fence: 1 pinned, 0 fence held (nothing pinned:
 * wait and call again); SKIFF_ELIMIT when the deployment would pin more than 3 blobs for each
 * of max_files. */
int model_gc_pin(struct redis *r, const char *id, const char *const *hashes, size_t n,
		 long ttl_ms, struct error *err);
/* The same for a deployment that pinned blobs already: adds hashes only to a pin still live,
 * SKIFF_ECONFLICT ("pin_lost") when id has none (it lapsed: a sweep may have deleted blobs it
 * kept, so it is not made again). */
int model_gc_pin_more(struct redis *r, const char *id, const char *const *hashes, size_t n,
		      long ttl_ms, struct error *err);
/* Moves the deadline of id's pin ttl_ms from now whether or not a sweep runs: 1 done, 0 when id
 * has no live pin (none, or its deadline passed: a build that relied on it has lost it, since a
 * sweep may have deleted what it kept). */
int model_gc_pin_renew(struct redis *r, const char *id, long ttl_ms, struct error *err);
/* Drops id's pin. */
int model_gc_unpin(struct redis *r, const char *id, struct error *err);
/* For the sweep: forgets the pins whose deadline passed, then calls fn with every hash of the
 * live ones (a hash may come more than once); stops at fn's first negative answer. */
int model_gc_pins(struct redis *r, int (*fn)(const char *hash, void *ctx), void *ctx,
		  struct error *err);

#endif
