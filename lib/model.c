/* model.c — the records of the Redis data model: projects and deployments, created, read,
 * changed and promoted, with every multi-key write done by one Lua script. */
#include "model.h"
#include "clock.h"
#include "model_env.h"
#include "model_record.h"
#include "model_repo.h"
#include "model_script.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* KEYS: project, projects, deployment, project deployments, queue, log, events, env, repo
 * ARGV: slug, id, now, maxlen, np, nd, nr, then np project field/value pairs, nd deployment
 * pairs, nr repository pairs and the variables' name/stored-form pairs (flat lists: the hot
 * path of every create, no JSON decoding in Redis) */
static const char model_lua_project_create[] =
	"if redis.call('EXISTS', KEYS[1]) == 1 then return -3 end "
	"local np = tonumber(ARGV[5]) local nd = tonumber(ARGV[6]) local nr = tonumber(ARGV[7]) "
	"local d0 = 8 + 2 * np local r0 = d0 + 2 * nd local e0 = r0 + 2 * nr "
	"redis.call('HSET', KEYS[1], unpack(ARGV, 8, d0 - 1)) "
	"redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1]) "
	"redis.call('HSET', KEYS[3], unpack(ARGV, d0, r0 - 1)) "
	"redis.call('DEL', KEYS[8], KEYS[9]) "
	"if nr > 0 then redis.call('HSET', KEYS[9], unpack(ARGV, r0, e0 - 1)) end "
	"if #ARGV >= e0 then redis.call('HSET', KEYS[8], unpack(ARGV, e0, #ARGV)) end "
	"redis.call('ZADD', KEYS[4], ARGV[3], ARGV[2]) "
	"local eid = redis.call('XADD', KEYS[6], 'MAXLEN', '~', ARGV[4], '*', 'k', 'state', "
	"'s', 'system', 'm', 'queued') "
	"redis.call('LPUSH', KEYS[5], ARGV[2]) "
	"redis.call('PUBLISH', KEYS[7], eid) "
	"return eid";

/* KEYS: project, deployment, project deployments, queue, log, events
 * ARGV: id, now, maxlen, deployment json */
static const char model_lua_deployment_create[] = MODEL_LUA_HSET
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
static const char model_lua_update[] = MODEL_LUA_HSET
	"if redis.call('EXISTS', KEYS[1]) == 0 then return -2 end "
	"hset(KEYS[1], ARGV[1]) "
	"return redis.status_reply('OK')";

/* KEYS: deployment, log, events
 * ARGV: state, phase, now, maxlen, fields json */
static const char model_lua_state[] = MODEL_LUA_HSET MODEL_LUA_FINAL MODEL_LUA_NOTIFY
	"local cur = redis.call('HGET', KEYS[1], 'state') "
	"if not cur then return -2 end "
	"if final[cur] then return -3 end "
	"hset(KEYS[1], ARGV[5]) "
	"redis.call('HSET', KEYS[1], 'state', ARGV[1], 'phase', ARGV[2]) "
	"if cur ~= ARGV[1] then notify(KEYS[1], ARGV[1], ARGV[3]) end "
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
 * ARGV: id, now, maxlen, fields json, deployment key prefix. A build going live ends an
 * earlier rollback: the project's rolled_back_* fields go with it. A build whose clone
 * ("cloned", ms) is older than production's (its "cloned", else "created") ends ready without
 * going live, unless it is the same commit or descends from it ("descends_from" names
 * production's id, checked by the clone): two builds of a branch finishing out of order, or a
 * replayed push, never put an older commit back. Rollback is the way back
 * (model_lifecycle.h). ARGV[6], when not empty, is the build's claim token: a build whose
 * claim was taken over (model_queue.h) does not promote (-4). A preview deployment ("preview"
 * names its key) never touches production: by the same rule it becomes the "current" of its
 * preview record (project:{slug}:preview:{key}), if that record still exists for its branch
 * (a closed pull request's preview does not come back). */
static const char model_lua_promote[] = MODEL_LUA_HSET MODEL_LUA_FINAL MODEL_LUA_NOTIFY
	"local cur = redis.call('HGET', KEYS[1], 'state') "
	"if not cur then return -2 end "
	"if cur == 'canceled' then return -16 end "
	"if final[cur] then return -3 end "
	"if ARGV[6] ~= '' and redis.call('HGET', KEYS[1], 'claim') ~= ARGV[6] then return -4 end "
	"if redis.call('EXISTS', KEYS[4]) == 0 then return -2 end "
	"hset(KEYS[1], ARGV[4]) "
	"redis.call('HSET', KEYS[1], 'state', 'ready', 'phase', '', 'finished', ARGV[2]) "
	"local pv = redis.call('HGET', KEYS[1], 'preview') "
	"local target = KEYS[4] "
	"if pv and pv ~= '' then target = KEYS[4] .. ':preview:' .. pv end "
	"local live = redis.call('HGET', target, 'current') "
	"local mine = tonumber(redis.call('HGET', KEYS[1], 'cloned')) "
	"local stale = false "
	"if live and live ~= '' and live ~= ARGV[1] and mine and "
	"   redis.call('HGET', KEYS[1], 'descends_from') ~= live then "
	"  local v = redis.call('HMGET', ARGV[5] .. live, 'cloned', 'created', 'commit') "
	"  local theirs = tonumber(v[1]) or tonumber(v[2]) "
	"  stale = theirs ~= nil and theirs > mine and "
	"    v[3] ~= redis.call('HGET', KEYS[1], 'commit') "
	"  if stale then "
	"    redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'k', 'line', 's', 'system', "
	"    'm', 'Not made current: ' .. (target == KEYS[4] and 'production' or 'the preview') .. "
	"    ' (' .. live .. ') serves ' .. "
	"    string.sub(tostring(v[3] or '?'), 1, 12) .. ', cloned after this build; roll back to "
	"use this one') "
	"  end "
	"end "
	"if target ~= KEYS[4] then "
	"  if redis.call('HGET', target, 'branch') ~= redis.call('HGET', KEYS[1], 'branch') then "
	"    redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'k', 'line', 's', 'system', "
	"    'm', 'The preview ' .. pv .. ' was closed: this deployment keeps only its own address') "
	"  elseif not stale then "
	"    redis.call('HSET', target, 'current', ARGV[1], 'updated', ARGV[2]) "
	"  end "
	"elseif not stale and redis.call('HGET', KEYS[4], 'pinned') ~= '1' then "
	"  redis.call('HSET', KEYS[4], 'current', ARGV[1]) "
	"  redis.call('HDEL', KEYS[4], 'rolled_back_from', 'rolled_back_at', 'rolled_back_by') "
	"end "
	"notify(KEYS[1], 'ready', ARGV[2]) "
	"redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'k', 'state', 's', 'system', "
	"'m', 'ready') "
	"local eid = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'k', 'end', "
	"'s', 'system', 'm', 'ready') "
	"redis.call('PUBLISH', KEYS[3], eid) "
	"return eid";

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

int model_project_create_full(struct redis *r, const struct project *p,
			      const struct deployment *d, const struct env_list *env,
			      const struct repo_access *repo, struct error *err)
{
	const char *slug = p->slug, *id = d->id;
	if (!slug[0] || !id[0])
		return error_set(err, SKIFF_EINTERNAL, NULL, "project create without slug or id");
	json_t *project = model_record_project_fields(p), *deployment = model_record_deployment_fields(d);
	json_t *access = repo ? model_repo_fields_all(repo) : json_object();
	char kp[REDIS_KEY_MAX], kps[REDIS_KEY_MAX], kd[REDIS_KEY_MAX], kpd[REDIS_KEY_MAX],
		kq[REDIS_KEY_MAX], kl[REDIS_KEY_MAX], ke[REDIS_KEY_MAX], kv[REDIS_KEY_MAX],
		kr[REDIS_KEY_MAX], now[24], maxlen[24];
	redis_key(r, kp, "project:%s", slug);
	redis_key(r, kps, "projects");
	redis_key(r, kd, "deployment:%s", id);
	redis_key(r, kpd, "project:%s:deployments", slug);
	redis_key(r, kq, "queue");
	redis_key(r, kl, "log:%s", id);
	redis_key(r, ke, "events:%s", id);
	redis_key(r, kv, "project:%s:env", slug);
	redis_key(r, kr, "project:%s:repo", slug);
	snprintf(now, sizeof(now), "%lld", clock_wall_ms());
	enum { FIXED = 16, PAIRS_MAX = 24, REPO_PAIRS_MAX = 16 };
	size_t nenv = env ? env->n : 0;
	const char **args = calloc(FIXED + 4 * PAIRS_MAX + 2 * REPO_PAIRS_MAX + 2 * nenv,
				   sizeof(*args));
	char **owned = calloc(nenv + 1, sizeof(*owned));
	if (!args || !owned)
		abort();
	const char *fixed[FIXED] = { kp, kps, kd, kpd, kq, kl, ke, kv, kr, slug, id, now,
				     model_script_maxlen(r, maxlen) };
	memcpy(args, fixed, sizeof(fixed));
	char np[16], nd[16], nr[16];
	int n = FIXED;
	int pairs = model_pairs(project, args, &n, FIXED + 2 * PAIRS_MAX);
	int dpairs = pairs ? model_pairs(deployment, args, &n, FIXED + 4 * PAIRS_MAX) : 0;
	int rpairs = model_pairs(access, args, &n, FIXED + 4 * PAIRS_MAX + 2 * REPO_PAIRS_MAX);
	snprintf(np, sizeof(np), "%d", pairs);
	snprintf(nd, sizeof(nd), "%d", dpairs);
	snprintf(nr, sizeof(nr), "%d", rpairs);
	args[FIXED - 3] = np;
	args[FIXED - 2] = nd;
	args[FIXED - 1] = nr;
	int rc;
	if (pairs == 0 || dpairs == 0) {
		rc = error_set(err, SKIFF_EINTERNAL, NULL, "project or deployment without fields");
		goto out;
	}
	model_env_pairs(env, args, &n, owned);
	rc = model_script_run(r, model_lua_project_create, 9, n, args, "project", "slug_taken", err);
	if (rc == SKIFF_ECONFLICT)
		error_set(err, SKIFF_ECONFLICT, "slug_taken", "the slug '%s' is already taken", slug);
out:
	for (size_t i = 0; i < nenv; i++)
		free(owned[i]);
	free(owned);
	free(args);
	json_decref(project);
	json_decref(deployment);
	json_decref(access);
	return rc;
}

int model_project_create_env(struct redis *r, const struct project *p,
			     const struct deployment *d, const struct env_list *env,
			     struct error *err)
{
	return model_project_create_full(r, p, d, env, NULL, err);
}

int model_project_create(struct redis *r, const struct project *p, const struct deployment *d,
			 struct error *err)
{
	return model_project_create_full(r, p, d, NULL, NULL, err);
}

int model_deployment_create(struct redis *r, const char *slug, const struct deployment *d,
			    struct error *err)
{
	const char *id = d->id;
	if (!id[0])
		return error_set(err, SKIFF_EINTERNAL, NULL, "deployment create without id");
	json_t *deployment = model_record_deployment_fields(d);
	char kp[REDIS_KEY_MAX], kd[REDIS_KEY_MAX], kpd[REDIS_KEY_MAX], kq[REDIS_KEY_MAX],
		kl[REDIS_KEY_MAX], ke[REDIS_KEY_MAX], now[24], maxlen[24];
	redis_key(r, kp, "project:%s", slug);
	redis_key(r, kd, "deployment:%s", id);
	redis_key(r, kpd, "project:%s:deployments", slug);
	redis_key(r, kq, "queue");
	redis_key(r, kl, "log:%s", id);
	redis_key(r, ke, "events:%s", id);
	snprintf(now, sizeof(now), "%lld", clock_wall_ms());
	char *dj = model_script_json(deployment);
	json_decref(deployment);
	const char *args[] = { kp, kd, kpd, kq, kl, ke, id, now, model_script_maxlen(r, maxlen), dj };
	int rc = model_script_run(r, model_lua_deployment_create, 6, 10, args, "project", "conflict", err);
	free(dj);
	return rc;
}

/* HGETALL key into *reply; SKIFF_ENOTFOUND ("<what> not found") when there is no record. */
static int model_hgetall(struct redis *r, const char *key, const char *what, redisReply **reply,
			 struct error *err)
{
	*reply = redis_cmd(r, err, "HGETALL %s", key);
	if (!*reply)
		return model_script_failed(err);
	if ((*reply)->type != REDIS_REPLY_ARRAY || (*reply)->elements == 0) {
		freeReplyObject(*reply);
		*reply = NULL;
		return error_set(err, SKIFF_ENOTFOUND, NULL, "%s not found", what);
	}
	return 0;
}

void model_project_init(struct project *p)
{
	model_record_project_init(p);
}

void model_deployment_init(struct deployment *d)
{
	model_record_deployment_init(d);
}

void model_preview_init(struct preview *p)
{
	model_record_preview_init(p);
}

int model_project_get(struct redis *r, const char *slug, struct project *out,
		      struct error *err)
{
	char key[REDIS_KEY_MAX];
	redisReply *reply;
	redis_key(r, key, "project:%s", slug);
	int rc = model_hgetall(r, key, "project", &reply, err);
	if (rc < 0)
		return rc;
	model_record_project_load(out, reply);
	freeReplyObject(reply);
	return 0;
}

int model_deployment_get(struct redis *r, const char *id, struct deployment *out,
			 struct error *err)
{
	char key[REDIS_KEY_MAX];
	redisReply *reply;
	redis_key(r, key, "deployment:%s", id);
	int rc = model_hgetall(r, key, "deployment", &reply, err);
	if (rc < 0)
		return rc;
	model_record_deployment_load(out, reply);
	freeReplyObject(reply);
	return 0;
}

int model_project_current(struct redis *r, const char *slug, char out[ID_LEN + 1],
			  struct error *err)
{
	char key[REDIS_KEY_MAX];
	redis_key(r, key, "project:%s", slug);
	redisReply *reply = redis_cmd(r, err, "HGET %s current", key);
	if (!reply)
		return model_script_failed(err);
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
		return model_script_failed(err);
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

int model_project_all(struct redis *r, json_t **slugs, struct error *err)
{
	char key[REDIS_KEY_MAX];
	redis_key(r, key, "projects");
	redisReply *reply = redis_cmd(r, err, "ZRANGE %s 0 -1", key);
	if (!reply)
		return model_script_failed(err);
	*slugs = redis_reply_strings(reply);
	freeReplyObject(reply);
	return 0;
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
			rc = model_script_failed(err);
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
			rc = model_script_failed(err);
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

int model_deployment_status(struct redis *r, const char *id, enum deployment_state *state,
			    char phase[MODEL_PHASE_MAX + 1], struct error *err)
{
	char key[REDIS_KEY_MAX];
	redis_key(r, key, "deployment:%s", id);
	*state = DEPLOYMENT_UNKNOWN;
	if (phase)
		phase[0] = '\0';
	redisReply *reply = redis_cmd(r, err, "HMGET %s state phase", key);
	if (!reply)
		return model_script_failed(err);
	int exists = 0;
	if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
	    reply->element[0]->type == REDIS_REPLY_STRING) {
		exists = 1;
		*state = model_state_parse(reply->element[0]->str, reply->element[0]->len);
		const redisReply *ph = reply->element[1];
		if (phase && ph->type == REDIS_REPLY_STRING && ph->len <= MODEL_PHASE_MAX)
			memcpy(phase, ph->str, ph->len + 1);
	}
	freeReplyObject(reply);
	return exists;
}

int model_deployment_cancel_requested(struct redis *r, const char *id, struct error *err)
{
	char key[REDIS_KEY_MAX];
	redis_key(r, key, "deployment:%s", id);
	redisReply *reply = redis_cmd(r, err, "HEXISTS %s cancel_requested", key);
	if (!reply)
		return model_script_failed(err);
	int requested = reply->type == REDIS_REPLY_INTEGER && reply->integer == 1;
	freeReplyObject(reply);
	return requested;
}

int model_deployment_update(struct redis *r, const char *id, const struct deployment *change,
			    unsigned set, struct error *err)
{
	char key[REDIS_KEY_MAX];
	redis_key(r, key, "deployment:%s", id);
	json_t *fields = model_record_deployment_change(change, set);
	int rc = 0;
	if (json_object_size(fields) > 0) {
		char *fj = model_script_json(fields);
		const char *args[] = { key, fj };
		rc = model_script_run(r, model_lua_update, 1, 2, args, "deployment", "conflict", err);
		free(fj);
	}
	json_decref(fields);
	return rc;
}

int model_deployment_state(struct redis *r, const char *id, enum deployment_state state,
			   const char *phase, const struct deployment *change, unsigned set,
			   struct error *err)
{
	assert(state != DEPLOYMENT_UNKNOWN);
	json_t *fields = model_record_deployment_change(change, set);
	char kd[REDIS_KEY_MAX], kl[REDIS_KEY_MAX], ke[REDIS_KEY_MAX], now[24], maxlen[24];
	redis_key(r, kd, "deployment:%s", id);
	redis_key(r, kl, "log:%s", id);
	redis_key(r, ke, "events:%s", id);
	snprintf(now, sizeof(now), "%lld", clock_wall_ms());
	char *fj = model_script_json(fields);
	json_decref(fields);
	const char *args[] = { kd, kl, ke, model_state_name(state), phase ? phase : "", now,
			       model_script_maxlen(r, maxlen), fj };
	int rc = model_script_run(r, model_lua_state, 3, 8, args, "deployment", "already_finished", err);
	if (rc == SKIFF_ECONFLICT)
		error_set(err, SKIFF_ECONFLICT, "already_finished",
			  "deployment %s has already finished", id);
	free(fj);
	return rc;
}

int model_deployment_promote(struct redis *r, const char *id, const struct deployment *change,
			     unsigned set, struct error *err)
{
	return model_deployment_promote_claimed(r, id, "", change, set, err);
}

int model_deployment_promote_claimed(struct redis *r, const char *id, const char *claim,
				     const struct deployment *change, unsigned set,
				     struct error *err)
{
	struct deployment *d = malloc(sizeof(*d));
	if (!d)
		abort();
	int rc = model_deployment_get(r, id, d, err);
	if (rc < 0) {
		free(d);
		return rc;
	}
	char slug[SLUG_MAX + 1];
	memcpy(slug, d->project, sizeof(slug));
	free(d);
	if (!slug[0])
		return error_set(err, SKIFF_EINTERNAL, NULL, "deployment %s has no project", id);
	char kd[REDIS_KEY_MAX], kl[REDIS_KEY_MAX], ke[REDIS_KEY_MAX], kp[REDIS_KEY_MAX], now[24],
		maxlen[24], kdp[REDIS_KEY_MAX];
	redis_key(r, kd, "deployment:%s", id);
	redis_key(r, kdp, "deployment:");
	redis_key(r, kl, "log:%s", id);
	redis_key(r, ke, "events:%s", id);
	redis_key(r, kp, "project:%s", slug);
	snprintf(now, sizeof(now), "%lld", clock_wall_ms());
	json_t *fields = model_record_deployment_change(change, set);
	char *fj = model_script_json(fields);
	json_decref(fields);
	const char *args[] = { kd, kl, ke, kp, id, now, model_script_maxlen(r, maxlen), fj, kdp,
			       claim };
	redisReply *reply = NULL;
	rc = model_script_reply(r, model_lua_promote, 4, 10, args, &reply, err);
	free(fj);
	if (rc < 0)
		return rc;
	if (reply->type == REDIS_REPLY_INTEGER && reply->integer == -4)
		rc = error_set(err, SKIFF_ECONFLICT, "claim_lost",
			       "deployment %s was taken over by another build run", id);
	else
		rc = model_script_result(reply, "deployment", "already_finished", err);
	freeReplyObject(reply);
	return rc;
}

