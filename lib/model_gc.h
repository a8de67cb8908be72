/* model_gc.h — the fence of the store sweep in Redis (gc:sweep, a string with a TTL held by
 * the sweep's token while it decides and deletes; builds wait for it before they upload, and
 * uploads of the deploy protocol before they finish: gc:finishing) and the dispatchers'
 * shared schedule of sweeps (gc:turn). */
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
/* 1 when some sweep holds the fence, 0 when not. */
int model_gc_fence_held(struct redis *r, struct error *err);
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

#endif
