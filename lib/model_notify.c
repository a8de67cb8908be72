/* model_notify.c — notification hooks, the outbox, deliveries and their history in Redis
 * (model_notify.h), each multi-key change one Lua script. */
#include "model_notify.h"
#include "model_script.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* KEYS: project, project hooks; ARGV: id, hook json, max */
static const char model_lua_notify_create[] =
	"if redis.call('EXISTS', KEYS[1]) == 0 then return -2 end "
	"if redis.call('HLEN', KEYS[2]) >= tonumber(ARGV[3]) then return -3 end "
	"redis.call('HSET', KEYS[2], ARGV[1], ARGV[2]) "
	"return 1";

/* KEYS: project, status; ARGV: provider, api_url, repository, token (sealed) */
static const char model_lua_status_set[] =
	"if redis.call('EXISTS', KEYS[1]) == 0 then return -2 end "
	"redis.call('DEL', KEYS[2]) "
	"redis.call('HSET', KEYS[2], 'provider', ARGV[1], 'api_url', ARGV[2], 'repository', "
	"  ARGV[3], 'token', ARGV[4]) "
	"return 1";

/* KEYS: outbox; ARGV: prefix, entry, deliveries json, history max */
static const char model_lua_notify_take[] =
	"if redis.call('LINDEX', KEYS[1], -1) ~= ARGV[2] then return 0 end "
	"redis.call('RPOP', KEYS[1]) "
	"local due = ARGV[1] .. 'notify:due' "
	"for _, d in ipairs(cjson.decode(ARGV[3])) do "
	"  local k = ARGV[1] .. 'notify:delivery:' .. d.id "
	"  redis.call('HSET', k, 'project', d.project, 'hook', d.hook, 'url', d.url, "
	"    'event', d.event, 'deployment', d.deployment, 'body', d.body, 'created', d.created, "
	"    'state', 'pending', 'attempts', '0', 'next', d.created, 'auth', d.auth or '') "
	"  redis.call('ZADD', due, d.created, d.id) "
	"  local log = ARGV[1] .. 'project:' .. d.project .. ':notify:log' "
	"  redis.call('ZADD', log, d.created, d.id) "
	"  local extra = redis.call('ZCARD', log) - tonumber(ARGV[4]) "
	"  if extra > 0 then "
	"    for _, old in ipairs(redis.call('ZRANGE', log, 0, extra - 1)) do "
	"      redis.call('DEL', ARGV[1] .. 'notify:delivery:' .. old) "
	"      redis.call('ZREM', due, old) "
	"    end "
	"    redis.call('ZREMRANGEBYRANK', log, 0, extra - 1) "
	"  end "
	"end "
	"return 1";

/* KEYS: due; ARGV: prefix, now, lease, max */
static const char model_lua_notify_claim[] =
	"local out = {} "
	"for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, "
	"    tonumber(ARGV[4]))) do "
	"  local k = ARGV[1] .. 'notify:delivery:' .. id "
	"  local d = redis.call('HMGET', k, 'project', 'hook', 'url', 'event', 'body', 'attempts', "
	"    'created', 'auth') "
	"  local hook = nil "
	"  if d[1] and d[2] == 'commit-status' then "
	"    local t = redis.call('HGET', ARGV[1] .. 'project:' .. d[1] .. ':status', 'token') "
	"    if t then hook = cjson.encode({secret = t}) end "
	"  elseif d[1] then "
	"    hook = redis.call('HGET', ARGV[1] .. 'project:' .. d[1] .. ':notify', d[2]) "
	"  end "
	"  if not hook then "
	"    redis.call('ZREM', KEYS[1], id) "
	"    if d[1] then redis.call('HSET', k, 'state', 'dropped', 'error', "
	"      'the notification hook or commit status token was removed') end "
	"  else "
	"    redis.call('ZADD', KEYS[1], tonumber(ARGV[2]) + tonumber(ARGV[3]), id) "
	"    local h = cjson.decode(hook) "
	"    out[#out+1] = {id, d[3] or '', h.secret or '', d[4] or '', d[5] or '', "
	"      d[6] or '0', d[7] or '0', d[1], d[2], d[8] or ''} "
	"  end "
	"end "
	"return out";

/* KEYS: delivery, due; ARGV: id, state, attempts, status, error, now, next */
static const char model_lua_notify_attempt[] =
	"if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('ZREM', KEYS[2], ARGV[1]) "
	"  return 0 end "
	"redis.call('HSET', KEYS[1], 'state', ARGV[2], 'attempts', ARGV[3], 'status', ARGV[4], "
	"  'error', ARGV[5], 'last', ARGV[6], 'next', ARGV[7]) "
	"if ARGV[2] == 'pending' then redis.call('ZADD', KEYS[2], ARGV[7], ARGV[1]) "
	"else redis.call('ZREM', KEYS[2], ARGV[1]) end "
	"return 1";

/* KEYS: history; ARGV: prefix, limit */
static const char model_lua_notify_history[] =
	"local out = {} "
	"for _, id in ipairs(redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)) do "
	"  local d = redis.call('HMGET', ARGV[1] .. 'notify:delivery:' .. id, 'hook', 'event', "
	"    'deployment', 'state', 'attempts', 'status', 'error', 'created', 'last', 'next', 'url') "
	"  if d[1] then "
	"    for i = 1, 11 do d[i] = d[i] or '' end "
	"    out[#out+1] = {id, d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11]} "
	"  end "
	"end "
	"return out";

int model_notify_hook_create(struct redis *r, const char *slug, const char *id, json_t *hook,
			     struct error *err)
{
	char kp[REDIS_KEY_MAX], kh[REDIS_KEY_MAX], max[16];
	redis_key(r, kp, "project:%s", slug);
	redis_key(r, kh, "project:%s:notify", slug);
	snprintf(max, sizeof(max), "%d", NOTIFY_HOOKS_MAX);
	char *hj = model_script_json(hook);
	const char *args[] = { kp, kh, id, hj, max };
	int rc = model_script_run(r, model_lua_notify_create, 2, 5, args, "project", "too_many",
				  err);
	free(hj);
	if (rc == SKIFF_ECONFLICT)
		rc = error_set(err, SKIFF_ELIMIT, "too_many_notification_hooks",
			       "a project has at most %d notification hooks; remove one first",
			       NOTIFY_HOOKS_MAX);
	return rc;
}

int model_notify_hook_delete(struct redis *r, const char *slug, const char *id,
			     struct error *err)
{
	char kh[REDIS_KEY_MAX];
	redis_key(r, kh, "project:%s:notify", slug);
	redisReply *reply = redis_cmd(r, err, "HDEL %s %s", kh, id);
	if (!reply)
		return model_script_failed(err);
	long long n = reply->type == REDIS_REPLY_INTEGER ? reply->integer : 0;
	freeReplyObject(reply);
	if (n == 0)
		return error_set(err, SKIFF_ENOTFOUND, "unknown_notification_hook",
				 "project %s has no notification hook %s", slug, id);
	return 0;
}

int model_notify_hooks(struct redis *r, const char *slug, bool with_secret, json_t **out,
		       struct error *err)
{
	char kh[REDIS_KEY_MAX];
	redis_key(r, kh, "project:%s:notify", slug);
	*out = NULL;
	redisReply *reply = redis_cmd(r, err, "HGETALL %s", kh);
	if (!reply)
		return model_script_failed(err);
	json_t *hooks = json_object();
	for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i + 1 < reply->elements; i += 2) {
		const redisReply *k = reply->element[i], *v = reply->element[i + 1];
		if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING || k->len > ID_LEN)
			continue;
		json_t *h = json_loadb(v->str, v->len, 0, NULL);
		if (!json_is_object(h)) {
			json_decref(h);
			continue;
		}
		if (!with_secret)
			json_object_del(h, "secret");
		json_object_set_new(hooks, k->str, h);
	}
	freeReplyObject(reply);
	*out = hooks;
	return 0;
}

int model_notify_outbox_peek(struct redis *r, char entry[NOTIFY_ENTRY_MAX + 1],
			     struct error *err)
{
	char ko[REDIS_KEY_MAX];
	redis_key(r, ko, "notify:outbox");
	redisReply *reply = redis_cmd(r, err, "LINDEX %s -1", ko);
	if (!reply)
		return model_script_failed(err);
	model_script_str(reply, entry, NOTIFY_ENTRY_MAX + 1);
	freeReplyObject(reply);
	return 0;
}

int model_notify_outbox_take(struct redis *r, const char *entry, json_t *deliveries,
			     struct error *err)
{
	char ko[REDIS_KEY_MAX], max[16];
	redis_key(r, ko, "notify:outbox");
	snprintf(max, sizeof(max), "%d", NOTIFY_HISTORY_MAX);
	char *dj = json_array_size(deliveries) ? model_script_json(deliveries) : NULL;
	const char *args[] = { ko, redis_prefix(r), entry, dj ? dj : "[]", max };
	redisReply *reply = NULL;
	int rc = model_script_reply(r, model_lua_notify_take, 1, 5, args, &reply, err);
	free(dj);
	if (rc < 0)
		return rc;
	rc = reply->type == REDIS_REPLY_INTEGER && reply->integer == 1;
	freeReplyObject(reply);
	return rc;
}

/* A string element as a new JSON string (at most NOTIFY_BODY_MAX bytes). */
static json_t *model_notify_str(const redisReply *e)
{
	if (e->type != REDIS_REPLY_STRING || e->len > NOTIFY_BODY_MAX)
		return json_string("");
	return json_stringn(e->str, e->len);
}

int model_notify_claim(struct redis *r, long long now_ms, long lease_ms, size_t max,
		       json_t **out, struct error *err)
{
	char kd[REDIS_KEY_MAX], now[24], lease[24], n[24];
	redis_key(r, kd, "notify:due");
	snprintf(now, sizeof(now), "%lld", now_ms);
	snprintf(lease, sizeof(lease), "%ld", lease_ms);
	snprintf(n, sizeof(n), "%zu", max);
	const char *args[] = { kd, redis_prefix(r), now, lease, n };
	redisReply *reply = NULL;
	*out = NULL;
	int rc = model_script_reply(r, model_lua_notify_claim, 1, 5, args, &reply, err);
	if (rc < 0)
		return rc;
	json_t *list = json_array();
	for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i < reply->elements; i++) {
		redisReply *e = reply->element[i];
		if (e->type != REDIS_REPLY_ARRAY || e->elements != 10)
			continue;
		json_t *d = json_object();
		json_object_set_new(d, "auth", model_notify_str(e->element[9]));
		json_object_set_new(d, "project", model_notify_str(e->element[7]));
		json_object_set_new(d, "hook", model_notify_str(e->element[8]));
		json_object_set_new(d, "id", model_notify_str(e->element[0]));
		json_object_set_new(d, "url", model_notify_str(e->element[1]));
		json_object_set_new(d, "secret", model_notify_str(e->element[2]));
		json_object_set_new(d, "event", model_notify_str(e->element[3]));
		json_object_set_new(d, "body", model_notify_str(e->element[4]));
		json_object_set_new(d, "attempts", json_integer(model_script_num(e->element[5])));
		json_object_set_new(d, "created", json_integer(model_script_num(e->element[6])));
		json_array_append_new(list, d);
	}
	freeReplyObject(reply);
	*out = list;
	return 0;
}

int model_notify_attempt(struct redis *r, const char *id, const char *state, long attempts,
			 long status, const char *error, long long now_ms, long long next_ms,
			 struct error *err)
{
	char kd[REDIS_KEY_MAX], kdue[REDIS_KEY_MAX], a[24], s[24], now[24], next[24];
	redis_key(r, kd, "notify:delivery:%s", id);
	redis_key(r, kdue, "notify:due");
	snprintf(a, sizeof(a), "%ld", attempts);
	snprintf(s, sizeof(s), "%ld", status);
	snprintf(now, sizeof(now), "%lld", now_ms);
	snprintf(next, sizeof(next), "%lld", next_ms);
	const char *args[] = { kd, kdue, id, state, a, s, error, now, next };
	return model_script_run(r, model_lua_notify_attempt, 2, 9, args, "delivery", "", err);
}

int model_notify_history(struct redis *r, const char *slug, size_t limit, json_t **out,
			 struct error *err)
{
	char kl[REDIS_KEY_MAX], n[24];
	redis_key(r, kl, "project:%s:notify:log", slug);
	snprintf(n, sizeof(n), "%zu", limit);
	const char *args[] = { kl, redis_prefix(r), n };
	redisReply *reply = NULL;
	*out = NULL;
	int rc = model_script_reply(r, model_lua_notify_history, 1, 3, args, &reply, err);
	if (rc < 0)
		return rc;
	json_t *list = json_array();
	for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i < reply->elements; i++) {
		redisReply *e = reply->element[i];
		if (e->type != REDIS_REPLY_ARRAY || e->elements != 12)
			continue;
		long long status = model_script_num(e->element[6]), last = model_script_num(e->element[9]);
		json_t *d = json_object();
		json_object_set_new(d, "id", model_notify_str(e->element[0]));
		json_object_set_new(d, "hook", model_notify_str(e->element[1]));
		json_object_set_new(d, "event", model_notify_str(e->element[2]));
		json_object_set_new(d, "deploymentId", model_notify_str(e->element[3]));
		json_object_set_new(d, "state", model_notify_str(e->element[4]));
		json_object_set_new(d, "attempts", json_integer(model_script_num(e->element[5])));
		json_object_set_new(d, "responseStatus", status ? json_integer(status) : json_null());
		json_object_set_new(d, "error", model_notify_str(e->element[7]));
		json_object_set_new(d, "created", json_integer(model_script_num(e->element[8])));
		json_object_set_new(d, "lastAttempt", last ? json_integer(last) : json_null());
		json_object_set_new(d, "nextAttempt",
				    !strcmp(json_string_value(json_object_get(d, "state")), "pending")
					    ? json_integer(model_script_num(e->element[10]))
					    : json_null());
		json_object_set_new(d, "url", model_notify_str(e->element[11]));
		json_array_append_new(list, d);
	}
	freeReplyObject(reply);
	*out = list;
	return 0;
}

int model_notify_status_set(struct redis *r, const char *slug, const char *provider,
			    const char *api_url, const char *repository, const char *sealed,
			    struct error *err)
{
	char kp[REDIS_KEY_MAX], ks[REDIS_KEY_MAX];
	redis_key(r, kp, "project:%s", slug);
	redis_key(r, ks, "project:%s:status", slug);
	const char *args[] = { kp, ks, provider, api_url, repository, sealed };
	return model_script_run(r, model_lua_status_set, 2, 6, args, "project", "", err);
}

int model_notify_status_delete(struct redis *r, const char *slug, struct error *err)
{
	char ks[REDIS_KEY_MAX];
	redis_key(r, ks, "project:%s:status", slug);
	redisReply *reply = redis_cmd(r, err, "DEL %s", ks);
	if (!reply)
		return model_script_failed(err);
	long long n = reply->type == REDIS_REPLY_INTEGER ? reply->integer : 0;
	freeReplyObject(reply);
	if (n == 0)
		return error_set(err, SKIFF_ENOTFOUND, "no_commit_status",
				 "project %s posts no commit statuses", slug);
	return 0;
}

int model_notify_status_get(struct redis *r, const char *slug, json_t **out, struct error *err)
{
	char ks[REDIS_KEY_MAX];
	redis_key(r, ks, "project:%s:status", slug);
	*out = NULL;
	redisReply *reply = redis_cmd(r, err, "HMGET %s provider api_url repository token", ks);
	if (!reply)
		return model_script_failed(err);
	if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 4 &&
	    reply->element[0]->type == REDIS_REPLY_STRING)
		*out = json_pack("{sosososo}", "provider", model_notify_str(reply->element[0]),
				 "apiUrl", model_notify_str(reply->element[1]), "repository",
				 model_notify_str(reply->element[2]), "token",
				 model_notify_str(reply->element[3]));
	freeReplyObject(reply);
	return 0;
}
