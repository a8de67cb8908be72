/* model_retention.c — the Redis half of retention: one script marks the ready deployments
 * beyond the newest N of a project expired and names the log streams that can go. */
#include "model_retention.h"
#include "id.h"
#include "model_script.h"

#include <stdio.h>
#include <string.h>

/* ARGV: prefix, slug, keep, now, keep for previews. Production and preview deployments are
 * counted apart (previews never push production out); what production or a preview serves
 * is never expired. Returns the ids that became expired now, then 0, then the ids whose log
 * stream goes to the archive: expired ones, and failed or canceled ones beyond the newest
 * `keep` of them, still in Redis. -2 when the project does not exist. */
static const char model_retention_lua[] =
	"local p = ARGV[1] .. 'project:' .. ARGV[2] "
	"if redis.call('EXISTS', p) == 0 then return -2 end "
	"local keep, keepp = tonumber(ARGV[3]), tonumber(ARGV[5]) "
	"local live = {} "
	"live[redis.call('HGET', p, 'current') or ''] = true "
	"for _, k in ipairs(redis.call('ZRANGE', p .. ':previews', 0, -1)) do "
	"  live[redis.call('HGET', p .. ':preview:' .. k, 'current') or ''] = true "
	"end "
	"local ids = redis.call('ZREVRANGE', p .. ':deployments', 0, -1) "
	"local ready, readyp, ended, fresh, logs = 0, 0, 0, {}, {} "
	"for _, id in ipairs(ids) do "
	"  local d = ARGV[1] .. 'deployment:' .. id "
	"  local st = redis.call('HGET', d, 'state') "
	"  if st == 'ready' then "
	"    local pv = redis.call('HGET', d, 'preview') "
	"    local over "
	"    if pv and pv ~= '' then readyp = readyp + 1 over = readyp > keepp "
	"    else ready = ready + 1 over = ready > keep end "
	"    if over and not live[id] then "
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

int model_retention_expire(struct redis *r, const char *slug, long keep, long keep_previews,
			   long long now_ms, json_t **expired, json_t **logs, struct error *err)
{
	char skeep[24], skeepp[24], now[24];
	snprintf(skeep, sizeof(skeep), "%ld", keep);
	snprintf(skeepp, sizeof(skeepp), "%ld", keep_previews);
	snprintf(now, sizeof(now), "%lld", now_ms);
	const char *args[] = { redis_prefix(r), slug, skeep, now, skeepp };
	redisReply *reply = NULL;
	int rc = model_script_reply(r, model_retention_lua, 0, 5, args, &reply, err);
	if (rc < 0)
		return rc;
	if (reply->type == REDIS_REPLY_INTEGER) {
		freeReplyObject(reply);
		return error_set(err, SKIFF_ENOTFOUND, NULL, "project '%s' not found", slug);
	}
	*expired = json_array();
	*logs = json_array();
	json_t *into = *expired;
	for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i < reply->elements; i++) {
		redisReply *el = reply->element[i];
		if (el->type != REDIS_REPLY_STRING)
			continue;
		if (!strcmp(el->str, "0"))
			into = *logs;
		else if (id_valid(el->str))
			json_array_append_new(into, json_string(el->str));
	}
	freeReplyObject(reply);
	return 0;
}
