/* model_gc.h — the fence of the store sweep in Redis (gc:sweep, a string with a TTL held by
 * the sweep's token while it decides and deletes; builds wait for it before they upload) and
 * the dispatchers' shared schedule of sweeps (gc:turn). */
#ifndef SKIFF_MODEL_GC_H
#define SKIFF_MODEL_GC_H

#include "error.h"
#include "redis.h"

/* Takes the fence for token, held ttl_ms at most: 1 taken, 0 held by another sweep. */
int model_gc_fence_take(struct redis *r, const char *token, long ttl_ms, struct error *err);
/* Releases the fence if token still holds it. */
void model_gc_fence_release(struct redis *r, const char *token);
/* 1 when some sweep holds the fence, 0 when not. */
int model_gc_fence_held(struct redis *r, struct error *err);
/* The schedule shared by every dispatcher (gc:turn, held interval_ms): 1 when owner's
 * dispatcher should run retention and the sweep now, 0 when another ran them less than
 * interval_ms ago. */
int model_gc_turn(struct redis *r, const char *owner, long interval_ms, struct error *err);

#endif
