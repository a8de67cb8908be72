/* model.c — the Redis data model: records, the queue, leases and log streams, with every
 * multi-key write done by one Lua script. */
#include "model.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Lua helpers shared by the scripts: hset from a JSON object of strings. */
#define LUA_HSET                                                                          \
	"local function hset(key, j) local t = cjson.decode(j) local a = {} "             \
	"for k, v in pairs(t) do a[#a+1] = k a[#a+1] = tostring(v) end "                 \
	"if #a > 0 then redis.call('HSET', key, unpack(a)) end end "
#define LUA_FINAL "local final = {ready=1, error=1, canceled=1, expired=1} "

/* KEYS: project, projects, deployment, project deployments, queue, log, events
 * ARGV: slug, id, now, maxlen, n, then n project field/value pairs, then the deployment's
 * pairs (flat lists: the hot path of every create, no JSON decoding in Redis) */
static const char model_lua_project_create[] =
	"if redis.call('EXISTS', KEYS[1]) == 1 then return -3 end "
	"local np = tonumber(ARGV[5]) "
	"redis.call('HSET', KEYS[1], unpack(ARGV, 6, 5 + 2 * np)) "
	"redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1]) "
	"redis.call('HSET', KEYS[3], unpack(ARGV, 6 + 2 * np, #ARGV)) "
	"redis.call('ZADD', KEYS[4], ARGV[3], ARGV[2]) "
	"local eid = redis.call('XADD', KEYS[6], 'MAXLEN', '~', ARGV[4], '*', 'k', 'state', "
	"'s', 'system', 'm', 'queued') "
	"redis.call('LPUSH', KEYS[5], ARGV[2]) "
	"redis.call('PUBLISH', KEYS[7], eid) "
	"return eid";

/* KEYS: project, deployment, project deployments, queue, log, events
 * ARGV: id, now, maxlen, deployment json */
static const char model_lua_deployment_create[] = LUA_HSET
	"if redis.call('EXISTS', KEYS[1]) == 0 then return -2 end "
	"hset(KEYS[2], ARGV[4]) "
	"redis.call('HSET', KEYS[1], 'latest', ARGV[1]) "
	"redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1]) "
	"local eid = redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[3], '*', 'k', 'state', "
	"'s', 'system', 'm', 'queued') "
	"redis.call('LPUSH', KEYS[4], ARGV[1]) "
	"redis.call('PUBLISH', KEYS[6], eid) "
	"return eid";

/* KEYS: deployment; ARGV: fields json. A deleted deployment is not created again. */
static const char model_lua_update[] = LUA_HSET
	"if redis.call('EXISTS', KEYS[1]) == 0 then return -2 end "
	"hset(KEYS[1], ARGV[1]) "
	"return redis.status_reply('OK')";

/* KEYS: deployment, log, events
 * ARGV: state, phase, now, maxlen, fields json */
static const char model_lua_state[] = LUA_HSET LUA_FINAL
	"local cur = redis.call('HGET', KEYS[1], 'state') "
	"if not cur then return -2 end "
	"if final[cur] then return -3 end "
	"hset(KEYS[1], ARGV[5]) "
	"redis.call('HSET', KEYS[1], 'state', ARGV[1], 'phase', ARGV[2]) "
	"local m = ARGV[1] if ARGV[2] ~= '' then m = m .. ' ' .. ARGV[2] end "
	"local eid = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'k', 'state', "
	"'s', 'system', 'm', m) "
	"if final[ARGV[1]] then "
	"  redis.call('HSET', KEYS[1], 'finished', ARGV[3]) "
	"  eid = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'k', 'end', "
	"  's', 'system', 'm', ARGV[1]) "
	"end "
	"redis.call('PUBLISH', KEYS[3], eid) "
	"return eid";

/* KEYS: deployment, log, events, project
 * ARGV: id, now, maxlen, fields json. A build going live ends an earlier rollback: the
 * project's rolled_back_* fields go with it. */
static const char model_lua_promote[] = LUA_HSET LUA_FINAL
	"local cur = redis.call('HGET', KEYS[1], 'state') "
	"if not cur then return -2 end "
	"if cur == 'canceled' then return -16 end "
	"if final[cur] then return -3 end "
	"if redis.call('EXISTS', KEYS[4]) == 0 then return -2 end "
	"hset(KEYS[1], ARGV[4]) "
	"redis.call('HSET', KEYS[1], 'state', 'ready', 'phase', '', 'finished', ARGV[2]) "
	"if redis.call('HGET', KEYS[4], 'pinned') ~= '1' then "
	"  redis.call('HSET', KEYS[4], 'current', ARGV[1]) "
	"  redis.call('HDEL', KEYS[4], 'rolled_back_from', 'rolled_back_at', 'rolled_back_by') "
	"end "
	"redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'k', 'state', 's', 'system', "
	"'m', 'ready') "
	"local eid = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'k', 'end', "
	"'s', 'system', 'm', 'ready') "
	"redis.call('PUBLISH', KEYS[3], eid) "
	"return eid";

/* KEYS: log, events, deployment; ARGV: source, text, maxlen. A deleted deployment's stream
 * is not created again. */
static const char model_lua_log[] =
	"if redis.call('EXISTS', KEYS[3]) == 0 then return -2 end "
	"local eid = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'k', 'line', "
	"'s', ARGV[1], 'm', ARGV[2]) "
	"redis.call('PUBLISH', KEYS[2], eid) "
	"return eid";

/* The configured cap of a log stream (XADD MAXLEN ~). */
static const char *model_maxlen(struct redis *r, char buf[24])
{
	snprintf(buf, 24, "%ld", redis_config(r)->log_max_entries);
	return buf;
}

long long model_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Maps a script's integer answer to a skiff error. */
static int model_script_result(redisReply *reply, const char *what, const char *name,
			       struct error *err)
{
	if (reply->type != REDIS_REPLY_INTEGER)
		return 0;
	switch (reply->integer) {
	case -2:
		return error_set(err, SKIFF_ENOTFOUND, NULL, "%s not found", what);
	case -3:
		return error_set(err, SKIFF_ECONFLICT, NULL, "%s", name);
	case -16:
		return error_set(err, SKIFF_ECANCELED, "canceled", "%s was canceled", what);
	default:
		return error_set(err, SKIFF_EINTERNAL, NULL, "unexpected answer %lld from Redis",
				 reply->integer);
	}
}

/* Appends obj's string fields as name, value pairs to args (borrowed pointers, valid while obj
 * lives); returns how many pairs. Too many fields is a programming error. */
static int model_pairs(json_t *obj, const char **args, int *n, int max)
{
	const char *k;
	json_t *v;
	int pairs = 0;
	json_object_foreach(obj, k, v) {
		const char *s = json_string_value(v);
		if (!s)
			continue;
		if (*n + 2 > max)
			abort();
		args[(*n)++] = k;
		args[(*n)++] = s;
		pairs++;
	}
	return pairs;
}

static char *model_json(json_t *obj)
{
	char *s = obj ? json_dumps(obj, JSON_COMPACT) : strdup("{}");
	if (!s)
		abort();
	return s;
}

static int model_eval(struct redis *r, const char *script, int nkeys, int nargs,
		      const char **args, const char *what, const char *conflict, struct error *err)
{
	redisReply *reply = redis_eval(r, err, script, nkeys, nargs, args);
	if (!reply)
		return err ? err->code : SKIFF_EREDIS;
	int rc = model_script_result(reply, what, conflict, err);
	freeReplyObject(reply);
	return rc;
}

int model_project_create(struct redis *r, json_t *project, json_t *deployment, struct error *err)
{
	const char *slug = json_string_value(json_object_get(project, "slug"));
	const char *id = json_string_value(json_object_get(deployment, "id"));
	if (!slug || !id)
		return error_set(err, SKIFF_EINTERNAL, NULL, "project create without slug or id");
	char kp[REDIS_KEY_MAX], kps[REDIS_KEY_MAX], kd[REDIS_KEY_MAX], kpd[REDIS_KEY_MAX],
		kq[REDIS_KEY_MAX], kl[REDIS_KEY_MAX], ke[REDIS_KEY_MAX], now[24], maxlen[24];
	redis_key(r, kp, "project:%s", slug);
	redis_key(r, kps, "projects");
	redis_key(r, kd, "deployment:%s", id);
	redis_key(r, kpd, "project:%s:deployments", slug);
	redis_key(r, kq, "queue");
	redis_key(r, kl, "log:%s", id);
	redis_key(r, ke, "events:%s", id);
	snprintf(now, sizeof(now), "%lld", model_now_ms());
	enum { FIXED = 12, PAIRS_MAX = 24 };
	const char *args[FIXED + 4 * PAIRS_MAX] = { kp, kps, kd, kpd, kq, kl, ke, slug, id, now,
						    model_maxlen(r, maxlen) };
	char np[16];
	int n = FIXED;
	int pairs = model_pairs(project, args, &n, FIXED + 2 * PAIRS_MAX);
	snprintf(np, sizeof(np), "%d", pairs);
	args[FIXED - 1] = np;
	if (pairs == 0 || model_pairs(deployment, args, &n, FIXED + 4 * PAIRS_MAX) == 0)
		return error_set(err, SKIFF_EINTERNAL, NULL, "project or deployment without fields");
	int rc = model_eval(r, model_lua_project_create, 7, n, args, "project", "slug_taken", err);
	if (rc == SKIFF_ECONFLICT)
		error_set(err, SKIFF_ECONFLICT, "slug_taken", "the slug '%s' is already taken", slug);
	return rc;
}

int model_deployment_create(struct redis *r, const char *slug, json_t *deployment,
			    struct error *err)
{
	const char *id = json_string_value(json_object_get(deployment, "id"));
	if (!id)
		return error_set(err, SKIFF_EINTERNAL, NULL, "deployment create without id");
	char kp[REDIS_KEY_MAX], kd[REDIS_KEY_MAX], kpd[REDIS_KEY_MAX], kq[REDIS_KEY_MAX],
		kl[REDIS_KEY_MAX], ke[REDIS_KEY_MAX], now[24], maxlen[24];
	redis_key(r, kp, "project:%s", slug);
	redis_key(r, kd, "deployment:%s", id);
	redis_key(r, kpd, "project:%s:deployments", slug);
	redis_key(r, kq, "queue");
	redis_key(r, kl, "log:%s", id);
	redis_key(r, ke, "events:%s", id);
	snprintf(now, sizeof(now), "%lld", model_now_ms());
	char *dj = model_json(deployment);
	const char *args[] = { kp, kd, kpd, kq, kl, ke, id, now, model_maxlen(r, maxlen), dj };
	int rc = model_eval(r, model_lua_deployment_create, 6, 10, args, "project", "conflict", err);
	free(dj);
	return rc;
}

static int model_hgetall(struct redis *r, const char *key, const char *what, json_t **out,
			 struct error *err)
{
	redisReply *reply = redis_cmd(r, err, "HGETALL %s", key);
	if (!reply)
		return err ? err->code : SKIFF_EREDIS;
	int rc = 0;
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements == 0) {
		rc = error_set(err, SKIFF_ENOTFOUND, NULL, "%s not found", what);
		goto out;
	}
	json_t *obj = json_object();
	for (size_t i = 0; i + 1 < reply->elements; i += 2) {
		redisReply *k = reply->element[i], *v = reply->element[i + 1];
		if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
			continue;
		char name[128];
		snprintf(name, sizeof(name), "%.*s", (int)k->len, k->str);
		json_object_set_new(obj, name, json_stringn(v->str, v->len));
	}
	*out = obj;
out:
	freeReplyObject(reply);
	return rc;
}

int model_project_get(struct redis *r, const char *slug, json_t **out, struct error *err)
{
	char key[REDIS_KEY_MAX];
	redis_key(r, key, "project:%s", slug);
	return model_hgetall(r, key, "project", out, err);
}

int model_deployment_get(struct redis *r, const char *id, json_t **out, struct error *err)
{
	char key[REDIS_KEY_MAX];
	redis_key(r, key, "deployment:%s", id);
	return model_hgetall(r, key, "deployment", out, err);
}

int model_project_current(struct redis *r, const char *slug, char out[ID_LEN + 1],
			  struct error *err)
{
	char key[REDIS_KEY_MAX];
	redis_key(r, key, "project:%s", slug);
	redisReply *reply = redis_cmd(r, err, "HGET %s current", key);
	if (!reply)
		return err ? err->code : SKIFF_EREDIS;
	int rc = 0;
	if (reply->type != REDIS_REPLY_STRING || reply->len != ID_LEN)
		rc = error_set(err, SKIFF_ENOTFOUND, NULL, "project has no current deployment");
	else
		memcpy(out, reply->str, ID_LEN + 1);
	freeReplyObject(reply);
	return rc;
}

static int model_zrev(struct redis *r, const char *key, size_t offset, size_t limit, json_t **out,
		      struct error *err)
{
	if (limit == 0)
		limit = 1;
	char from[24], to[24];
	snprintf(from, sizeof(from), "%zu", offset);
	snprintf(to, sizeof(to), "%zu", offset + limit - 1);
	redisReply *reply = redis_cmd(r, err, "ZREVRANGE %s %s %s", key, from, to);
	if (!reply)
		return err ? err->code : SKIFF_EREDIS;
	json_t *arr = redis_reply_strings(reply);
	freeReplyObject(reply);
	*out = arr;
	return 0;
}

int model_project_list(struct redis *r, size_t limit, json_t **slugs, struct error *err)
{
	char key[REDIS_KEY_MAX];
	redis_key(r, key, "projects");
	return model_zrev(r, key, 0, limit, slugs, err);
}

int model_deployment_list(struct redis *r, const char *slug, size_t offset, size_t limit,
			  json_t **ids, struct error *err)
{
	char key[REDIS_KEY_MAX];
	redis_key(r, key, "project:%s:deployments", slug);
	return model_zrev(r, key, offset, limit, ids, err);
}

/* Deployments sharing one score (created in the same millisecond) read at most. */
#define MODEL_PAGE_TIES_MAX 1000

/* Adds the members of a WITHSCORES reply to ids and positions, up to limit in all; with
 * below, only the members that sort before it (the ties after a cursor). */
static void model_page_add(const redisReply *reply, const char *below, size_t limit, json_t *ids,
			   struct model_cursor *positions)
{
	for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i + 1 < reply->elements; i += 2) {
		const redisReply *m = reply->element[i], *sc = reply->element[i + 1];
		size_t n = json_array_size(ids);
		if (n >= limit)
			return;
		if (m->type != REDIS_REPLY_STRING || m->len != ID_LEN || sc->type != REDIS_REPLY_STRING)
			continue;
		if (below && strcmp(m->str, below) >= 0)
			continue;
		positions[n].score = strtoll(sc->str, NULL, 10); /* skiff's scores are whole ms */
		memcpy(positions[n].id, m->str, ID_LEN + 1);
		json_array_append_new(ids, json_stringn(m->str, m->len));
	}
}

int model_deployment_page(struct redis *r, const char *slug, const struct model_cursor *after,
			  size_t limit, json_t **ids, struct model_cursor *positions,
			  struct error *err)
{
	char key[REDIS_KEY_MAX], max[32], count[24];
	redis_key(r, key, "project:%s:deployments", slug);
	json_t *page = json_array();
	redisReply *reply = NULL;
	int rc = 0;
	snprintf(max, sizeof(max), "+inf");
	if (after) {
		/* the rest of the cursor's score first: ties are ordered by id, descending */
		snprintf(max, sizeof(max), "%lld", after->score);
		snprintf(count, sizeof(count), "%d", MODEL_PAGE_TIES_MAX);
		reply = redis_cmd(r, err, "ZREVRANGEBYSCORE %s %s %s WITHSCORES LIMIT 0 %s", key, max,
				  max, count);
		if (!reply) {
			rc = err ? err->code : SKIFF_EREDIS;
			goto out;
		}
		model_page_add(reply, after->id, limit, page, positions);
		freeReplyObject(reply);
		reply = NULL;
		snprintf(max, sizeof(max), "(%lld", after->score);
	}
	if (json_array_size(page) < limit) {
		snprintf(count, sizeof(count), "%zu", limit - json_array_size(page));
		reply = redis_cmd(r, err, "ZREVRANGEBYSCORE %s %s -inf WITHSCORES LIMIT 0 %s", key,
				  max, count);
		if (!reply) {
			rc = err ? err->code : SKIFF_EREDIS;
			goto out;
		}
		model_page_add(reply, NULL, limit, page, positions);
	}
out:
	freeReplyObject(reply);
	if (rc < 0)
		json_decref(page);
	else
		*ids = page;
	return rc;
}

int model_deployment_update(struct redis *r, const char *id, json_t *fields, struct error *err)
{
	char key[REDIS_KEY_MAX];
	redis_key(r, key, "deployment:%s", id);
	json_t *strings = json_object();
	const char *k;
	json_t *v;
	json_object_foreach(fields, k, v)
		if (json_is_string(v))
			json_object_set(strings, k, v);
	int rc = 0;
	if (json_object_size(strings) > 0) {
		char *fj = model_json(strings);
		const char *args[] = { key, fj };
		rc = model_eval(r, model_lua_update, 1, 2, args, "deployment", "conflict", err);
		free(fj);
	}
	json_decref(strings);
	return rc;
}

int model_deployment_state(struct redis *r, const char *id, const char *state, const char *phase,
			   json_t *fields, struct error *err)
{
	char kd[REDIS_KEY_MAX], kl[REDIS_KEY_MAX], ke[REDIS_KEY_MAX], now[24], maxlen[24];
	redis_key(r, kd, "deployment:%s", id);
	redis_key(r, kl, "log:%s", id);
	redis_key(r, ke, "events:%s", id);
	snprintf(now, sizeof(now), "%lld", model_now_ms());
	char *fj = model_json(fields);
	const char *args[] = { kd, kl, ke, state, phase ? phase : "", now, model_maxlen(r, maxlen), fj };
	int rc = model_eval(r, model_lua_state, 3, 8, args, "deployment", "already_finished", err);
	if (rc == SKIFF_ECONFLICT)
		error_set(err, SKIFF_ECONFLICT, "already_finished",
			  "deployment %s has already finished", id);
	free(fj);
	return rc;
}

int model_deployment_promote(struct redis *r, const char *id, json_t *fields, struct error *err)
{
	json_t *d = NULL;
	int rc = model_deployment_get(r, id, &d, err);
	if (rc < 0)
		return rc;
	const char *slug = json_string_value(json_object_get(d, "project"));
	if (!slug) {
		json_decref(d);
		return error_set(err, SKIFF_EINTERNAL, NULL, "deployment %s has no project", id);
	}
	char kd[REDIS_KEY_MAX], kl[REDIS_KEY_MAX], ke[REDIS_KEY_MAX], kp[REDIS_KEY_MAX], now[24],
		maxlen[24];
	redis_key(r, kd, "deployment:%s", id);
	redis_key(r, kl, "log:%s", id);
	redis_key(r, ke, "events:%s", id);
	redis_key(r, kp, "project:%s", slug);
	json_decref(d);
	snprintf(now, sizeof(now), "%lld", model_now_ms());
	char *fj = model_json(fields);
	const char *args[] = { kd, kl, ke, kp, id, now, model_maxlen(r, maxlen), fj };
	rc = model_eval(r, model_lua_promote, 4, 8, args, "deployment", "already_finished", err);
	free(fj);
	return rc;
}

int model_log_append(struct redis *r, const char *id, const char *source, const char *text,
		     size_t len, struct error *err)
{
	char kl[REDIS_KEY_MAX], ke[REDIS_KEY_MAX], kd[REDIS_KEY_MAX], maxlen[24];
	redis_key(r, kl, "log:%s", id);
	redis_key(r, ke, "events:%s", id);
	redis_key(r, kd, "deployment:%s", id);
	char line[LOG_LINE_MAX + 32];
	if (len > LOG_LINE_MAX) {
		size_t cut = LOG_LINE_MAX;
		/* never cut inside a UTF-8 sequence */
		while (cut > 0 && ((unsigned char)text[cut] & 0xC0) == 0x80)
			cut--;
		memcpy(line, text, cut);
		memcpy(line + cut, " [line cut]", 12);
	} else {
		memcpy(line, text, len);
		line[len] = '\0';
	}
	const char *args[] = { kl, ke, kd, source, line, model_maxlen(r, maxlen) };
	return model_eval(r, model_lua_log, 3, 6, args, "deployment", "conflict", err);
}

static const char *model_field(redisReply *fields, const char *name, size_t *len)
{
	for (size_t i = 0; i + 1 < fields->elements; i += 2) {
		redisReply *k = fields->element[i];
		if (k->type == REDIS_REPLY_STRING && strlen(name) == k->len &&
		    !memcmp(k->str, name, k->len)) {
			*len = fields->element[i + 1]->len;
			return fields->element[i + 1]->str;
		}
	}
	*len = 0;
	return "";
}

int model_log_read(struct redis *r, const char *id, struct buf *out, struct error *err)
{
	char key[REDIS_KEY_MAX], start[48] = "-";
	redis_key(r, key, "log:%s", id);
	for (;;) {
		redisReply *reply = redis_cmd(r, err, "XRANGE %s %s + COUNT 1000", key, start);
		if (!reply)
			return err ? err->code : SKIFF_EREDIS;
		size_t n = reply->type == REDIS_REPLY_ARRAY ? reply->elements : 0;
		for (size_t i = 0; i < n; i++) {
			redisReply *e = reply->element[i];
			if (e->type != REDIS_REPLY_ARRAY || e->elements != 2)
				continue;
			size_t kl, ml;
			const char *k = model_field(e->element[1], "k", &kl);
			const char *m = model_field(e->element[1], "m", &ml);
			if (kl == 4 && !memcmp(k, "line", 4)) {
				buf_append(out, m, ml);
				buf_putc(out, '\n');
			} else if (kl == 5 && !memcmp(k, "state", 5)) {
				buf_puts(out, "==> ");
				buf_append(out, m, ml);
				buf_putc(out, '\n');
			}
			if (i == n - 1)
				snprintf(start, sizeof(start), "(%.*s", (int)e->element[0]->len,
					 e->element[0]->str);
		}
		freeReplyObject(reply);
		if (out->err)
			return error_set(err, SKIFF_ELIMIT, NULL, "log larger than %zu bytes", out->max);
		if (n < 1000)
			return 0;
	}
}

int model_queue_pop(struct redis *r, double timeout_s, char id[ID_LEN + 1], struct error *err)
{
	char kq[REDIS_KEY_MAX], ka[REDIS_KEY_MAX], t[32];
	redis_key(r, kq, "queue");
	redis_key(r, ka, "queue:active");
	/* the block must end before the connection's read timeout does */
	double limit = (double)(redis_config(r)->redis_timeout_ms - 100) / 1000.0;
	if (timeout_s > limit)
		timeout_s = limit > 0.01 ? limit : 0.01;
	snprintf(t, sizeof(t), "%.3f", timeout_s);
	id[0] = '\0';
	redisReply *reply = redis_cmd(r, err, "BLMOVE %s %s RIGHT LEFT %s", kq, ka, t);
	if (!reply)
		return err ? err->code : SKIFF_EREDIS;
	int rc = 0;
	if (reply->type == REDIS_REPLY_STRING) {
		if (reply->len == ID_LEN) {
			memcpy(id, reply->str, ID_LEN + 1);
		} else {
			/* not an id skiff wrote: drop it from active rather than loop on it */
			log_warn("queue entry is not a deployment id; dropped entry=\"%.*s\"",
				 (int)(reply->len > 64 ? 64 : reply->len), reply->str);
			redisReply *x = redis_cmd(r, NULL, "LREM %s 1 %b", ka, reply->str, reply->len);
			freeReplyObject(x);
		}
	}
	freeReplyObject(reply);
	return rc;
}

int model_queue_done(struct redis *r, const char *id, struct error *err)
{
	char ka[REDIS_KEY_MAX];
	redis_key(r, ka, "queue:active");
	redisReply *reply = redis_cmd(r, err, "LREM %s 0 %s", ka, id);
	if (!reply)
		return err ? err->code : SKIFF_EREDIS;
	freeReplyObject(reply);
	return 0;
}

int model_queue_active(struct redis *r, json_t **ids, struct error *err)
{
	char ka[REDIS_KEY_MAX];
	redis_key(r, ka, "queue:active");
	redisReply *reply = redis_cmd(r, err, "LRANGE %s 0 -1", ka);
	if (!reply)
		return err ? err->code : SKIFF_EREDIS;
	json_t *arr = redis_reply_strings(reply);
	freeReplyObject(reply);
	*ids = arr;
	return 0;
}

int model_lease_renew(struct redis *r, const char *id, long ttl_s, struct error *err)
{
	char key[REDIS_KEY_MAX];
	redis_key(r, key, "lease:%s", id);
	redisReply *reply = redis_cmd(r, err, "SET %s %d EX %ld", key, (int)getpid(), ttl_s);
	if (!reply)
		return err ? err->code : SKIFF_EREDIS;
	freeReplyObject(reply);
	return 0;
}

int model_lease_alive(struct redis *r, const char *id, struct error *err)
{
	char key[REDIS_KEY_MAX];
	redis_key(r, key, "lease:%s", id);
	redisReply *reply = redis_cmd(r, err, "EXISTS %s", key);
	if (!reply)
		return err ? err->code : SKIFF_EREDIS;
	int alive = reply->type == REDIS_REPLY_INTEGER && reply->integer == 1;
	freeReplyObject(reply);
	return alive;
}

int model_lease_drop(struct redis *r, const char *id, struct error *err)
{
	char key[REDIS_KEY_MAX];
	redis_key(r, key, "lease:%s", id);
	redisReply *reply = redis_cmd(r, err, "DEL %s", key);
	if (!reply)
		return err ? err->code : SKIFF_EREDIS;
	freeReplyObject(reply);
	return 0;
}
