/* retention.c — expires ready deployments beyond the newest N of each project, drops their
 * manifests and trims their Redis log streams to the archived copy in the store. Failed and
 * canceled deployments beyond the newest N of those keep their records (the history shows
 * them) but lose their log streams the same way: a project that fails often must not fill
 * Redis with logs nobody reads. */
#include "retention.h"
#include "id.h"
#include "log.h"
#include "model.h"
#include "validate.h"

#include <stdio.h>
#include <string.h>

/* ARGV: prefix, slug, keep, now. Returns the ids that became expired now, then 0, then the
 * ids whose log stream goes to the archive: expired ones, and failed or canceled ones beyond
 * the newest `keep` of them, still in Redis. -2 when the project does not exist. */
static const char retention_lua[] =
	"local p = ARGV[1] .. 'project:' .. ARGV[2] "
	"if redis.call('EXISTS', p) == 0 then return -2 end "
	"local keep = tonumber(ARGV[3]) "
	"local cur = redis.call('HGET', p, 'current') or '' "
	"local ids = redis.call('ZREVRANGE', p .. ':deployments', 0, -1) "
	"local ready, ended, fresh, logs = 0, 0, {}, {} "
	"for _, id in ipairs(ids) do "
	"  local d = ARGV[1] .. 'deployment:' .. id "
	"  local st = redis.call('HGET', d, 'state') "
	"  if st == 'ready' then "
	"    ready = ready + 1 "
	"    if ready > keep and id ~= cur then "
	"      redis.call('HSET', d, 'state', 'expired', 'phase', '', 'expired', ARGV[4]) "
	"      fresh[#fresh + 1] = id "
	"      st = 'expired' "
	"    end "
	"  end "
	"  local failed = st == 'error' or st == 'canceled' "
	"  if failed then ended = ended + 1 end "
	"  if (st == 'expired' or (failed and ended > keep)) "
	"     and redis.call('EXISTS', ARGV[1] .. 'log:' .. id) == 1 then "
	"    logs[#logs + 1] = id "
	"  end "
	"end "
	"local out = fresh "
	"out[#out + 1] = '0' "
	"for _, id in ipairs(logs) do out[#out + 1] = id end "
	"return out";

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
	char key[REDIS_KEY_MAX];
	redis_key(r, key, "log:%s", id);
	redisReply *reply = redis_cmd(r, err, "DEL %s", key);
	if (!reply)
		return err->code;
	if (reply->type == REDIS_REPLY_INTEGER && reply->integer > 0)
		stats->logs_trimmed++;
	freeReplyObject(reply);
	return 0;
}

int retention_project(struct redis *r, struct store *s, const char *slug, long keep,
		      struct retention_stats *stats, struct error *err)
{
	if (keep < 1)
		keep = 1;
	char skeep[24], now[24];
	snprintf(skeep, sizeof(skeep), "%ld", keep);
	snprintf(now, sizeof(now), "%lld", model_now_ms());
	const char *args[] = { redis_prefix(r), slug, skeep, now };
	redisReply *reply = redis_eval(r, err, retention_lua, 0, 4, args);
	if (!reply)
		return err->code;
	if (reply->type == REDIS_REPLY_INTEGER) {
		freeReplyObject(reply);
		return error_set(err, SKIFF_ENOTFOUND, NULL, "project '%s' not found", slug);
	}
	stats->projects++;
	int rc = 0;
	bool fresh = true;
	struct error e;
	for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i < reply->elements; i++) {
		redisReply *el = reply->element[i];
		if (el->type != REDIS_REPLY_STRING)
			continue;
		if (!strcmp(el->str, "0")) {
			fresh = false;
			continue;
		}
		if (!id_valid(el->str))
			continue;
		if (fresh) {
			stats->expired++;
			log_info("deployment expired project=%s deployment=%s keep=%ld", slug, el->str,
				 keep);
			int drc = store_manifest_delete(s, el->str, &e);
			if (drc == 0)
				stats->manifests++;
			else if (drc != SKIFF_ENOTFOUND && rc == 0) /* the sweep drops it later */
				rc = error_set(err, e.code, e.name, "%s", e.message);
			continue;
		}
		if (retention_trim_log(r, s, el->str, stats, &e) < 0 && rc == 0)
			rc = error_set(err, e.code, e.name, "%s", e.message);
	}
	freeReplyObject(reply);
	return rc;
}

int retention_run(struct redis *r, struct store *s, long keep, struct retention_stats *stats,
		  struct error *err)
{
	char key[REDIS_KEY_MAX];
	redis_key(r, key, "projects");
	redisReply *reply = redis_cmd(r, err, "ZRANGE %s 0 -1", key);
	if (!reply)
		return err->code;
	int rc = 0;
	struct error e;
	for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i < reply->elements; i++) {
		redisReply *el = reply->element[i];
		if (el->type != REDIS_REPLY_STRING || validate_slug(el->str, NULL) < 0)
			continue;
		int prc = retention_project(r, s, el->str, keep, stats, &e);
		if (prc == SKIFF_EREDIS) {
			rc = error_set(err, e.code, e.name, "%s", e.message);
			break;
		}
		if (prc < 0 && prc != SKIFF_ENOTFOUND && rc == 0)
			rc = error_set(err, e.code, e.name, "%s", e.message);
	}
	freeReplyObject(reply);
	if (stats->expired || stats->logs_trimmed)
		log_info("retention done projects=%zu expired=%zu manifests=%zu logs_trimmed=%zu",
			 stats->projects, stats->expired, stats->manifests, stats->logs_trimmed);
	return rc;
}
