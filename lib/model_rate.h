/* model_rate.h — the Redis side of rate limits: fixed-window counters, one key per scope and
 * client (rate:{scope}:{who}), counted and expired in one Lua script. */
#ifndef SKIFF_MODEL_RATE_H
#define SKIFF_MODEL_RATE_H

#include "error.h"
#include "redis.h"

#define MODEL_RATE_WHO_MAX 64     /* a client address or a slug */

/* Counts one event of who in scope ("create:addr", "deploy:project", ...) in the current
 * window of window_s seconds. *count receives the events of this window including this one,
 * *reset_ms the milliseconds until the window ends. The caller compares with its limit. */
int model_rate_hit(struct redis *r, const char *scope, const char *who, long window_s,
		   long long *count, long long *reset_ms, struct error *err);

#endif
