/* retention.h — how long deployments stay: per project the newest N ready production
 * deployments and, counted apart, the newest M ready preview deployments, plus what
 * production (possibly pinned) and each preview serve, are kept; older ready ones become expired
 * (the record's `expired` says when) and their Redis log streams are trimmed to the copy
 * archived in the store (store_log_put). Their manifests stay: the one that was current a
 * moment ago may still be served for a second or so (a web server's fast path looks at its
 * site once a second, skiff-serve remembers current half a second), so the sweep drops a
 * manifest, and reclaims the blobs only it names, once gc_grace has passed since it expired
 * (gc.h). */
#ifndef SKIFF_RETENTION_H
#define SKIFF_RETENTION_H

#include <stddef.h>
#include "error.h"
#include "model.h"
#include "redis.h"
#include "store.h"

#define RETENTION_KEEP_DEFAULT 10
#define RETENTION_LOG_ARCHIVE_MAX (64u << 20)

struct retention_stats {
	size_t projects;         /* projects looked at */
	size_t expired;          /* deployments that became expired in this run */
	size_t logs_trimmed;     /* Redis log streams dropped (their archive is in the store) */
};

/* Applies retention to one project (keep, keep_previews >= 1). Expiring is one Lua script per project:
 * a deployment made current meanwhile (rollback) is never expired. Store failures (archiving
 * a log) leave the work for the next run and are reported in err after the rest is done. */
int retention_project(struct redis *r, struct store *s, const char *slug, long keep,
		      long keep_previews, struct retention_stats *stats, struct error *err);
/* Every project. */
int retention_run(struct redis *r, struct store *s, long keep, long keep_previews,
		  struct retention_stats *stats, struct error *err);

#endif
