/* model_lifecycle.c — redeploy, rollback, pin, cancel and delete as atomic Lua scripts, and
 * the task ARNs a delete leaves behind for skiff-dispatch. */
#include "model_lifecycle.h"
#include "clock.h"
#include "hook.h"
#include "model.h"
#include "model_record.h"
#include "model_script.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Cancels deployment key d (with log stream l and channel e) if it is queued or building;
 * returns the previous state. Used by several scripts. */
#define LUA_CANCEL MODEL_LUA_NOTIFY                                                            \
	"local function cancel(prefix, id, now, reason) "                                      \
	"  local d = prefix .. 'deployment:' .. id "                                           \
	"  local st = redis.call('HGET', d, 'state') "                                         \
	"  if st ~= 'queued' and st ~= 'building' then return st end "                         \
	"  redis.call('LREM', prefix .. 'queue', 0, id) "                                      \
	"  redis.call('HSET', d, 'state', 'canceled', 'phase', '', 'finished', now, "          \
	"    'error', reason) "                                                                \
	"  notify(d, 'canceled', now) "                                                        \
	"  local l = prefix .. 'log:' .. id "                                                  \
	"  redis.call('XADD', l, '*', 'k', 'line', 's', 'system', 'm', reason) "              \
	"  redis.call('XADD', l, '*', 'k', 'state', 's', 'system', 'm', 'canceled') "         \
	"  local eid = redis.call('XADD', l, '*', 'k', 'end', 's', 'system', 'm', 'canceled') " \
	"  redis.call('PUBLISH', prefix .. 'events:' .. id, eid) "                             \
	"  return st "                                                                         \
	"end "

/* KEYS: none (prefix-built); ARGV: prefix, slug, id, now, deployment json, preview key (""
 * for production), preview json. The build this one replaces is the one still queued for the
 * same target: production (the project's "queued"), or the same preview (its "queued"), so
 * pushes to one branch coalesce without touching another's. A preview key held by another
 * branch (two branch names hashed alike) is refused (-4), and so is a new preview beyond
 * ARGV[8] of them (-5). */
static const char model_lifecycle_lua_redeploy[] = LUA_CANCEL MODEL_LUA_HSET
	"local p = ARGV[1] .. 'project:' .. ARGV[2] "
	"if redis.call('EXISTS', p) == 0 then return {-2} end "
	"local q = p "
	"if ARGV[6] ~= '' then "
	"  q = p .. ':preview:' .. ARGV[6] "
	"  local b = redis.call('HGET', q, 'branch') "
	"  if b and b ~= cjson.decode(ARGV[7]).branch then return {-4} end "
	"  if not b and redis.call('ZCARD', p .. ':previews') >= tonumber(ARGV[8]) then "
	"    return {-5} "
	"  end "
	"  if not b then redis.call('HSET', q, 'created', ARGV[4]) end "
	"  hset(q, ARGV[7]) "
	"  redis.call('HSET', q, 'updated', ARGV[4]) "
	"  redis.call('ZADD', p .. ':previews', ARGV[4], ARGV[6]) "
	"end "
	"local old = redis.call('HGET', q, 'queued') "
	"local superseded = '' "
	"if old and old ~= '' then "
	"  local st = redis.call('HGET', ARGV[1] .. 'deployment:' .. old, 'state') "
	"  if st == 'queued' then "
	"    cancel(ARGV[1], old, ARGV[4], 'superseded by ' .. ARGV[3]) "
	"    redis.call('HSET', ARGV[1] .. 'deployment:' .. old, 'superseded_by', ARGV[3]) "
	"    superseded = old "
	"  end "
	"end "
	"hset(ARGV[1] .. 'deployment:' .. ARGV[3], ARGV[5]) "
	"redis.call('ZADD', p .. ':deployments', ARGV[4], ARGV[3]) "
	"if q == p then redis.call('HSET', p, 'latest', ARGV[3], 'queued', ARGV[3]) "
	"else redis.call('HSET', q, 'queued', ARGV[3]) end "
	"local eid = redis.call('XADD', ARGV[1] .. 'log:' .. ARGV[3], '*', 'k', 'state', "
	"  's', 'system', 'm', 'queued') "
	"redis.call('LPUSH', ARGV[1] .. 'queue', ARGV[3]) "
	"redis.call('PUBLISH', ARGV[1] .. 'events:' .. ARGV[3], eid) "
	"return {0, superseded}";

/* ARGV: prefix, slug, key, now. Removes the preview and its address; a build of it still
 * queued is canceled (one running ends ready without an address: promote finds no preview).
 * Returns {1, canceled id or ''}, or {0, ''} when there was no such preview. */
static const char model_lifecycle_lua_preview_close[] = LUA_CANCEL
	"local p = ARGV[1] .. 'project:' .. ARGV[2] "
	"local q = p .. ':preview:' .. ARGV[3] "
	"if redis.call('EXISTS', q) == 0 then return {0, ''} end "
	"local old = redis.call('HGET', q, 'queued') or '' "
	"local canceled = '' "
	"if old ~= '' and redis.call('HGET', ARGV[1] .. 'deployment:' .. old, 'state') == 'queued' then "
	"  cancel(ARGV[1], old, ARGV[4], 'preview closed') "
	"  canceled = old "
	"end "
	"redis.call('DEL', q) "
	"redis.call('ZREM', p .. ':previews', ARGV[3]) "
	"return {1, canceled}";

/* ARGV: prefix, slug, id, pin, who, now. To the deployment already current: only the pin
 * changes; nothing was rolled back, so nothing is recorded. A preview deployment (built
 * without production's settings, perhaps from a fork) never becomes production (-5). */
static const char model_lifecycle_lua_rollback[] =
	"local p = ARGV[1] .. 'project:' .. ARGV[2] "
	"if redis.call('EXISTS', p) == 0 then return -2 end "
	"local d = ARGV[1] .. 'deployment:' .. ARGV[3] "
	"local proj = redis.call('HGET', d, 'project') "
	"if not proj then return -2 end "
	"if proj ~= ARGV[2] then return -4 end "
	"if redis.call('HGET', d, 'state') ~= 'ready' then return -3 end "
	"if (redis.call('HGET', d, 'preview') or '') ~= '' then return -5 end "
	"local cur = redis.call('HGET', p, 'current') or '' "
	"if cur == ARGV[3] then redis.call('HSET', p, 'pinned', ARGV[4]) return 0 end "
	"redis.call('HSET', p, 'current', ARGV[3], 'rolled_back_from', cur, "
	"  'rolled_back_at', ARGV[6], 'rolled_back_by', ARGV[5], 'pinned', ARGV[4]) "
	"redis.call('HSET', d, 'rolled_back_from', cur) "
	"return 0";

/* ARGV: prefix, slug */
static const char model_lifecycle_lua_unpin[] =
	"local p = ARGV[1] .. 'project:' .. ARGV[2] "
	"if redis.call('EXISTS', p) == 0 then return -2 end "
	"redis.call('HSET', p, 'pinned', '0') "
	"return 0";

/* ARGV: prefix, id, now */
static const char model_lifecycle_lua_cancel[] = LUA_CANCEL
	"local st = redis.call('HGET', ARGV[1] .. 'deployment:' .. ARGV[2], 'state') "
	"if not st then return -2 end "
	"if st == 'canceled' then return 0 end "
	"if st ~= 'queued' and st ~= 'building' then return -3 end "
	/* a running build (its lease is alive) records canceled itself once its processes are
	 * gone; until then the state stays building */
	"if st == 'building' and redis.call('EXISTS', ARGV[1] .. 'lease:' .. ARGV[2]) == 1 then "
	"  local d = ARGV[1] .. 'deployment:' .. ARGV[2] "
	"  if redis.call('HSETNX', d, 'cancel_requested', ARGV[3]) == 1 then "
	"    local eid = redis.call('XADD', ARGV[1] .. 'log:' .. ARGV[2], '*', 'k', 'line', "
	"      's', 'system', 'm', 'Cancel requested: stopping the build') "
	"    redis.call('PUBLISH', ARGV[1] .. 'events:' .. ARGV[2], eid) "
	"  end "
	"  return 2 "
	"end "
	"cancel(ARGV[1], ARGV[2], ARGV[3], 'canceled by request') "
	"return 0";

/* ARGV: prefix, slug, now, orphan task ttl. A build still running on ECS leaves its task's ARN
 * behind (orphan_task:{id}) for skiff-dispatch to stop: its record is gone. */
static const char model_lifecycle_lua_delete[] = LUA_CANCEL
	"local p = ARGV[1] .. 'project:' .. ARGV[2] "
	"if redis.call('EXISTS', p) == 0 then return -2 end "
	"local ids = redis.call('ZRANGE', p .. ':deployments', 0, -1) "
	"for _, id in ipairs(ids) do "
	"  local st = cancel(ARGV[1], id, ARGV[3], 'project deleted') "
	"  local arn = redis.call('HGET', ARGV[1] .. 'deployment:' .. id, 'task_arn') "
	"  if (st == 'queued' or st == 'building') and arn and arn ~= '' then "
	"    redis.call('SET', ARGV[1] .. 'orphan_task:' .. id, arn, 'EX', ARGV[4]) "
	"  end "
	"  redis.call('DEL', ARGV[1] .. 'deployment:' .. id, ARGV[1] .. 'log:' .. id, "
	"    ARGV[1] .. 'lease:' .. id, ARGV[1] .. 'upload:' .. id) "
	"end "
	"for _, t in ipairs(redis.call('ZRANGE', p .. ':tokens', 0, -1)) do "
	"  local h = redis.call('HGET', ARGV[1] .. 'token:' .. t, 'hash') "
	"  if h then redis.call('DEL', ARGV[1] .. 'tokenhash:' .. h) end "
	"  redis.call('DEL', ARGV[1] .. 'token:' .. t) "
	"end "
	"for _, k in ipairs(redis.call('ZRANGE', p .. ':previews', 0, -1)) do "
	"  redis.call('DEL', p .. ':preview:' .. k) "
	"end "
	"for _, t in ipairs(redis.call('ZRANGE', p .. ':buildhooks', 0, -1)) do "
	"  local h = redis.call('HGET', ARGV[1] .. 'buildhook:' .. t, 'hash') "
	"  if h then redis.call('DEL', ARGV[1] .. 'buildhookhash:' .. h) end "
	"  redis.call('DEL', ARGV[1] .. 'buildhook:' .. t) "
	"end "
	"for _, n in ipairs(redis.call('ZRANGE', p .. ':notify:log', 0, -1)) do "
	"  redis.call('DEL', ARGV[1] .. 'notify:delivery:' .. n) "
	"  redis.call('ZREM', ARGV[1] .. 'notify:due', n) "
	"end "
	"for _, n in ipairs(redis.call('ZRANGE', p .. ':domains', 0, -1)) do "
	"  if redis.call('HGET', ARGV[1] .. 'domain:' .. n, 'project') == ARGV[2] then "
	"    redis.call('DEL', ARGV[1] .. 'domain:' .. n) "
	"    redis.call('ZREM', ARGV[1] .. 'domains:check', n) "
	"    redis.call('SREM', ARGV[1] .. 'domains:live', n) "
	"  end "
	"end "
	"redis.call('DEL', p, p .. ':deployments', p .. ':tokens', p .. ':env', p .. ':changes', "
	"  p .. ':repo', p .. ':buildhooks', p .. ':notify', p .. ':notify:log', p .. ':status', p .. ':previews', p .. ':domains') "
	"redis.call('ZREM', ARGV[1] .. 'projects', ARGV[2]) "
	"redis.call('ZREM', ARGV[1] .. 'watch', ARGV[2]) "
	"return #ids";

static int model_lifecycle_int(redisReply *reply, long long *out)
{
	if (reply->type == REDIS_REPLY_INTEGER) {
		*out = reply->integer;
		return 0;
	}
	if (reply->type == REDIS_REPLY_ARRAY && reply->elements > 0 &&
	    reply->element[0]->type == REDIS_REPLY_INTEGER) {
		*out = reply->element[0]->integer;
		return 0;
	}
	return -1;
}

static int model_lifecycle_run(struct redis *r, const char *script, int nargs, const char **args,
			 long long *result, redisReply **keep, struct error *err)
{
	redisReply *reply = redis_eval(r, err, script, 0, nargs, args);
	if (!reply)
		return model_script_failed(err);
	if (model_lifecycle_int(reply, result) < 0) {
		freeReplyObject(reply);
		return error_set(err, SKIFF_EINTERNAL, NULL, "unexpected answer from Redis");
	}
	if (keep)
		*keep = reply;
	else
		freeReplyObject(reply);
	return 0;
}

/* The id a script answered as element i of its array reply into out ("" when none). */
static void model_lifecycle_id(const redisReply *reply, size_t i, char out[ID_LEN + 1])
{
	out[0] = '\0';
	if (reply->type == REDIS_REPLY_ARRAY && reply->elements > i &&
	    reply->element[i]->type == REDIS_REPLY_STRING && reply->element[i]->len == ID_LEN)
		memcpy(out, reply->element[i]->str, ID_LEN + 1);
}

static int model_lifecycle_queue(struct redis *r, const char *slug, const struct deployment *d,
				 const struct preview *pv, char superseded[ID_LEN + 1],
				 struct error *err)
{
	const char *id = d->id;
	char now[24];
	snprintf(now, sizeof(now), "%lld", clock_wall_ms());
	json_t *fields = model_record_deployment_fields(d);
	char *dj = model_script_json(fields);
	json_decref(fields);
	fields = pv ? model_record_preview_fields(pv) : NULL;
	char *pj = model_script_json(fields);
	json_decref(fields);
	assert(id[0]);
	char open_max[16];
	snprintf(open_max, sizeof(open_max), "%d", PREVIEW_OPEN_MAX);
	const char *args[] = { redis_prefix(r), slug, id, now, dj, pv ? pv->key : "", pj, open_max };
	long long v;
	redisReply *reply = NULL;
	int rc = model_lifecycle_run(r, model_lifecycle_lua_redeploy, 8, args, &v, &reply, err);
	free(dj);
	free(pj);
	superseded[0] = '\0';
	if (rc < 0)
		return rc;
	if (v == -2)
		rc = error_set(err, SKIFF_ENOTFOUND, NULL, "project '%s' not found", slug);
	else if (v == -4)
		rc = error_set(err, SKIFF_ECONFLICT, "preview_taken",
			       "the preview address %s belongs to another branch", pv->key);
	else if (v == -5)
		rc = error_set(err, SKIFF_ELIMIT, "too_many_previews",
			       "the project has %d previews already: close some first", PREVIEW_OPEN_MAX);
	else
		model_lifecycle_id(reply, 1, superseded);
	freeReplyObject(reply);
	return rc;
}

int model_lifecycle_redeploy(struct redis *r, const char *slug, const struct deployment *d,
			     char superseded[ID_LEN + 1], struct error *err)
{
	return model_lifecycle_queue(r, slug, d, NULL, superseded, err);
}

int model_lifecycle_preview_deploy(struct redis *r, const char *slug, const struct deployment *d,
				   const struct preview *pv, char superseded[ID_LEN + 1],
				   struct error *err)
{
	assert(pv->key[0] && !strcmp(pv->key, d->preview));
	return model_lifecycle_queue(r, slug, d, pv, superseded, err);
}

int model_lifecycle_preview_close(struct redis *r, const char *slug, const char *key,
				  char canceled[ID_LEN + 1], struct error *err)
{
	char now[24];
	snprintf(now, sizeof(now), "%lld", clock_wall_ms());
	const char *args[] = { redis_prefix(r), slug, key, now };
	long long v;
	redisReply *reply = NULL;
	int rc = model_lifecycle_run(r, model_lifecycle_lua_preview_close, 4, args, &v, &reply, err);
	canceled[0] = '\0';
	if (rc < 0)
		return rc;
	model_lifecycle_id(reply, 1, canceled);
	freeReplyObject(reply);
	return (int)v;
}

int model_lifecycle_rollback(struct redis *r, const char *slug, const char *id, bool pin,
		       const char *who, struct error *err)
{
	char now[24];
	snprintf(now, sizeof(now), "%lld", clock_wall_ms());
	const char *args[] = { redis_prefix(r), slug, id, pin ? "1" : "0", who, now };
	long long v;
	int rc = model_lifecycle_run(r, model_lifecycle_lua_rollback, 6, args, &v, NULL, err);
	if (rc < 0)
		return rc;
	switch (v) {
	case 0: return 0;
	case -2: return error_set(err, SKIFF_ENOTFOUND, NULL, "no project '%s' or deployment '%s'", slug, id);
	case -4: return error_set(err, SKIFF_ECONFLICT, "wrong_project",
				  "deployment %s belongs to another project", id);
	case -5: return error_set(err, SKIFF_ECONFLICT, "preview_deployment",
				  "deployment %s is a preview: it never becomes production", id);
	default: return error_set(err, SKIFF_ECONFLICT, "not_ready",
				  "only a ready deployment can become current");
	}
}

int model_lifecycle_unpin(struct redis *r, const char *slug, struct error *err)
{
	const char *args[] = { redis_prefix(r), slug };
	long long v;
	int rc = model_lifecycle_run(r, model_lifecycle_lua_unpin, 2, args, &v, NULL, err);
	if (rc == 0 && v == -2)
		rc = error_set(err, SKIFF_ENOTFOUND, NULL, "project '%s' not found", slug);
	return rc;
}

int model_lifecycle_cancel(struct redis *r, const char *id, bool *stopping, struct error *err)
{
	char now[24];
	snprintf(now, sizeof(now), "%lld", clock_wall_ms());
	const char *args[] = { redis_prefix(r), id, now };
	long long v;
	*stopping = false;
	int rc = model_lifecycle_run(r, model_lifecycle_lua_cancel, 3, args, &v, NULL, err);
	if (rc < 0)
		return rc;
	if (v == -2)
		return error_set(err, SKIFF_ENOTFOUND, NULL, "deployment %s not found", id);
	if (v == -3)
		return error_set(err, SKIFF_ECONFLICT, "already_finished",
				 "deployment %s has already finished", id);
	*stopping = v == 2;
	return 0;
}

int model_lifecycle_delete(struct redis *r, const char *slug, struct error *err)
{
	char now[24], key[REDIS_KEY_MAX];
	snprintf(now, sizeof(now), "%lld", clock_wall_ms());
	/* the webhook index is keyed by a hash of the URL, which Lua cannot compute */
	redis_key(r, key, "project:%s", slug);
	redisReply *url = redis_cmd(r, err, "HGET %s git_url", key);
	if (!url)
		return model_script_failed(err);
	char ttl[24];
	snprintf(ttl, sizeof(ttl), "%d", MODEL_ORPHAN_TASK_TTL_S);
	const char *args[] = { redis_prefix(r), slug, now, ttl };
	long long v;
	int rc = model_lifecycle_run(r, model_lifecycle_lua_delete, 4, args, &v, NULL, err);
	if (rc == 0 && v == -2)
		rc = error_set(err, SKIFF_ENOTFOUND, NULL, "project '%s' not found", slug);
	if (rc == 0 && url->type == REDIS_REPLY_STRING)
		hook_index_remove(r, url->str, slug, NULL); /* skiff-hook also drops stale entries */
	freeReplyObject(url);
	return rc;
}

int model_lifecycle_orphan_task(struct redis *r, const char *id, char *arn, size_t arnlen,
				struct error *err)
{
	char key[REDIS_KEY_MAX];
	redis_key(r, key, "orphan_task:%s", id);
	redisReply *reply = redis_cmd(r, err, "GET %s", key);
	if (!reply)
		return model_script_failed(err);
	int found = reply->type == REDIS_REPLY_STRING && reply->len < arnlen;
	if (found)
		memcpy(arn, reply->str, reply->len + 1);
	else if (arnlen)
		arn[0] = '\0';
	freeReplyObject(reply);
	return found;
}

void model_lifecycle_orphan_task_drop(struct redis *r, const char *id)
{
	char key[REDIS_KEY_MAX];
	redis_key(r, key, "orphan_task:%s", id);
	freeReplyObject(redis_cmd(r, NULL, "DEL %s", key));
}
