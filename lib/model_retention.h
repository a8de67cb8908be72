/* model_retention.h — the Redis half of retention.h: expiring a project's old ready
 * deployments in one atomic step. */
#ifndef SKIFF_MODEL_RETENTION_H
#define SKIFF_MODEL_RETENTION_H

#include <jansson.h>
#include "error.h"
#include "redis.h"

/* Marks the ready production deployments of slug beyond the newest keep, and its ready
 * preview deployments beyond the newest keep_previews, expired at now_ms (never one that
 * production or a preview serves). *expired gets the ids that became expired now; *logs the ids whose log
 * stream may leave Redis once archived: expired ones, and failed or canceled ones beyond the
 * newest keep of those. Both arrays are the caller's. SKIFF_ENOTFOUND without the project. */
int model_retention_expire(struct redis *r, const char *slug, long keep, long keep_previews,
			   long long now_ms, json_t **expired, json_t **logs, struct error *err);

#endif
