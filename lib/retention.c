/* retention.c — expires ready deployments beyond the newest N of each project (the sweep drops
 * their manifests later) and trims their Redis log streams to the archived copy in the store. Failed and
 * canceled deployments beyond the newest N of those keep their records (the history shows
 * them) but lose their log streams the same way: a project that fails often must not fill
 * Redis with logs nobody reads. */
#include "retention.h"
#include "clock.h"
#include "id.h"
#include "log.h"
#include "model.h"
#include "model_log.h"
#include "model_retention.h"
#include "validate.h"

#include <stdio.h>
#include <string.h>

/* The archived log exists in the store, or is written now from the Redis stream. */
static int retention_archive(struct redis *r, struct store *s, const char *id, struct error *err)
{
	struct buf probe = BUF_INIT(1);
	int rc = store_log_get(s, id, &probe, err);
	buf_dispose(&probe);
	if (rc == 0 || rc == SKIFF_ELIMIT)
		return 0;
	if (rc != SKIFF_ENOTFOUND)
		return rc;
	struct buf text = BUF_INIT(RETENTION_LOG_ARCHIVE_MAX);
	rc = model_log_read(r, id, &text, err);
	if (rc == 0 || rc == SKIFF_ELIMIT)
		rc = store_log_put(s, id, buf_cstr(&text), text.len, err);
	buf_dispose(&text);
	return rc;
}

static int retention_trim_log(struct redis *r, struct store *s, const char *id,
			      struct retention_stats *stats, struct error *err)
{
	int rc = retention_archive(r, s, id, err);
	if (rc < 0)
		return rc;
	rc = model_log_drop(r, id, err);
	if (rc < 0)
		return rc;
	stats->logs_trimmed += (size_t)rc;
	return 0;
}

int retention_project(struct redis *r, struct store *s, const char *slug, long keep,
		      long keep_previews, struct retention_stats *stats, struct error *err)
{
	if (keep < 1)
		keep = 1;
	if (keep_previews < 1)
		keep_previews = 1;
	json_t *expired = NULL, *logs = NULL;
	int rc = model_retention_expire(r, slug, keep, keep_previews, clock_wall_ms(), &expired,
					&logs, err);
	if (rc < 0)
		return rc;
	stats->projects++;
	size_t i;
	json_t *v;
	struct error e;
	json_array_foreach(expired, i, v) {
		stats->expired++;
		log_info("deployment expired project=%s deployment=%s keep=%ld keep_previews=%ld", slug,
			 json_string_value(v), keep, keep_previews);
	}
	json_array_foreach(logs, i, v)
		if (retention_trim_log(r, s, json_string_value(v), stats, &e) < 0 && rc == 0)
			rc = error_set(err, e.code, e.name, "%s", e.message);
	json_decref(expired);
	json_decref(logs);
	return rc;
}

int retention_run(struct redis *r, struct store *s, long keep, long keep_previews,
		  struct retention_stats *stats, struct error *err)
{
	json_t *slugs = NULL;
	if (model_project_all(r, &slugs, err) < 0)
		return err->code;
	int rc = 0;
	struct error e;
	for (size_t i = 0; i < json_array_size(slugs); i++) {
		const char *slug = json_string_value(json_array_get(slugs, i));
		if (!slug || validate_slug(slug, NULL) < 0)
			continue;
		int prc = retention_project(r, s, slug, keep, keep_previews, stats, &e);
		if (prc == SKIFF_EREDIS) {
			rc = error_set(err, e.code, e.name, "%s", e.message);
			break;
		}
		if (prc < 0 && prc != SKIFF_ENOTFOUND && rc == 0)
			rc = error_set(err, e.code, e.name, "%s", e.message);
	}
	json_decref(slugs);
	if (stats->expired || stats->logs_trimmed)
		log_info("retention done projects=%zu expired=%zu logs_trimmed=%zu", stats->projects,
			 stats->expired, stats->logs_trimmed);
	return rc;
}
